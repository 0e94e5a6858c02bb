// One run per database: a session-level advisory lock on the session's own connection. It never
// waits; when another session holds it, the holder is named from pg_locks and pg_stat_activity.
import type { LockResult } from '@kfm/migration-contracts';
import type { ClientBase } from 'pg';

/** The two-key advisory lock id: ASCII "KFM-" and "MIGR", so it cannot collide with one-key (bigint) locks. */
export const LOCK_KEYS = [0x4b464d2d, 0x4d494752] as const;

/** PostgreSQL truncates application_name at 63 bytes. */
const APPLICATION_NAME_LIMIT = 63;

export async function tryLock(client: ClientBase, owner: string, applicationName: string): Promise<LockResult> {
  const { rows } = await client.query('SELECT pg_try_advisory_lock($1, $2) AS acquired', [...LOCK_KEYS]);
  if ((rows[0] as { acquired: boolean }).acquired) {
    // Name the run in pg_stat_activity so a second runner's message says who holds the lock.
    const label = `${applicationName} ${owner}`.slice(0, APPLICATION_NAME_LIMIT);
    await client.query(`SELECT set_config('application_name', $1, false)`, [label]);
    return { acquired: true };
  }
  return { acquired: false, holder: await lockHolder(client) };
}

export async function releaseLock(client: ClientBase, applicationName: string): Promise<void> {
  await client.query('SELECT pg_advisory_unlock($1, $2)', [...LOCK_KEYS]);
  await client.query(`SELECT set_config('application_name', $1, false)`, [applicationName.slice(0, APPLICATION_NAME_LIMIT)]);
}

async function lockHolder(client: ClientBase): Promise<string> {
  const { rows } = await client.query(
    `SELECT l.pid, a.application_name, a.backend_start, a.state_change
       FROM pg_locks l
       LEFT JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 2
      LIMIT 1`,
    [...LOCK_KEYS],
  );
  const row = rows[0] as { pid: number; application_name: string | null; backend_start: Date | null; state_change: Date | null } | undefined;
  // The holder may have released the lock between the two queries.
  if (!row) return 'another session (it released the lock just now; retry)';
  const since = row.backend_start ? ` connected since ${row.backend_start.toISOString()}` : '';
  const lastActive = row.state_change ? `, last active ${row.state_change.toISOString()}` : '';
  return `pid ${row.pid} (application_name "${row.application_name ?? ''}")${since}${lastActive}`;
}
