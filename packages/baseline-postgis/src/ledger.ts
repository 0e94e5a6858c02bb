// The store ledger: kfm_ledger.applied, an append-only history of governed migrations, its own
// schema versioned by postgres-migrations from the SQL files shipped in ledger-migrations/.
import { fileURLToPath } from 'node:url';
import type { LedgerEntry, LedgerState, ReceiptRecord } from '@kfm/migration-contracts';
import type { ClientBase } from 'pg';
import { migrate } from 'postgres-migrations';

/** The runner's own schema; excluded from every baseline and fingerprint. */
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
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${LEDGER_SCHEMA}`);
  await client.query(MIGRATIONS_TABLE);
  const previous = (await client.query(`SELECT current_setting('search_path') AS path, set_config('search_path', '${LEDGER_SCHEMA}', false)`)).rows[0] as { path: string };
  try {
    await migrate({ client: client as never }, LEDGER_MIGRATIONS_DIR);
  } finally {
    await client.query(`SELECT set_config('search_path', $1, false)`, [previous.path]);
  }
}

export async function recordLedgerEntry(client: ClientBase, entry: LedgerEntry): Promise<void> {
  await client.query(
    `INSERT INTO ${LEDGER_SCHEMA}.applied (migration_id, forward_digest, run_id, status, receipt_digest) VALUES ($1, $2, $3, $4, $5)`,
    [entry.migration_id, entry.forward_digest, entry.run_id, entry.status, entry.receipt_digest ?? null],
  );
}

/** Appends a 'receipt' row: the receipt chain's new head; no migration's state changes. */
export async function recordReceiptRow(client: ClientBase, record: ReceiptRecord): Promise<void> {
  await client.query(
    `INSERT INTO ${LEDGER_SCHEMA}.applied (migration_id, forward_digest, run_id, status, receipt_digest) VALUES ($1, $2, $3, 'receipt', $4)`,
    [record.migration_id, record.forward_digest, record.run_id, record.receipt_digest],
  );
}

/** The latest recorded state of one migration, and the newest receipt digest of any migration. */
export async function readLedgerState(client: ClientBase, migrationId: string): Promise<LedgerState> {
  // Reading never creates the ledger (a dry run mutates nothing): no table means nothing recorded.
  const exists = (await client.query(`SELECT to_regclass('${LEDGER_SCHEMA}.applied') IS NOT NULL AS present`)).rows[0] as { present: boolean };
  if (!exists.present) return { state: 'absent' };
  const { rows } = await client.query(
    `SELECT latest.status, latest.forward_digest, latest.run_id,
            (SELECT receipt_digest FROM ${LEDGER_SCHEMA}.applied WHERE receipt_digest IS NOT NULL ORDER BY seq DESC LIMIT 1) AS last_receipt_digest
       FROM (SELECT 1) AS one
       LEFT JOIN LATERAL (SELECT status, forward_digest, run_id FROM ${LEDGER_SCHEMA}.applied WHERE migration_id = $1 AND status <> 'receipt' ORDER BY seq DESC LIMIT 1) AS latest ON true`,
    [migrationId],
  );
  const row = rows[0] as { status: LedgerState['state'] | null; forward_digest: string | null; run_id: string | null; last_receipt_digest: string | null };
  const state: LedgerState = { state: row.status ?? 'absent' };
  if (row.forward_digest) state.forward_digest = row.forward_digest;
  if (row.run_id) state.run_id = row.run_id;
  if (row.last_receipt_digest) state.last_receipt_digest = row.last_receipt_digest;
  return state;
}
