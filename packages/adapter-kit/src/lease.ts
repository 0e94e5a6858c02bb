// Crash-safe leases for stores without session-bound locks (a search engine's lock document, a graph's
// lock node). A lease names its owner, run id and expiry; the live run renews it every ttl/3; a run that
// finds an expired lease takes it over atomically (compare-and-set on the store's version) and cleans
// what the dead run left; a renewal that fails or finds the lease taken aborts the run's signal, so the
// run stops before its commit point. Waiting for a held lease backs off with jitter, up to a bound.
// Expiry uses the runners' clocks: keep them in sync (NTP) and the TTL well above any skew.
import { randomUUID } from 'node:crypto';
import type {
  LeaseHolder,
  LeaseRequest,
  LockCapability,
  LockResult,
  LockTakeover,
  UnlockOutcome,
} from '@kfm/migration-contracts';

export interface LeaseRecord {
  owner: string;
  run_id: string;
  /** Random per acquisition: only the holder renews or releases. */
  token: string;
  since: string;
  expires_at: string;
}

export interface VersionedLease {
  lease: LeaseRecord;
  /** The store's version of the record (seq_no/primary_term, a counter): replace and remove compare it. */
  version: unknown;
}

/** The four atomic operations a store provides; LeaseLock does the rest. */
export interface LeaseStore {
  /** Where the lease lives, for messages (`lock document .kfm-migrations/_doc/lock`). */
  readonly where: string;
  read(): Promise<VersionedLease | undefined>;
  /** Creates the record if none exists; undefined when one already does. */
  create(lease: LeaseRecord): Promise<VersionedLease | undefined>;
  /** Replaces the record if its version is still `version`; undefined when it changed (or vanished). */
  replace(version: unknown, lease: LeaseRecord): Promise<VersionedLease | undefined>;
  /** Removes the record if its version is still `version`. */
  remove(version: unknown): Promise<boolean>;
  /** Removes what a dead run left behind (shadow indices, running tasks); returns what was removed. */
  cleanup?(deadRunId: string): Promise<string[]>;
}

export interface LeaseClock {
  now(): Date;
  sleep(ms: number): Promise<void>;
  random(): number;
}

const systemClock: LeaseClock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};

export class LeaseLock implements LockCapability {
  private held:
    | {
        version: unknown;
        lease: LeaseRecord;
        ttlMs: number;
        timer: NodeJS.Timeout;
        controller: AbortController;
        /** The renewal in flight, if any: unlock waits for it, or it would remove a stale version. */
        renewing?: Promise<void>;
      }
    | undefined;

  constructor(
    private readonly store: LeaseStore,
    private readonly clock: LeaseClock = systemClock,
  ) {}

  async lock(request: LeaseRequest): Promise<LockResult> {
    const started = Date.now();
    let delay = 100;
    for (;;) {
      const attempt = await this.tryOnce(request);
      if (attempt.acquired) return { ...attempt, waited_ms: Date.now() - started };
      const waited = Date.now() - started;
      if (waited >= request.waitMs) return { acquired: false, waited_ms: waited, holder: attempt.holder };
      // Exponential backoff with full jitter, never past the wait bound (or the holder's expiry).
      const untilExpiry = attempt.holder.expires_at
        ? Date.parse(attempt.holder.expires_at) - this.clock.now().getTime() + 50
        : Infinity;
      const pause = Math.max(
        10,
        Math.min(request.waitMs - waited, untilExpiry, Math.round(delay * (0.5 + this.clock.random() / 2))),
      );
      await this.clock.sleep(pause);
      delay = Math.min(delay * 2, 5_000);
    }
  }

  private async tryOnce(
    request: LeaseRequest,
  ): Promise<
    { acquired: true; takeover?: LockTakeover; lost: AbortSignal } | { acquired: false; holder: LeaseHolder }
  > {
    const fresh = this.record(request);
    const created = await this.store.create(fresh);
    if (created) return { acquired: true, lost: this.hold(created, request.ttlMs) };
    const current = await this.store.read();
    if (!current) return this.tryOnce(request); // released between create and read: try again
    if (!this.expired(current.lease)) return { acquired: false, holder: this.holderOf(current.lease) };
    // Expired: take it over atomically; a concurrent taker wins the compare-and-set, we wait.
    const taken = await this.store.replace(current.version, fresh);
    if (!taken) {
      const now = await this.store.read();
      return {
        acquired: false,
        holder: now
          ? this.holderOf(now.lease)
          : { owner: 'another run', description: 'another run took the expired lease just now' },
      };
    }
    const cleaned = (await this.store.cleanup?.(current.lease.run_id)) ?? [];
    return {
      acquired: true,
      lost: this.hold(taken, request.ttlMs),
      takeover: {
        previous_owner: current.lease.owner,
        previous_run: current.lease.run_id,
        expired_at: current.lease.expires_at,
        cleaned,
      },
    };
  }

