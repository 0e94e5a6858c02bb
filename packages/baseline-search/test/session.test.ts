// Lock, ledger, preflight against live aliases, and connection faults on the real cluster.
import { KfmError } from '@kfm/migration-contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedSearch } from '../../../fixtures/seed/search/seed.mjs';
import { connectSearch, searchAdapter, type SearchSession } from '../src/index.js';
import { bundleDeclaration, bundleScript, cleanup, ES_URL, openSession, script, uniquePrefix } from './cluster.js';

const prefix = uniquePrefix();

describe('search session', () => {
  let first: SearchSession;
  let second: SearchSession;
  beforeAll(async () => {
    await seedSearch({ url: ES_URL, prefix, docs: 50 });
    first = await openSession(prefix, { now: () => new Date('2026-03-05T10:00:00.000Z') });
    second = await openSession(prefix);
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await cleanup(prefix);
  });

  it('lets one run hold the lock; a second fails fast naming the holder', async () => {
    expect(await first.lock('kfm-migrate SEARCH-MIG-2026-03-05-01')).toEqual({ acquired: true });
    const refused = await second.lock('kfm-migrate other');
    expect(refused.acquired).toBe(false);
    expect(refused.acquired === false && refused.holder).toMatch(/^kfm-migrate SEARCH-MIG-2026-03-05-01 since 2026-03-05T10:00:00\.000Z/);
    await second.unlock(); // not the holder: must not release the other run's lock
    expect((await second.lock('kfm-migrate other')).acquired).toBe(false);
    await first.unlock();
    expect(await second.lock('kfm-migrate other')).toEqual({ acquired: true });
    await second.unlock();
  });

  it('records the ledger: latest state per migration, history, newest receipt digest', async () => {
    expect(await first.ledgerState('SEARCH-MIG-2026-01-01-01')).toEqual({ state: 'absent' });
    await first.recordLedger({ migration_id: 'SEARCH-MIG-2026-01-01-01', forward_digest: 'bafkreiaaa', run_id: 'r1', status: 'applied', receipt_digest: 'bagaaierareceipt1' });
    await first.recordLedger({ migration_id: 'SEARCH-MIG-2026-01-01-01', forward_digest: 'bafkreiaaa', run_id: 'r2', status: 'rolled_back' });
    expect(await second.ledgerState('SEARCH-MIG-2026-01-01-01')).toEqual({ state: 'rolled_back', forward_digest: 'bafkreiaaa', run_id: 'r2', last_receipt_digest: 'bagaaierareceipt1' });
    expect(await second.ledgerState('SEARCH-MIG-2026-01-01-02')).toEqual({ state: 'absent', last_receipt_digest: 'bagaaierareceipt1' });
  });

  it('fails preflight for a forbidden index, a protected one, and deleting an aliased index', async () => {
    const declaration = await bundleDeclaration(prefix);
    const plan = await script('forward.json', {
      operations: [
        { op: 'create_index', index: `${prefix}parcels_v2` },
        { op: 'reindex', body: { source: { index: `${prefix}authority-sites` }, dest: { index: `${prefix}parcels_v2` } } },
        { op: 'delete_index', index: `${prefix}parcels_v1` },
      ],
    });
    const result = await first.preflight([plan], { ...declaration, transactional: false }, declaration.protected);
    const failed = result.checks.filter((c) => c.status === 'fail');
    expect(failed.map((c) => [c.code, c.pointer])).toEqual([
      ['PREFLIGHT_FORBIDDEN', '/scope/forbidden_indices/0'],
      ['PREFLIGHT_FORBIDDEN', '/approvals/exception_ref'],
      ['PREFLIGHT_FORBIDDEN', '/operations/2'],
    ]);
    expect(failed[2]!.message).toContain(`alias ${prefix}parcels still points to`);
    // the example rollback plan, by contrast, removes the alias before deleting: it passes
    const rollback = await first.preflight([await bundleScript('rollback.json', prefix)], { ...declaration, transactional: false }, declaration.protected);
    expect(rollback.checks.filter((c) => c.status === 'fail')).toEqual([]);
  });

  it('reports an unreachable cluster as STORE_UNREACHABLE without the URL credentials', async () => {
    const error = await searchAdapter.connect({ url: 'http://kfmuser:secret-pw@127.0.0.1:1' }, { applicationName: 'test' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KfmError);
    expect((error as KfmError).code).toBe('STORE_UNREACHABLE');
    const text = `${(error as KfmError).message} ${JSON.stringify((error as KfmError).issue)}`;
    expect(text).not.toContain('secret');
    expect(text).not.toContain('kfmuser');
    expect(text).toContain('127.0.0.1:1');
  });

  it('rejects an unparseable URL without echoing it', async () => {
    const error = await connectSearch('http://user:pa ss@[bad', { applicationName: 'test' }).catch((e: unknown) => e);
    expect((error as KfmError).code).toBe('STORE_UNREACHABLE');
    expect((error as KfmError).message).not.toContain('pa ss');
  });
});
