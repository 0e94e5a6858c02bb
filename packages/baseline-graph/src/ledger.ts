// The store ledger: append-only `KfmLedger` nodes, one per recorded outcome, numbered by `seq`.
// The latest node of a migration id is its state; the newest node with a receipt digest links the
// receipt chain. Written inside the apply transaction, so the ledger commits with the change.
import type { LedgerEntry, LedgerState } from '@kfm/migration-contracts';
import { rows, type CypherRunner } from './cypher-runner.js';
import { LEDGER_LABEL } from './runner-schema.js';

export async function recordLedgerEntry(runner: CypherRunner, entry: LedgerEntry): Promise<void> {
  await runner.run(
    `OPTIONAL MATCH (previous:${LEDGER_LABEL})
     WITH coalesce(max(previous.seq), 0) + 1 AS seq
     CREATE (:${LEDGER_LABEL} {seq: seq, migration_id: $migration_id, forward_digest: $forward_digest, run_id: $run_id,
       status: $status, receipt_digest: $receipt_digest, recorded_at: toString(datetime())})`,
    { migration_id: entry.migration_id, forward_digest: entry.forward_digest, run_id: entry.run_id, status: entry.status, receipt_digest: entry.receipt_digest ?? null },
  );
}

export async function readLedgerState(runner: CypherRunner, migrationId: string): Promise<LedgerState> {
  const [latest] = await rows(
    runner,
    `MATCH (l:${LEDGER_LABEL} {migration_id: $id}) RETURN l.status AS status, l.forward_digest AS forward_digest, l.run_id AS run_id ORDER BY l.seq DESC LIMIT 1`,
    { id: migrationId },
  );
  const [receipt] = await rows(runner, `MATCH (l:${LEDGER_LABEL}) WHERE l.receipt_digest IS NOT NULL RETURN l.receipt_digest AS digest ORDER BY l.seq DESC LIMIT 1`);
  const state: LedgerState = { state: (latest?.status as LedgerState['state'] | undefined) ?? 'absent' };
  if (typeof latest?.forward_digest === 'string') state.forward_digest = latest.forward_digest;
  if (typeof latest?.run_id === 'string') state.run_id = latest.run_id;
  if (typeof receipt?.digest === 'string') state.last_receipt_digest = receipt.digest;
  return state;
}