  /**
   * Removes the lease. A renewal still in flight is waited for first: it moves the record's version,
   * and a remove at the old version would fail and leave the lease to block every run until it
   * expires. If the version moved anyway, the record is removed at its current version as long as it
   * still carries this acquisition's token.
   */
  async unlock(): Promise<void> {
    const held = this.held;
    if (!held) return;
    clearInterval(held.timer);
    await held.renewing;
    this.held = undefined;
    if (await this.store.remove(held.version).catch(() => false)) return;
    const current = await this.store.read().catch(() => undefined);
    if (current?.lease.token === held.lease.token) await this.store.remove(current.version).catch(() => undefined);
  }

  async lockHolder(): Promise<LeaseHolder | undefined> {
    const current = await this.store.read();
    return current ? this.holderOf(current.lease) : undefined;
  }

  async breakLock(options: { force: boolean; reason: string }): Promise<UnlockOutcome> {
    const current = await this.store.read();
    if (!current) return { removed: false, cleaned: [], message: `no lock is held (${this.store.where})` };
    const holder = this.holderOf(current.lease);
    if (!holder.expired && !options.force) {
      return {
        removed: false,
        holder,
        cleaned: [],
        message: `the lease of ${holder.description} is live; pass --force to remove it anyway (that run then aborts before its commit point)`,
      };
    }
    const removed = await this.store.remove(current.version);
    if (!removed)
      return {
        removed: false,
        holder,
        cleaned: [],
        message: 'the lease changed while it was being removed (renewed or taken over); look again',
      };
    const cleaned = (await this.store.cleanup?.(current.lease.run_id)) ?? [];
    return {
      removed: true,
      holder,
      cleaned,
      message: `removed the ${holder.expired ? 'expired' : 'live'} lease of ${holder.description}`,
    };
  }

  private record(request: LeaseRequest): LeaseRecord {
    const now = this.clock.now();
    return {
      owner: request.owner,
      run_id: request.run_id,
      token: randomUUID(),
      since: now.toISOString(),
      expires_at: new Date(now.getTime() + request.ttlMs).toISOString(),
    };
  }

  private expired(lease: LeaseRecord): boolean {
    const expiry = Date.parse(lease.expires_at);
    return !Number.isFinite(expiry) || expiry <= this.clock.now().getTime();
  }

  private holderOf(lease: LeaseRecord): LeaseHolder {
    const expired = this.expired(lease);
    return {
      owner: lease.owner,
      run_id: lease.run_id,
      since: lease.since,
      expires_at: lease.expires_at,
      expired,
      description: `${lease.owner} (run ${lease.run_id}) since ${lease.since}, lease ${expired ? 'expired' : 'expires'} ${lease.expires_at} (${this.store.where})`,
    };
  }

  /** Keeps the lease alive every ttl/3; a failed or refused renewal aborts the returned signal. */
  private hold(acquired: VersionedLease, ttlMs: number): AbortSignal {
    const controller = new AbortController();
    const renew = async () => {
      const held = this.held;
      if (!held || held.controller !== controller) return;
      try {
        const lease = { ...held.lease, expires_at: new Date(this.clock.now().getTime() + ttlMs).toISOString() };
        const renewed = await this.store.replace(held.version, lease);
        if (!renewed) throw new Error(`the store lease was taken by another run (${this.store.where})`);
        if (this.held === held) Object.assign(held, { version: renewed.version, lease });
      } catch (error) {
        if (this.held !== held) return;
        clearInterval(held.timer);
        controller.abort(
          error instanceof Error && /lease/.test(error.message)
            ? error
            : new Error(
                `the store lease could not be renewed: ${error instanceof Error ? error.message : String(error)}`,
              ),
        );
      }
    };
    const timer = setInterval(
      () => {
        const held = this.held;
        if (!held || held.controller !== controller || held.renewing) return;
        held.renewing = renew().finally(() => {
          held.renewing = undefined;
        });
      },
      Math.max(50, Math.floor(ttlMs / 3)),
    );
    timer.unref();
    this.held = { version: acquired.version, lease: acquired.lease, ttlMs, timer, controller };
    return controller.signal;
  }
}

/**
 * Retries `attempt` with exponential backoff and full jitter until it yields a value or `waitMs` has
 * passed (for session-bound locks such as PostgreSQL's advisory lock). Returns the last miss too.
 */
export async function withBackoff<T, M>(
  attempt: () => Promise<{ ok: true; value: T } | { ok: false; miss: M }>,
  waitMs: number,
  clock: LeaseClock = systemClock,
): Promise<{ ok: true; value: T; waited_ms: number } | { ok: false; miss: M; waited_ms: number }> {
  const started = Date.now();
  let delay = 100;
  for (;;) {
    const result = await attempt();
    const waited = Date.now() - started;
    if (result.ok) return { ...result, waited_ms: waited };
    if (waited >= waitMs) return { ...result, waited_ms: waited };
    await clock.sleep(Math.max(10, Math.min(waitMs - waited, Math.round(delay * (0.5 + clock.random() / 2)))));
    delay = Math.min(delay * 2, 5_000);
  }
}
