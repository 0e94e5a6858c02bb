import { describe, expect, it } from 'vitest';
import {
  LeaseLock,
  withBackoff,
  type LeaseClock,
  type LeaseRecord,
  type LeaseStore,
  type VersionedLease,
} from './lease.js';

/** A compare-and-set record in memory: the contract a store's lease document or node implements. */
class MemoryStore implements LeaseStore {
  readonly where = 'memory';
  record: VersionedLease | undefined;
  cleaned: string[] = [];
  private next = 1;
  failReplace = false;
  async read() {
    return this.record ? structuredClone(this.record) : undefined;
  }
  async create(lease: LeaseRecord) {
    if (this.record) return undefined;
    this.record = { lease, version: this.next++ };
    return structuredClone(this.record);
  }
  async replace(version: unknown, lease: LeaseRecord) {
    if (this.failReplace) throw new Error('connection refused');
    if (!this.record || this.record.version !== version) return undefined;
    this.record = { lease, version: this.next++ };
    return structuredClone(this.record);
  }
  async remove(version: unknown) {
    if (!this.record || this.record.version !== version) return false;
    this.record = undefined;
    return true;
  }
  async cleanup(run: string) {
    this.cleaned.push(run);
    return [`shadow of ${run}`];
  }
}

function fakeClock(start = Date.parse('2026-12-01T00:00:00Z')): LeaseClock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => new Date(now),
    sleep: async (ms) => void (now += ms),
    random: () => 0.5,
    advance: (ms) => void (now += ms),
  };
}

const request = (run: string, extra: Partial<{ ttlMs: number; waitMs: number }> = {}) => ({
  owner: `runner ${run}`,
  run_id: run,
  ttlMs: 30_000,
  waitMs: 0,
  ...extra,
});

