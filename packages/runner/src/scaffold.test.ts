import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDeclaration } from '@kfm/migration-contracts';
import { postgisAdapter } from '@kfm/baseline-postgis';
import { registerAdapter } from './adapters.js';
import { nextMigrationId, scaffoldBundle } from './scaffold.js';

registerAdapter(postgisAdapter);
import { loadRegistry } from './migrations-registry.js';

describe('nextMigrationId', () => {
  it('takes the next number after every id used that day, never reusing one', () => {
    expect(nextMigrationId('PG', '2026-11-24', [])).toBe('PG-MIG-2026-11-24-01');
    expect(
      nextMigrationId('PG', '2026-11-24', ['PG-MIG-2026-11-24-01', 'PG-MIG-2026-11-24-03', 'PG-MIG-2026-11-23-09']),
    ).toBe('PG-MIG-2026-11-24-04');
    expect(nextMigrationId('GRAPH', '2026-11-24', ['PG-MIG-2026-11-24-05'])).toBe('GRAPH-MIG-2026-11-24-01');
  });
});

describe('scaffoldBundle', () => {
  it('creates a valid bundle, registers it as draft, and never reuses a retired id', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-new-'));
    const now = new Date('2026-11-24T10:00:00Z');
    const first = await scaffoldBundle({ root, type: 'postgis', intent: 'Add an index on parcels', now });
    expect(first.status).toBe('passed');
    expect(first.migration_id).toBe('PG-MIG-2026-11-24-01');
    const loaded = await loadDeclaration(path.join(root, 'migrations/postgis/PG-MIG-2026-11-24-01'));
    expect(loaded.issues).toEqual([]);
    // Remove the bundle but keep its registry entry: the id stays used.
    await fs.rm(path.join(root, 'migrations/postgis/PG-MIG-2026-11-24-01'), { recursive: true });
    const second = await scaffoldBundle({ root, type: 'postgis', intent: 'Another change', now });
    expect(second.migration_id).toBe('PG-MIG-2026-11-24-02');
    const registry = await loadRegistry(path.join(root, 'migrations'));
    expect(registry.ok && registry.registry.migrations.map((m) => [m.migration_id, m.status])).toEqual([
      ['PG-MIG-2026-11-24-01', 'draft'],
      ['PG-MIG-2026-11-24-02', 'draft'],
    ]);
  });

  it('refuses an unknown store type and an empty intent without writing anything', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-new-'));
    const now = new Date('2026-11-24T10:00:00Z');
    expect((await scaffoldBundle({ root, type: 'mysql', intent: 'x', now })).issues[0]?.code).toBe('ARGUMENT_INVALID');
    expect((await scaffoldBundle({ root, type: 'postgis', intent: '  ', now })).issues[0]?.code).toBe(
      'ARGUMENT_INVALID',
    );
    expect(await fs.readdir(root)).toEqual([]);
  });
});
