// The store ledger: append-only `KfmLedger` nodes, one per recorded outcome (started, applied, rolled
// back, rollback failed) or receipt, numbered by `seq` under a uniqueness constraint. The latest node of
// a migration id is its state; the newest node with a receipt digest heads the receipt chain. Entries of
// a data apply are written inside its transaction, so they commit with the change. `KfmPolicy` nodes hold
// the store-held policy (latest wins).
import type {
  LedgerEntry,
  LedgerRecord,
  LedgerState,
  Policy,
  ReceiptRecord,
  StorePolicy,
} from '@kfm/migration-contracts';
import { rows, type CypherRunner } from './cypher-runner.js';
import { toCount } from './neo4j-values.js';
import { LEDGER_LABEL, POLICY_LABEL } from './runner-store.js';

const APPEND = `OPTIONAL MATCH (previous:${LEDGER_LABEL})
  WITH coalesce(max(previous.seq), 0) + 1 AS seq
  CREATE (:${LEDGER_LABEL} {seq: seq, migration_id: $migration_id, bundle_digest: $bundle_digest, run_id: $run_id, status: $status,
    receipt_digest: $receipt_digest, pre_fingerprint: $pre_fingerprint, resume: $resume, recorded_at: toString(datetime())})`;

export async function recordLedgerEntry(runner: CypherRunner, entry: LedgerEntry): Promise<void> {
  await runner.run(APPEND, {
    migration_id: entry.migration_id,
    bundle_digest: entry.bundle_digest,
    run_id: entry.run_id,
    status: entry.status,
    receipt_digest: entry.receipt_digest ?? null,
    pre_fingerprint: entry.pre_fingerprint ?? null,
    resume: entry.resume ? JSON.stringify(entry.resume) : null,
  });
}

/** A receipt node: the receipt chain's new head; no migration's state changes. */
export async function recordReceiptEntry(runner: CypherRunner, record: ReceiptRecord): Promise<void> {
  await runner.run(APPEND, {
    migration_id: record.migration_id,
    bundle_digest: record.bundle_digest,
    run_id: record.run_id,
    status: 'receipt',
    receipt_digest: record.receipt_digest,
    pre_fingerprint: null,
    resume: null,
  });
}

export async function readLedgerState(runner: CypherRunner, migrationId: string): Promise<LedgerState> {
  const [latest] = await rows(
    runner,
    `MATCH (l:${LEDGER_LABEL} {migration_id: $id}) WHERE l.status <> 'receipt'
     RETURN l.status AS status, coalesce(l.bundle_digest, l.forward_digest) AS bundle_digest, l.run_id AS run_id, l.pre_fingerprint AS pre_fingerprint, l.resume AS resume
     ORDER BY l.seq DESC LIMIT 1`,
    { id: migrationId },
  );
  const [receipt] = await rows(
    runner,
    `MATCH (l:${LEDGER_LABEL}) WHERE l.receipt_digest IS NOT NULL RETURN l.receipt_digest AS digest ORDER BY l.seq DESC LIMIT 1`,
  );
  const state: LedgerState = { state: (latest?.status as LedgerState['state'] | undefined) ?? 'absent' };
  if (typeof latest?.bundle_digest === 'string') state.bundle_digest = latest.bundle_digest;
  if (typeof latest?.run_id === 'string') state.run_id = latest.run_id;
  if (typeof latest?.pre_fingerprint === 'string') state.pre_fingerprint = latest.pre_fingerprint;
  if (typeof latest?.resume === 'string') state.resume = JSON.parse(latest.resume) as Record<string, string | number>;
  if (typeof receipt?.digest === 'string') state.last_receipt_digest = receipt.digest;
  return state;
}

export async function readLedgerHistory(runner: CypherRunner, migrationId?: string): Promise<LedgerRecord[]> {
  const found = await rows(
    runner,
    `MATCH (l:${LEDGER_LABEL}) WHERE $id IS NULL OR l.migration_id = $id
     RETURN l.seq AS seq, l.migration_id AS migration_id, l.run_id AS run_id, l.status AS status,
            coalesce(l.bundle_digest, l.forward_digest) AS bundle_digest, l.receipt_digest AS receipt_digest, l.recorded_at AS recorded_at
     ORDER BY l.seq`,
    { id: migrationId ?? null },
  );
  return found.map((row) => ({
    seq: toCount(row.seq),
    migration_id: String(row.migration_id),
    run_id: String(row.run_id),
    status: String(row.status) as LedgerRecord['status'],
    ...(typeof row.bundle_digest === 'string' ? { bundle_digest: row.bundle_digest } : {}),
    ...(typeof row.receipt_digest === 'string' ? { receipt_digest: row.receipt_digest } : {}),
    ...(typeof row.recorded_at === 'string' ? { recorded_at: row.recorded_at } : {}),
  }));
}

export async function readStorePolicy(runner: CypherRunner): Promise<StorePolicy | undefined> {
  const [row] = await rows(
    runner,
    `MATCH (p:${POLICY_LABEL}) RETURN p.policy AS policy, p.digest AS digest, p.run_id AS run_id, p.recorded_at AS recorded_at ORDER BY p.seq DESC LIMIT 1`,
  );
  if (!row || typeof row.policy !== 'string') return undefined;
  return {
    policy: JSON.parse(row.policy) as Policy,
    digest: String(row.digest),
    run_id: String(row.run_id),
    ...(typeof row.recorded_at === 'string' ? { recorded_at: row.recorded_at } : {}),
  };
}

export async function writeStorePolicy(runner: CypherRunner, policy: StorePolicy): Promise<void> {
  await runner.run(
    `OPTIONAL MATCH (previous:${POLICY_LABEL}) WITH coalesce(max(previous.seq), 0) + 1 AS seq
     CREATE (:${POLICY_LABEL} {seq: seq, policy: $policy, digest: $digest, run_id: $run_id, recorded_at: toString(datetime())})`,
    { policy: JSON.stringify(policy.policy), digest: policy.digest, run_id: policy.run_id },
  );
}