describe('LeaseLock', () => {
  it('gives the lease to one run and names the holder and expiry to the next', async () => {
    const store = new MemoryStore();
    const clock = fakeClock();
    const a = new LeaseLock(store, clock);
    const b = new LeaseLock(store, clock);
    const first = await a.lock(request('r1'));
    expect(first.acquired).toBe(true);
    const second = await b.lock(request('r2'));
    expect(second).toMatchObject({
      acquired: false,
      holder: { owner: 'runner r1', run_id: 'r1', expired: false, expires_at: '2026-12-01T00:00:30.000Z' },
    });
    await a.unlock();
    expect(store.record).toBeUndefined();
    expect((await b.lock(request('r2'))).acquired).toBe(true);
  });

  it('takes over an expired lease atomically, cleans the dead run and records the takeover', async () => {
    const store = new MemoryStore();
    const clock = fakeClock();
    await new LeaseLock(store, clock).lock(request('dead', { ttlMs: 3_000 }));
    clock.advance(3_001);
    const result = await new LeaseLock(store, clock).lock(request('next'));
    expect(result).toMatchObject({
      acquired: true,
      takeover: {
        previous_owner: 'runner dead',
        previous_run: 'dead',
        expired_at: '2026-12-01T00:00:03.000Z',
        cleaned: ['shadow of dead'],
      },
    });
    expect(store.record?.lease.run_id).toBe('next');
  });

  it('waits with backoff up to --lock-wait for a live lease, then fails naming it', async () => {
    const store = new MemoryStore();
    const clock = fakeClock();
    await new LeaseLock(store, clock).lock(request('holder', { ttlMs: 60_000 }));
    const refused = await new LeaseLock(store, clock).lock(request('waiter', { waitMs: 0 }));
    expect(refused.acquired).toBe(false);
    // A wait longer than the holder's TTL ends in a takeover once it expires.
    const waited = await new LeaseLock(store, clock).lock(request('patient', { waitMs: 120_000 }));
    expect(waited).toMatchObject({ acquired: true, takeover: { previous_run: 'holder' } });
  });

  it('aborts the run signal when a renewal finds the lease taken', async () => {
    const store = new MemoryStore();
    const a = new LeaseLock(store);
    const result = await a.lock(request('r1', { ttlMs: 150 }));
    if (!result.acquired) throw new Error('not acquired');
    // Someone removes it by force (kfm-migrate unlock --force): the next renewal fails.
    const forced = await new LeaseLock(store).breakLock({ force: true, reason: 'test' });
    expect(forced.removed).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(result.lost.aborted).toBe(true);
    expect(String(result.lost.reason)).toMatch(/taken by another run/);
    await a.unlock();
  });

  it('aborts the run signal when the store cannot be reached for a renewal', async () => {
    const store = new MemoryStore();
    const a = new LeaseLock(store);
    const result = await a.lock(request('r1', { ttlMs: 150 }));
    if (!result.acquired) throw new Error('not acquired');
    store.failReplace = true;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(result.lost.aborted).toBe(true);
    expect(String(result.lost.reason)).toMatch(/could not be renewed: connection refused/);
  });

  it('releases the lease although a renewal was in flight when the run unlocked', async () => {
    // The renewal moves the record's version; a remove at the version unlock knew would fail and leave
    // the lease to refuse every run until it expired (seen in CI as LOCK_HELD right after a run ended).
    let resume: () => void = () => undefined;
    let renewals = 0;
    class SlowRenewals extends MemoryStore {
      override async replace(version: unknown, lease: LeaseRecord) {
        renewals++;
        // The store applies the renewal at once; only its answer is slow.
        const answer = await super.replace(version, lease);
        await new Promise<void>((resolve) => (resume = resolve));
        return answer;
      }
    }
    const store = new SlowRenewals();
    const lock = new LeaseLock(store);
    expect((await lock.lock(request('r1', { ttlMs: 150 }))).acquired).toBe(true);
    while (renewals === 0) await new Promise((r) => setTimeout(r, 10));
    const unlocked = lock.unlock();
    // Only one renewal at a time, however slow the store is.
    await new Promise((r) => setTimeout(r, 120));
    expect(renewals).toBe(1);
    resume();
    await unlocked;
    expect(store.record).toBeUndefined();
  });

  it('removes its own lease at the current version when the version moved under it, and only its own', async () => {
    const store = new MemoryStore();
    const lock = new LeaseLock(store, fakeClock());
    await lock.lock(request('r1'));
    // The record moved on (a renewal this lock did not see land), still carrying our token.
    store.record = { lease: store.record!.lease, version: 99 };
    await lock.unlock();
    expect(store.record).toBeUndefined();
    // Another run's lease (another token) is never removed by a stale unlock.
    const other = new LeaseLock(store, fakeClock());
    await other.lock(request('r2'));
    const mine = new LeaseLock(store, fakeClock());
    await store.remove(store.record!.version);
    await mine.lock(request('r3'));
    const stale = store.record!;
    store.record = { lease: { ...stale.lease, token: 'someone else' }, version: 7 };
    await mine.unlock();
    expect(store.record?.lease.token).toBe('someone else');
  });

  it('breakLock refuses a live lease without --force and removes an expired one', async () => {
    const store = new MemoryStore();
    const clock = fakeClock();
    await new LeaseLock(store, clock).lock(request('live', { ttlMs: 10_000 }));
    const refused = await new LeaseLock(store, clock).breakLock({ force: false, reason: 'ops' });
    expect(refused).toMatchObject({ removed: false, holder: { run_id: 'live', expired: false } });
    expect(store.record).toBeDefined();
    clock.advance(10_001);
    const removed = await new LeaseLock(store, clock).breakLock({ force: false, reason: 'ops' });
    expect(removed).toMatchObject({ removed: true, cleaned: ['shadow of live'] });
    expect(store.record).toBeUndefined();
  });
});

describe('withBackoff', () => {
  it('retries until the attempt succeeds or the wait is spent', async () => {
    let calls = 0;
    const clock = fakeClock();
    const result = await withBackoff(
      async () => (++calls >= 3 ? { ok: true as const, value: 'got it' } : { ok: false as const, miss: 'busy' }),
      10_000,
      clock,
    );
    expect(result).toMatchObject({ ok: true, value: 'got it' });
    expect(calls).toBe(3);
    const never = await withBackoff(async () => ({ ok: false as const, miss: 'busy' }), 0, clock);
    expect(never).toMatchObject({ ok: false, miss: 'busy' });
  });
});
