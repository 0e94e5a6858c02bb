// The store ledger: kfm_ledger.applied, an append-only history of governed runs (started, applied,
// rolled back, rollback failed, receipt rows that head the receipt chain) and kfm_ledger.policy, the
// store-held protected-domain policy. Its own schema is versioned by postgres-migrations from the SQL
// files shipped in ledger-migrations/; no baseline includes it and no migration may touch it.
import { fileURLToPath } from 'node:url';
import type {
  LedgerEntry,
  LedgerRecord,
  LedgerState,
  Policy,
  ReceiptRecord,
  StorePolicy,
} from '@kfm/migration-contracts';
import type { ClientBase } from 'pg';
import { KfmError } from '@kfm/migration-contracts';
import { loadDdlReach } from './resolve.js';

/** The runner's own schema; excluded from every baseline and fingerprint, forbidden to every migration. */
export const LEDGER_SCHEMA = 'kfm_ledger';

export const LEDGER_MIGRATIONS_DIR = fileURLToPath(new URL('../ledger-migrations/', import.meta.url));

/** postgres-migrations' own table definition, created first in our schema (see ensureLedger). */
const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS ${LEDGER_SCHEMA}.migrations (
  id integer PRIMARY KEY, name varchar(100) UNIQUE NOT NULL, hash varchar(40) NOT NULL,
  executed_at timestamp DEFAULT current_timestamp)`;

/**
 * Creates or upgrades the ledger. postgres-migrations names its table `migrations` in the first
 * schema of the search_path, and decides whether it exists by looking in ANY schema — so a user's
 * own `public.migrations` would fool it. Creating ours first (same definition) makes both cases
 * behave the same. The client must not be inside a transaction: each ledger migration runs in its own.
 */
export async function ensureLedger(client: ClientBase): Promise<void> {
  // No DDL when the ledger is there (every run after the first): `CREATE … IF NOT EXISTS` still fires
  // event triggers, which would run whatever function one calls with the runner's role — a superuser's,
  // possibly, and a function a migrator owns. postgres-migrations itself runs no DDL when up to date.
  const [present] = (
    await client.query('SELECT to_regnamespace($1) IS NOT NULL AS schema, to_regclass($2) IS NOT NULL AS migrations', [
      LEDGER_SCHEMA,
      `${LEDGER_SCHEMA}.migrations`,
    ])
  ).rows as { schema: boolean; migrations: boolean }[];
  if (!present?.schema || !present.migrations) {
    // Creating it is DDL: with a role that can leave its session, an event trigger calling a user function
    // would run that function with the role's rights. Refused, as preflight refuses a script's DDL then.
    const catalog = await loadDdlReach(client);
    if (catalog.sessionExit && catalog.eventTriggerCode)
      throw new KfmError({
        code: 'PREFLIGHT_FORBIDDEN',
        message: `the runner's ledger (${LEDGER_SCHEMA}) does not exist yet, and creating it is DDL: ${catalog.eventTriggerCode}, and ${catalog.sessionExit}, so that function would run with those rights. Create the ledger once as a role that cannot leave its session, or with the event trigger disabled.`,
      });
  }
  if (!present?.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${LEDGER_SCHEMA}`);
  if (!present?.migrations) await client.query(MIGRATIONS_TABLE);
  const previous = (
    await client.query(
      `SELECT current_setting('search_path') AS path, set_config('search_path', '${LEDGER_SCHEMA}', false)`,
    )
  ).rows[0] as { path: string };
  try {
    // Loaded here, not on import: it pulls in the pg driver, which commands that never connect
    // (validate, lint without a store) should not pay for.
    const { migrate } = await import('postgres-migrations');
    await migrate({ client: client as never }, LEDGER_MIGRATIONS_DIR);
  } finally {
    await client.query(`SELECT set_config('search_path', $1, false)`, [previous.path]);
  }
}

export async function recordLedgerEntry(client: ClientBase, entry: LedgerEntry): Promise<void> {
  await client.query(
    `INSERT INTO ${LEDGER_SCHEMA}.applied (migration_id, bundle_digest, run_id, status, receipt_digest, pre_fingerprint, resume) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      entry.migration_id,
      entry.bundle_digest,
      entry.run_id,
      entry.status,
      entry.receipt_digest ?? null,
      entry.pre_fingerprint ?? null,
      entry.resume ? JSON.stringify(entry.resume) : null,
    ],
  );
}

/** Appends a 'receipt' row: the receipt chain's new head; no migration's state changes. */
export async function recordReceiptRow(client: ClientBase, record: ReceiptRecord): Promise<void> {
  await client.query(
    `INSERT INTO ${LEDGER_SCHEMA}.applied (migration_id, bundle_digest, run_id, status, receipt_digest) VALUES ($1, $2, $3, 'receipt', $4)`,
    [record.migration_id, record.bundle_digest, record.run_id, record.receipt_digest],
  );
}

async function ledgerExists(client: ClientBase): Promise<boolean> {
  // Reading never creates the ledger (a dry run mutates nothing): no table means nothing recorded.
  const row = (
    await client.query(
      `SELECT to_regclass('${LEDGER_SCHEMA}.applied') IS NOT NULL AS applied, to_regclass('${LEDGER_SCHEMA}.policy') IS NOT NULL AS policy`,
    )
  ).rows[0] as { applied: boolean; policy: boolean };
  return row.applied && row.policy;
}

