// The migrations registry (registry/migrations.v1.json): every id ever used, its bundle path, the
// approvals bound to bundle digests and an append-only status history. Concurrent runs from one
// repository update it under an exclusive file lock (proper-lockfile: a lock directory with stale
// detection, so a killed runner never blocks it for long) with read-modify-write and an atomic
// rename: no transition is ever lost. The lock library loads only when the registry is written.
import fs from 'node:fs/promises';
import path from 'node:path';
import { canonicalJson } from '@kfm/receipts';
import { loadArtifact, type Issue, type MigrationsRegistry } from '@kfm/migration-contracts';

export const REGISTRY_FILE = 'registry/migrations.v1.json';
export type RegistryStatus = MigrationsRegistry['migrations'][number]['status'];
export type RegistryEntry = MigrationsRegistry['migrations'][number];
export type Approval = NonNullable<RegistryEntry['approvals']>[number];

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

export async function loadRegistry(
  root: string,
): Promise<{ ok: true; registry: MigrationsRegistry } | { ok: false; issues: Issue[] }> {
  const loaded = await loadArtifact<MigrationsRegistry>(path.join(root, REGISTRY_FILE), 'migrations_registry.v1');
  return loaded.ok ? { ok: true, registry: loaded.value } : loaded;
}

/** Registry files are pretty-printed (reviewed in PRs) with sorted keys, so writes are deterministic. */
function render(registry: MigrationsRegistry): string {
  const sorted = {
    ...registry,
    migrations: [...registry.migrations].sort((a, b) =>
      a.migration_id < b.migration_id ? -1 : a.migration_id > b.migration_id ? 1 : 0,
    ),
  };
  return JSON.stringify(JSON.parse(canonicalJson(sorted)), null, 2) + '\n';
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  await fs.writeFile(temp, text);
  await fs.rename(temp, file);
}

/**
 * Read-modify-write of the registry under an exclusive lock. `change` edits the loaded registry in place
 * and returns a value; the file is rewritten only when `change` returns without throwing.
 */
export async function updateRegistry<T>(
  root: string,
  change: (registry: MigrationsRegistry) => T | Promise<T>,
  create = false,
): Promise<{ ok: true; value: T } | { ok: false; issues: Issue[] }> {
  const file = path.join(root, REGISTRY_FILE);
  await fs.mkdir(path.dirname(file), { recursive: true });
  if (create)
    await fs
      .writeFile(file, render({ kfm_migrations_registry_version: 'v1', migrations: [] }), { flag: 'wx' })
      .catch(() => undefined);
  // Retries with backoff for up to ~30 s; a lock older than 10 s whose holder stopped updating it is stale.
  const { default: lockfile } = await import('proper-lockfile');
  const release = await lockfile.lock(file, {
    realpath: false,
    stale: 10_000,
    update: 2_000,
    retries: { retries: 60, factor: 1.3, minTimeout: 20, maxTimeout: 1_000, randomize: true },
  });
  try {
    const loaded = await loadRegistry(root);
    if (!loaded.ok) return loaded;
    const value = await change(loaded.registry);
    await writeAtomically(file, render(loaded.registry));
    return { ok: true, value };
  } finally {
    await release();
  }
}

/** Appends a status to an entry's history (never rewriting earlier entries). False when the id is not registered. */
export async function appendStatus(
  root: string,
  migrationId: string,
  status: RegistryStatus,
  detail: { at: string; run_id?: string; environment?: string; note?: string; bundle_digest?: string; ref?: string },
): Promise<boolean> {
  const result = await updateRegistry(root, (registry) => {
    const entry = registry.migrations.find((m) => m.migration_id === migrationId);
    if (!entry) return false;
    entry.history.push({ status, ...detail });
    entry.status = status;
    return true;
  });
  return result.ok && result.value;
}
