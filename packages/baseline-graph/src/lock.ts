// One run per store: a `KfmLock` node with a fixed id under a uniqueness constraint. MERGE on a
// uniquely constrained property is atomic, so of two runners exactly one creates the node; the
// other reads the holder from it and fails fast. A random token makes unlock remove only our own
// lock. A crashed run leaves its lock behind on purpose: a human checks, then deletes the node.
import type { LockResult } from '@kfm/migration-contracts';
import type { CypherRunner } from './cypher-runner.js';
import { rows } from './cypher-runner.js';
import { LOCK_LABEL } from './runner-schema.js';

/** The lock id every governed run of a store shares. */
export const DEFAULT_LOCK_ID = 'kfm-migrate';

export async function tryLock(runner: CypherRunner, lockId: string, owner: string, token: string): Promise<LockResult> {
  const [row] = await rows(
    runner,
    `MERGE (l:${LOCK_LABEL} {id: $id})
     ON CREATE SET l.owner = $owner, l.token = $token, l.since = toString(datetime())
     RETURN l.token = $token AS acquired, l.owner AS owner, l.since AS since`,
    { id: lockId, owner, token },
  );
  if (row?.acquired === true) return { acquired: true };
  return { acquired: false, holder: `${String(row?.owner ?? 'an unknown run')} since ${String(row?.since ?? 'an unknown time')}` };
}

export async function releaseLock(runner: CypherRunner, lockId: string, token: string): Promise<void> {
  await runner.run(`MATCH (l:${LOCK_LABEL} {id: $id, token: $token}) DELETE l`, { id: lockId, token });
}
