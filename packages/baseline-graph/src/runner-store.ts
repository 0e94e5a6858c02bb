// Where the runner keeps its own records in Neo4j: the `KfmLock` lease node under a uniqueness
// constraint (one run per store), append-only `KfmLedger` nodes (runs, receipts) and `KfmPolicy` nodes
// (the store-held policy). Every `Kfm*` label is outside every baseline and forbidden to every
// migration. The constraints and index are created on first use, in auto-commit (schema commands
// cannot share a transaction with data writes).
import type { CypherRunner } from './cypher-runner.js';

export const LOCK_LABEL = 'KfmLock';
export const LEDGER_LABEL = 'KfmLedger';
export const POLICY_LABEL = 'KfmPolicy';

const RUNNER_SCHEMA = [
  `CREATE CONSTRAINT kfm_lock_id IF NOT EXISTS FOR (l:${LOCK_LABEL}) REQUIRE l.id IS UNIQUE`,
  `CREATE CONSTRAINT kfm_ledger_seq IF NOT EXISTS FOR (l:${LEDGER_LABEL}) REQUIRE l.seq IS UNIQUE`,
  `CREATE INDEX kfm_ledger_migration IF NOT EXISTS FOR (l:${LEDGER_LABEL}) ON (l.migration_id)`,
  `CREATE CONSTRAINT kfm_policy_seq IF NOT EXISTS FOR (p:${POLICY_LABEL}) REQUIRE p.seq IS UNIQUE`,
];

/** Idempotent; `runner` must be a session (auto-commit), never a transaction. */
export async function ensureRunnerSchema(runner: CypherRunner): Promise<void> {
  for (const statement of RUNNER_SCHEMA) await runner.run(statement);
}
