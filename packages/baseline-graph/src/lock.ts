// One run per store: a lease on a `KfmLock` node with a fixed id under a uniqueness constraint. MERGE on
// a uniquely constrained property is atomic, so of two runners exactly one creates the node; every
// later change (renewal, takeover, release) is a compare-and-set on the node's `version`, made after
// the transaction holds the node's write lock (the probe write), so two runners can never both win.
// The kit's LeaseLock does the rest: renewal every TTL/3, takeover of an expired lease, waiting.
import { LeaseLock, type LeaseRecord, type LeaseStore, type VersionedLease } from '@kfm/adapter-kit';
import type { Driver, Session } from 'neo4j-driver';
import { rows } from './cypher-runner.js';
import { toCount } from './neo4j-values.js';
import { ensureRunnerSchema, LOCK_LABEL } from './runner-store.js';

/** The lock id every governed run of a store shares. */
export const DEFAULT_LOCK_ID = 'kfm-migrate';

const FIELDS =
  'l.owner AS owner, l.run_id AS run_id, l.token AS token, l.since AS since, l.expires_at AS expires_at, l.version AS version';

function leaseOf(row: Record<string, unknown> | undefined): VersionedLease | undefined {
  if (!row) return undefined;
  const lease: LeaseRecord = {
    owner: String(row.owner ?? 'an unknown run'),
    run_id: String(row.run_id ?? 'unknown'),
    token: String(row.token ?? ''),
    since: String(row.since ?? ''),
    // A lock node from before leases has no expiry: a crashed run of an old version must not block forever.
    expires_at: typeof row.expires_at === 'string' ? row.expires_at : '1970-01-01T00:00:00.000Z',
  };
  return { lease, version: row.version === null || row.version === undefined ? 0 : toCount(row.version) };
}

export class GraphLeaseStore implements LeaseStore {
  readonly where: string;
  private schemaReady = false;

  constructor(
    private readonly driver: Driver,
    private readonly database: string | undefined,
    private readonly id: string,
  ) {
    this.where = `lock node (:${LOCK_LABEL} {id: '${id}'})`;
  }

  private async write<T>(work: (session: Session) => Promise<T>): Promise<T> {
    const session = this.driver.session({
      defaultAccessMode: 'WRITE',
      ...(this.database ? { database: this.database } : {}),
    });
    try {
      if (!this.schemaReady) {
        await ensureRunnerSchema(session);
        this.schemaReady = true;
      }
      return await work(session);
    } finally {
      await session.close();
    }
  }

  async read(): Promise<VersionedLease | undefined> {
    return this.write(async (session) =>
      leaseOf((await rows(session, `MATCH (l:${LOCK_LABEL} {id: $id}) RETURN ${FIELDS}`, { id: this.id }))[0]),
    );
  }

  async create(lease: LeaseRecord): Promise<VersionedLease | undefined> {
    return this.write(async (session) => {
      const [row] = await rows(
        session,
        `MERGE (l:${LOCK_LABEL} {id: $id}) ON CREATE SET l += $lease, l.version = 1 RETURN l.token = $lease.token AS mine, ${FIELDS}`,
        { id: this.id, lease },
      );
      return row?.mine === true ? leaseOf(row) : undefined;
    });
  }

  async replace(version: unknown, lease: LeaseRecord): Promise<VersionedLease | undefined> {
    return this.write(async (session) =>
      session.executeWrite(async (tx) => {
        // The probe write takes the node's write lock first, so the version read after it is current.
        const [row] = await rows(
          tx,
          `MATCH (l:${LOCK_LABEL} {id: $id}) SET l.probe = coalesce(l.probe, 0) + 1
        WITH l WHERE coalesce(l.version, 0) = $version SET l += $lease, l.version = $version + 1 RETURN ${FIELDS}`,
          { id: this.id, version, lease },
        );
        return leaseOf(row);
      }),
    );
  }

  async remove(version: unknown): Promise<boolean> {
    return this.write(async (session) =>
      session.executeWrite(async (tx) => {
        const [row] = await rows(
          tx,
          `MATCH (l:${LOCK_LABEL} {id: $id}) SET l.probe = coalesce(l.probe, 0) + 1
        WITH l WHERE coalesce(l.version, 0) = $version DELETE l RETURN count(*) AS removed`,
          { id: this.id, version },
        );
        return toCount(row?.removed) === 1;
      }),
    );
  }

  /** A graph run leaves nothing outside its transaction but committed schema commands (the ledger's `started` mark covers those). */
  async cleanup(): Promise<string[]> {
    return [];
  }
}

export function graphLock(driver: Driver, database: string | undefined, id = DEFAULT_LOCK_ID): LeaseLock {
  return new LeaseLock(new GraphLeaseStore(driver, database, id));
}
