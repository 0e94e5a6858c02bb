// Lock-timeout retries on the real PostgreSQL: another session holds EXCLUSIVE on the table; the
// run's statement times out, everything rolls back, and the whole transaction runs again with backoff.
// The lock holder is named; the table is checked in pg_indexes, not through our fingerprint.
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { dsnFor, kfm, query, readJson, repository, seededDatabasePerTest, startCli, until } from './postgis-harness.js';

const db = seededDatabasePerTest();
const FORWARD = 'CREATE INDEX parcels_retry_idx ON public.parcels (parcel_no);\n';
const ROLLBACK = 'DROP INDEX IF EXISTS public.parcels_retry_idx;\n';

/**
 * Holds a lock (EXCLUSIVE by default) on public.parcels from another session, for `ms` or until
 * `release()` is called, whichever comes first.
 */
async function holdLock(ms: number, mode = 'EXCLUSIVE'): Promise<{ release: () => Promise<void> }> {
  const client = new pg.Client({ connectionString: dsnFor(db.name), application_name: 'nightly-report' });
  await client.connect();
  await client.query('BEGIN');
  // EXCLUSIVE: readers (the baselines) go on; CREATE INDEX (SHARE) waits.
  await client.query(`LOCK TABLE public.parcels IN ${mode} MODE`);
  let once: Promise<void> | undefined;
  const release = () =>
    (once ??= (async () => {
      clearTimeout(timer);
      await client.query('COMMIT');
      await client.end();
    })());
  const timer = setTimeout(() => void release(), ms);
  return { release };
}

const indexes = async () =>
  (
    await query<{ indexname: string }>(
      db.name,
      "SELECT indexname FROM pg_indexes WHERE indexname = 'parcels_retry_idx'",
    )
  ).length;

/** The index bundle in a repository whose policy sets the retries. */
const withRetries = async (attempts: number, maxWait: string) =>
  repository({
    forward: FORWARD,
    rollback: ROLLBACK,
    policy: {
      kfm_policy_version: 'v1',
      protected: { schemas: ['governance'] },
      retries: { attempts, max_wait: maxWait },
    } as never,
  });

describe('lock-timeout retries', () => {
  it('retries the whole transaction after a lock timeout and succeeds once the lock is released', async () => {
    const { dir } = await withRetries(10, '20s');
    // Held until the run has reported its first lock timeout, however slow the machine is to get
    // there; a fixed hold could end before the run even reached the lock.
    const holder = await holdLock(60_000);
    const cli = startCli(['apply', dir], db.env);
    await until(async () => /attempt 2 of 10/.test(cli.output()), 'the first lock timeout to be reported');
    await holder.release();
    const run = await cli.done;
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(await indexes()).toBe(1);
    const receipt = await readJson(path.join(dir, 'receipts/run_receipt.json'));
    expect(receipt.attempts.length).toBeGreaterThanOrEqual(2);
    expect(receipt.attempts[0]).toMatchObject({
      attempt: 1,
      outcome: 'lock_not_available',
      code: 'LOCK_NOT_AVAILABLE',
    });
    expect(receipt.attempts[0].blocker).toMatch(/pid \d+ \(application_name "nightly-report"/);
    expect(receipt.attempts.at(-1).outcome).toBe('committed');
  });

  it('gives up after the policy attempts with exit 1, naming the blocker, and nothing changed', async () => {
    const { dir } = await withRetries(2, '1s');
    // Held for the whole run: a fixed hold could end before a slow machine reached the lock.
    const holder = await holdLock(120_000);
    const run = await kfm(['apply', dir], db.env);
    await holder.release();
    expect(run.code).toBe(1);
    const issue = [...(run.json.issues ?? []), ...(run.json.checks ?? [])].find(
      (entry: { code?: string }) => entry.code === 'LOCK_NOT_AVAILABLE',
    );
    expect(issue?.message).toMatch(/blocked by pid \d+ \(application_name "nightly-report".*\(attempt 2 of 2\)/);
    expect(await indexes()).toBe(0);
  });

  it('a baseline never queues forever behind an ACCESS EXCLUSIVE holder: exit 1 LOCK_NOT_AVAILABLE, nothing changed', async () => {
    const { dir } = await repository({ forward: FORWARD, rollback: ROLLBACK });
    const holder = await holdLock(120_000, 'ACCESS EXCLUSIVE');
    const run = await kfm(['plan', dir], db.env);
    await holder.release();
    expect(run.code, run.stderr.slice(-1500)).toBe(1);
    expect(JSON.stringify(run.json.issues)).toContain('LOCK_NOT_AVAILABLE');
    expect(await indexes()).toBe(0);
  });
});
