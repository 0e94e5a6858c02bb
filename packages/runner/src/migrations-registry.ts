// The migrations registry (registry/migrations.v1.json): every id ever used, its bundle path and
// an append-only status history. Updated only when a bundle sits under a migrations/ root.
import fs from 'node:fs/promises';
import path from 'node:path';
import { canonicalJson } from '@kfm/receipts';
import { loadArtifact, type Issue, type MigrationsRegistry } from '@kfm/migration-contracts';

export const REGISTRY_FILE = 'registry/migrations.v1.json';
export type RegistryStatus = MigrationsRegistry['migrations'][number]['status'];
export type RegistryEntry = MigrationsRegistry['migrations'][number];

/** The nearest ancestor directory holding registry/migrations.v1.json, if any. */
export async function findMigrationsRoot(from: string): Promise<string | undefined> {
  let dir = path.resolve(from);
  for (;;) {
    try {
      await fs.access(path.join(dir, REGISTRY_FILE));
      return dir;
    } catch {
      const up = path.dirname(dir);
      if (up === dir) return undefined;
      dir = up;
    }
  }
}

export async function loadRegistry(root: string): Promise<{ ok: true; registry: MigrationsRegistry } | { ok: false; issues: Issue[] }> {
  const loaded = await loadArtifact<MigrationsRegistry>(path.join(root, REGISTRY_FILE), 'migrations_registry.v1');
  return loaded.ok ? { ok: true, registry: loaded.value } : loaded;
}

/** Registry files are pretty-printed (reviewed in PRs) with sorted keys, so writes are deterministic. */
export async function saveRegistry(root: string, registry: MigrationsRegistry): Promise<void> {
  const sorted = { ...registry, migrations: [...registry.migrations].sort((a, b) => a.migration_id.localeCompare(b.migration_id)) };
  const text = JSON.stringify(JSON.parse(canonicalJson(sorted)), null, 2) + '\n';
  const file = path.join(root, REGISTRY_FILE);
  const temp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(temp, text);
  await fs.rename(temp, file);
}

/** Appends a status to an entry's history (never rewriting earlier entries). */
export async function appendStatus(root: string, migrationId: string, status: RegistryStatus, detail: { at: string; run_id?: string; environment?: string; note?: string }): Promise<boolean> {
  const loaded = await loadRegistry(root);
  if (!loaded.ok) return false;
  const entry = loaded.registry.migrations.find((m) => m.migration_id === migrationId);
  if (!entry) return false;
  entry.history.push({ status, ...detail });
  entry.status = status;
  await saveRegistry(root, loaded.registry);
  return true;
}
