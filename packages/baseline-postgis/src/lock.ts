// One run per database: a session-level advisory lock on the session's own connection. It lives and
// dies with that connection (a killed runner's lock is gone as soon as the server notices, within a
// second thanks to client_connection_check_interval), so it needs no expiry; waiting for it backs off
// with jitter up to --lock-wait. The holder is named from pg_locks and pg_stat_activity; `unlock
// --force` terminates the holding backend, which rolls its transaction back.
import { withBackoff } from '@kfm/adapter-kit';
import type { LeaseHolder, LeaseRequest, LockResult, UnlockOutcome } from '@kfm/migration-contracts';
import type pg from 'pg';

/** The two-key advisory lock id: ASCII "KFM-" and "MIGR", so it cannot collide with one-key (bigint) locks. */
export const LOCK_KEYS = [0x4b464d2d, 0x4d494752] as const;

/** PostgreSQL truncates application_name at 63 bytes. */
const APPLICATION_NAME_LIMIT = 63;

export class AdvisoryLock {
  private controller: AbortController | undefined;

  constructor(
    private readonly client: pg.Client,
    private readonly applicationName: string,
  ) {}

  async lock(request: LeaseRequest): Promise<LockResult> {
    const outcome = await withBackoff(async () => {
      const { rows } = await this.client.query('SELECT pg_try_advisory_lock($1, $2) AS acquired', [...LOCK_KEYS]);
      if ((rows[0] as { acquired: boolean }).acquired) return { ok: true as const, value: undefined };
      return {
        ok: false as const,
        miss: (await this.lockHolder()) ?? {
          owner: 'another session',
          description: 'another session (it released the lock just now; retry)',
        },
      };
    }, request.waitMs);
    if (!outcome.ok) return { acquired: false, waited_ms: outcome.waited_ms, holder: outcome.miss };
    // Name the run in pg_stat_activity so a second runner's message says who holds the lock.
    const label = `${this.applicationName} ${request.owner}`.slice(0, APPLICATION_NAME_LIMIT);
    await this.client.query(`SELECT set_config('application_name', $1, false)`, [label]);
    // The lock dies with the connection: a lost connection is a lost lease.
    const controller = new AbortController();
    const lost = () => controller.abort(new Error('the connection holding the PostgreSQL advisory lock was lost'));
    this.client.once('error', lost);
    this.client.once('end', lost);
    this.controller = controller;
    return { acquired: true, waited_ms: outcome.waited_ms, lost: controller.signal };
  }

  async unlock(): Promise<void> {
    if (!this.controller) return;
    this.controller = undefined;
    await this.client.query('SELECT pg_advisory_unlock($1, $2)', [...LOCK_KEYS]);
    await this.client.query(`SELECT set_config('application_name', $1, false)`, [
      this.applicationName.slice(0, APPLICATION_NAME_LIMIT),
    ]);
  }

  async lockHolder(): Promise<LeaseHolder | undefined> {
    const row = await holderRow(this.client);
    if (!row) return undefined;
    const since = row.backend_start ? ` connected since ${row.backend_start.toISOString()}` : '';
    const lastActive = row.state_change ? `, last active ${row.state_change.toISOString()}` : '';
    return {
      owner: row.application_name ?? `pid ${row.pid}`,
      ...(row.backend_start ? { since: row.backend_start.toISOString() } : {}),
      expired: false,
      description: `pid ${row.pid} (application_name "${row.application_name ?? ''}")${since}${lastActive} (advisory lock ${LOCK_KEYS.join('/')})`,
    };
  }

  /** The advisory lock has no expiry: it is live while its backend is. `force` terminates that backend. */
  async breakLock(options: { force: boolean; reason: string }): Promise<UnlockOutcome> {
    const row = await holderRow(this.client);
    if (!row) return { removed: false, cleaned: [], message: 'no run holds the advisory lock' };
    const holder = (await this.lockHolder()) as LeaseHolder;
    if (!options.force) {
      return {
        removed: false,
        holder,
        cleaned: [],
        message: `held by ${holder.description}; it is released when that session ends — pass --force to terminate the backend (its transaction rolls back)`,
      };
    }
    const { rows } = await this.client.query('SELECT pg_terminate_backend($1) AS terminated', [row.pid]);
    const terminated = (rows[0] as { terminated: boolean }).terminated;
    return {
      removed: terminated,
      holder,
      cleaned: terminated ? [`backend pid ${row.pid} terminated`] : [],
      message: terminated
        ? `terminated backend pid ${row.pid}, which held the lock`
        : `could not terminate pid ${row.pid} (not allowed for this role?)`,
    };
  }
}

interface HolderRow {
  pid: number;
  application_name: string | null;
  backend_start: Date | null;
  state_change: Date | null;
}

async function holderRow(client: pg.ClientBase): Promise<HolderRow | undefined> {
  const { rows } = await client.query(
    `SELECT l.pid, a.application_name, a.backend_start, a.state_change
       FROM pg_locks l
       LEFT JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 2 AND l.pid <> pg_backend_pid()
      LIMIT 1`,
    [...LOCK_KEYS],
  );
  return rows[0] as HolderRow | undefined;
}