/** The latest recorded state of one migration, and the newest receipt digest of any migration. */
export async function readLedgerState(client: ClientBase, migrationId: string): Promise<LedgerState> {
  if (!(await ledgerExists(client))) return { state: 'absent', ...(await legacyHead(client)) };
  const { rows } = await client.query(
    `SELECT latest.status, latest.bundle_digest, latest.run_id, latest.pre_fingerprint, latest.resume,
            (SELECT receipt_digest FROM ${LEDGER_SCHEMA}.applied WHERE receipt_digest IS NOT NULL ORDER BY seq DESC LIMIT 1) AS last_receipt_digest
       FROM (SELECT 1) AS one
       LEFT JOIN LATERAL (SELECT status, bundle_digest, run_id, pre_fingerprint, resume FROM ${LEDGER_SCHEMA}.applied
                           WHERE migration_id = $1 AND status <> 'receipt' ORDER BY seq DESC LIMIT 1) AS latest ON true`,
    [migrationId],
  );
  const row = rows[0] as {
    status: LedgerState['state'] | null;
    bundle_digest: string | null;
    run_id: string | null;
    pre_fingerprint: string | null;
    resume: Record<string, string | number> | null;
    last_receipt_digest: string | null;
  };
  const state: LedgerState = { state: row.status ?? 'absent' };
  if (row.bundle_digest) state.bundle_digest = row.bundle_digest;
  if (row.run_id) state.run_id = row.run_id;
  if (row.pre_fingerprint) state.pre_fingerprint = row.pre_fingerprint;
  if (row.resume) state.resume = row.resume;
  if (row.last_receipt_digest) state.last_receipt_digest = row.last_receipt_digest;
  return state;
}

/** A ledger from before migration 003 (read-only callers never upgrade it): only the chain head matters. */
async function legacyHead(client: ClientBase): Promise<Pick<LedgerState, 'last_receipt_digest'>> {
  const exists = (await client.query(`SELECT to_regclass('${LEDGER_SCHEMA}.applied') IS NOT NULL AS present`))
    .rows[0] as { present: boolean };
  if (!exists.present) return {};
  const row = (
    await client.query(
      `SELECT receipt_digest FROM ${LEDGER_SCHEMA}.applied WHERE receipt_digest IS NOT NULL ORDER BY seq DESC LIMIT 1`,
    )
  ).rows[0] as { receipt_digest: string } | undefined;
  return row ? { last_receipt_digest: row.receipt_digest } : {};
}

/** Every ledger row (of one migration, or all), oldest first, plus the policy rows. */
export async function readLedgerHistory(client: ClientBase, migrationId?: string): Promise<LedgerRecord[]> {
  if (!(await ledgerExists(client))) return [];
  const { rows } = await client.query(
    `SELECT seq::text AS seq, migration_id, run_id, status, bundle_digest, receipt_digest, recorded_at
       FROM ${LEDGER_SCHEMA}.applied WHERE $1::text IS NULL OR migration_id = $1 ORDER BY seq`,
    [migrationId ?? null],
  );
  return (
    rows as {
      seq: string;
      migration_id: string;
      run_id: string;
      status: LedgerRecord['status'];
      bundle_digest: string | null;
      receipt_digest: string | null;
      recorded_at: Date;
    }[]
  ).map((row) => ({
    seq: Number(row.seq),
    migration_id: row.migration_id,
    run_id: row.run_id,
    status: row.status,
    ...(row.bundle_digest ? { bundle_digest: row.bundle_digest } : {}),
    ...(row.receipt_digest ? { receipt_digest: row.receipt_digest } : {}),
    recorded_at: row.recorded_at.toISOString(),
  }));
}

export async function readStorePolicy(client: ClientBase): Promise<StorePolicy | undefined> {
  if (!(await ledgerExists(client))) return undefined;
  const row = (
    await client.query(
      `SELECT policy, digest, run_id, recorded_at FROM ${LEDGER_SCHEMA}.policy ORDER BY seq DESC LIMIT 1`,
    )
  ).rows[0] as { policy: Policy; digest: string; run_id: string; recorded_at: Date } | undefined;
  return row
    ? { policy: row.policy, digest: row.digest, run_id: row.run_id, recorded_at: row.recorded_at.toISOString() }
    : undefined;
}

export async function writeStorePolicy(client: ClientBase, policy: StorePolicy): Promise<void> {
  await client.query(`INSERT INTO ${LEDGER_SCHEMA}.policy (policy, digest, run_id) VALUES ($1, $2, $3)`, [
    JSON.stringify(policy.policy),
    policy.digest,
    policy.run_id,
  ]);
}

/**
 * Where a batched run has got to: a new `started` row (the ledger is append-only) with the same PRE
 * fingerprint as the run's first one and the resume point, so `apply --resume` continues after a crash.
 */
export async function recordResumePoint(
  client: ClientBase,
  entry: Pick<LedgerEntry, 'migration_id' | 'bundle_digest' | 'run_id'>,
  resume: Record<string, string | number>,
): Promise<void> {
  await client.query(
    `INSERT INTO ${LEDGER_SCHEMA}.applied (migration_id, bundle_digest, run_id, status, pre_fingerprint, resume)
     SELECT $1, $2, $3, 'started', (SELECT pre_fingerprint FROM ${LEDGER_SCHEMA}.applied WHERE migration_id = $1 AND status = 'started' ORDER BY seq DESC LIMIT 1), $4`,
    [entry.migration_id, entry.bundle_digest, entry.run_id, JSON.stringify(resume)],
  );
}
