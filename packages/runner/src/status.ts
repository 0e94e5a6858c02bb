// `kfm-migrate status`: the registry joined with what each store says — the ledger state of every bundle
// (applied, started = an incomplete non-transactional run, rollback_failed), drift of what an applied
// bundle touched, whether the bundle's receipts match the store's ledger, and who holds each store's lease.
import path from 'node:path';
import {
  ExitCode,
  exitCodeFor,
  loadDeclaration,
  type Issue,
  type LeaseHolder,
  type StoreSession,
} from '@kfm/migration-contracts';
import { loadAdapter } from './adapters.js';
import { resolveConnection } from './connection.js';
import { driftFrom, latestApplied } from './drift.js';
import { findMigrationsRoot, loadRegistry } from './migrations-registry.js';
import { compareWithStore } from './verify.js';

export interface BundleStatus {
  migration_id: string;
  type: string;
  status: string;
  path: string;
  ledger: string;
  /** Objects the apply touched that changed since its POST (applied bundles); null when not checked. */
  drift: number | null;
  /** The bundle's receipts against the store's ledger. */
  evidence: 'match' | 'mismatch' | 'unreachable' | 'not_checked';
  note?: string;
}

export interface StatusResult {
  status: 'passed' | 'failed';
  exit_code: ExitCode;
  issues: Issue[];
  migrations: BundleStatus[];
  locks: Record<string, LeaseHolder | null | 'unreachable'>;
}

export async function storeStatus(
  root: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<StatusResult> {
  const migrationsRoot = (await findMigrationsRoot(path.join(root, 'migrations'))) ?? path.join(root, 'migrations');
  const loaded = await loadRegistry(migrationsRoot);
  if (!loaded.ok)
    return {
      status: 'failed',
      exit_code: exitCodeFor(loaded.issues),
      issues: loaded.issues,
      migrations: [],
      locks: {},
    };
  const sessions = new Map<string, StoreSession | null>();
  const sessionFor = async (type: string): Promise<StoreSession | null> => {
    if (sessions.has(type)) return sessions.get(type) ?? null;
    const adapter = await loadAdapter(type);
    const connection = adapter ? resolveConnection(adapter, undefined, env) : undefined;
    const session =
      adapter && connection?.ok
        ? await adapter.connect(connection.values, { applicationName: 'kfm-migrate status' }).catch(() => null)
        : null;
    sessions.set(type, session);
    return session;
  };
  const migrations: BundleStatus[] = [];
  try {
    for (const entry of loaded.registry.migrations) {
      const session = await sessionFor(entry.type);
      const bundleDir = path.join(migrationsRoot, entry.path);
      const row: BundleStatus = {
        migration_id: entry.migration_id,
        type: entry.type,
        status: entry.status,
        path: entry.path,
        ledger: 'unknown',
        drift: null,
        evidence: 'not_checked',
      };
      if (session) {
        const ledger = await session.ledgerState(entry.migration_id).catch(() => undefined);
        row.ledger = ledger?.state ?? 'unknown';
        if (ledger?.state === 'started') row.note = 'an interrupted non-transactional run: run kfm-migrate rollback';
        if (ledger?.state === 'rollback_failed')
          row.note = 'the last rollback failed: fix the rollback script and run kfm-migrate rollback again';
        if (ledger?.state === 'applied') {
          const applied = await latestApplied(bundleDir);
          if (applied?.post && applied.summary) {
            const declaration = await loadDeclaration(bundleDir);
            const live = await session
              .captureBaseline({
                ...(declaration.ok ? { declaration: declaration.declaration } : {}),
                like: applied.post,
              })
              .catch(() => undefined);
            if (live) row.drift = driftFrom({ post: applied.post, summary: applied.summary }, live).length;
          }
        }
        const compared = await compareWithStore(bundleDir, env);
        row.evidence = compared.status;
        if (compared.status === 'mismatch')
          row.note = [row.note, compared.issues[0]?.message].filter(Boolean).join('; ');
      }
      migrations.push(row);
    }
    const locks: StatusResult['locks'] = {};
    for (const [type, session] of sessions)
      locks[type] = session ? ((await session.lockHolder().catch(() => undefined)) ?? null) : 'unreachable';
    return { status: 'passed', exit_code: ExitCode.Passed, issues: [], migrations, locks };
  } finally {
    for (const session of sessions.values()) await session?.close().catch(() => undefined);
  }
}
