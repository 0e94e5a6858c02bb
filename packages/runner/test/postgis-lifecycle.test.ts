// The governed lifecycle end to end against the real PostgreSQL+PostGIS, through the CLI a user
// runs. Every test asserts the database state afterwards, by fingerprint or by catalog query.
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  allBytes,
  bundle,
  dsnFor,
  fingerprint,
  kfm,
  query,
  seededDatabasePerTest,
  startCli,
  until,
} from './postgis-harness.js';

/** Advisory locks in the test's own database (other databases on the server may hold theirs). */
const ADVISORY_LOCKS_HERE =
  "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";

const db = seededDatabasePerTest();

const failingCodes = (run: { json: Record<string, any> }) => [
  ...(run.json.checks ?? [])
    .filter((c: { status: string }) => c.status === 'fail')
    .map((c: { code: string }) => c.code),
  ...(run.json.issues ?? []).map((i: { code: string }) => i.code),
];
const indexNames = async () =>
  (
    await query<{ indexname: string }>(
      db.name,
      "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
    )
  ).map((r) => r.indexname);

describe('kfm-migrate apply on PostGIS', () => {
  it('commits an in-scope change, and its receipts verify', async () => {
    const pre = await fingerprint(db.name);
    const dir = await bundle({
      forward: 'CREATE INDEX parcels_geom_gist ON public.parcels USING gist (geom);\n',
      rollback: 'DROP INDEX public.parcels_geom_gist;\n',
    });
    const run = await kfm(['apply', dir], db.env);
    expect(run.code).toBe(0);
    expect(run.json.outcome.status).toBe('committed');
    expect(await indexNames()).toContain('parcels_geom_gist');
    expect(await fingerprint(db.name)).toBe(run.json.fingerprints.post);
    expect(run.json.fingerprints.post).not.toBe(pre);
    const verify = await kfm(['verify', dir], db.env);
    expect(verify.code).toBe(0);
    const receipt = JSON.parse(await fs.readFile(path.join(dir, 'receipts/run_receipt.json'), 'utf8'));
    expect(receipt.outcome.status).toBe('committed');
    expect(await fs.readFile(path.join(dir, 'diffs/touched.csv'), 'utf8')).toContain('public.parcels_geom_gist');
  });

  it('refuses a forward script that names a forbidden table before touching the database', async () => {
    const pre = await fingerprint(db.name);
    const dir = await bundle({
      forward: 'CREATE INDEX authority_sites_name_idx ON public.authority_sites (category);\n',
    });
    const run = await kfm(['apply', dir], db.env);
    expect(run.code).toBe(1);
    expect(failingCodes(run)).toContain('PREFLIGHT_FORBIDDEN');
    expect(await fingerprint(db.name)).toBe(pre);
  });

  it('catches a forbidden table touched where preflight cannot see (dynamic SQL) and leaves PRE', async () => {
    const pre = await fingerprint(db.name);
    const dir = await bundle({
      forward: "DO $$ BEGIN EXECUTE 'CREATE INDEX sneaky_idx ON public.authority_sites (category)'; END $$;\n",
    });
    const run = await kfm(['apply', dir], db.migratorEnv);
    expect(run.code).toBe(1);
    expect(failingCodes(run)).toContain('SCOPE_FORBIDDEN');
    expect(run.json.fingerprints.post).not.toBe(pre); // it was observed inside the transaction …
    expect(await fingerprint(db.name)).toBe(pre); // … and never committed
    expect(await indexNames()).not.toContain('sneaky_idx');
  });

  it.each([
    [
      'max_index_count_delta',
      { max_table_count_touched: 1, max_index_count_delta: 2, max_row_backfill: 0 },
      'CREATE INDEX a_idx ON public.parcels (parcel_no);\nCREATE INDEX b_idx ON public.parcels (updated_at);\nCREATE INDEX c_idx ON public.parcels USING gist (geom);\n',
      ['parcels'],
    ],
    [
      'max_row_backfill',
      { max_table_count_touched: 1, max_index_count_delta: 0, max_row_backfill: 10 },
      'UPDATE public.parcels SET area_m2 = ST_Area(geom::geography);\n',
      ['parcels'],
    ],
    [
      'max_table_count_touched',
      { max_table_count_touched: 1, max_index_count_delta: 2, max_row_backfill: 0 },
      'CREATE TABLE public.parcel_notes (id int PRIMARY KEY, note text);\nCREATE INDEX parcels_no_idx ON public.parcels (parcel_no);\n',
      ['parcels', 'parcel_notes'],
    ],
  ])('fails closed when %s is exceeded, leaving the database at PRE', async (limit, limits, forward, allowedTables) => {
    const pre = await fingerprint(db.name);
    const areas = await query(db.name, 'SELECT count(*)::int AS n FROM public.parcels WHERE area_m2 IS NOT NULL');
    const dir = await bundle({ forward, limits, allowedTables });
    const run = await kfm(['apply', dir], db.env);
    expect(run.code).toBe(1);
    const failed = run.json.checks.filter((c: { status: string }) => c.status === 'fail');
    expect(failed.map((c: { name: string; code: string }) => [c.name, c.code])).toEqual([
      [`limits.${limit}`, 'LIMIT_EXCEEDED'],
    ]);
    expect(await fingerprint(db.name)).toBe(pre);
    expect(await query(db.name, 'SELECT count(*)::int AS n FROM public.parcels WHERE area_m2 IS NOT NULL')).toEqual(
      areas,
    );
  });

  it('rolls back to PRE and records it', async () => {
    const pre = await fingerprint(db.name);
    const dir = await bundle({
      forward: 'ALTER TABLE public.parcels ADD COLUMN zone text;\n',
      rollback: 'ALTER TABLE public.parcels DROP COLUMN zone;\n',
      limits: { max_table_count_touched: 1, max_index_count_delta: 0, max_row_backfill: 0 },
    });
    expect((await kfm(['apply', dir], db.env)).code).toBe(0);
    expect(await fingerprint(db.name)).not.toBe(pre);
    const rollback = await kfm(['rollback', dir], db.env);
    expect(rollback.code).toBe(0);
    expect(rollback.json.outcome.status).toBe('rolled_back');
    expect(await fingerprint(db.name)).toBe(pre);
    expect((await kfm(['verify', dir], db.env)).code).toBe(0);
    // The rollback's receipt sits beside the apply's: append-only, nothing overwritten.
    expect((await fs.readdir(path.join(dir, 'receipts/runs'))).length).toBe(2);
  });

  it('reports an incomplete rollback with exit 4', async () => {
    const dir = await bundle({
      forward: 'ALTER TABLE public.parcels ADD COLUMN zone text;\nALTER TABLE public.parcels ADD COLUMN ward text;\n',
      rollback: 'ALTER TABLE public.parcels DROP COLUMN zone;\n',
      limits: { max_table_count_touched: 1, max_index_count_delta: 0, max_row_backfill: 0 },
    });
    expect((await kfm(['apply', dir], db.env)).code).toBe(0);
    const rollback = await kfm(['rollback', dir], db.env);
    expect(rollback.code).toBe(4);
    expect(failingCodes(rollback)).toContain('ROLLBACK_UNVERIFIED');
  });

  it('leaves nothing behind when a statement fails halfway through the forward script', async () => {
    const pre = await fingerprint(db.name);
    const dir = await bundle({
      forward:
        'CREATE INDEX half_idx ON public.parcels (parcel_no);\nSELECT 1/0;\nCREATE INDEX never_idx ON public.parcels (updated_at);\n',
    });
    const run = await kfm(['apply', dir], db.env);
    expect(run.code).toBe(1);
    expect(failingCodes(run)).toContain('STATEMENT_FAILED');
    expect(run.json.issues[0].file ?? run.json.issues[0].message).toMatch(/forward\.sql/);
    expect(await fingerprint(db.name)).toBe(pre);
    expect(await indexNames()).not.toContain('half_idx');
  });

  it('refuses a concurrent second apply at once, naming the holder', async () => {
    const slow = await bundle({
      forward: 'CREATE INDEX slow_idx ON public.parcels (parcel_no);\nSELECT pg_sleep(4);\n',
    });
    const other = await bundle({
      forward: 'CREATE INDEX other_idx ON public.parcels (updated_at);\n',
      id: 'PG-MIG-2026-11-24-02',
    });
    const first = startCli(['apply', slow], db.env);
    await until(
      async () => (await query(db.name, ADVISORY_LOCKS_HERE + ' AND granted')).length > 0,
      'the first run to hold the lock',
    );
    const second = await kfm(['apply', other], db.env);
    expect(second.code).toBe(1);
    const lock = second.json.checks.find((c: { name: string }) => c.name === 'store_lock');
    expect(lock).toMatchObject({ status: 'fail', code: 'LOCK_HELD' });
    expect(lock.message).toMatch(/pid \d+/);
    expect(await indexNames()).not.toContain('other_idx');
    expect((await first.done).code).toBe(0);
  });

  it('leaves the database at PRE when the runner is killed mid-apply, and the next run succeeds', async () => {
    const pre = await fingerprint(db.name);
    const dir = await bundle({
      forward: 'CREATE INDEX killed_idx ON public.parcels (parcel_no);\nSELECT pg_sleep(60);\n',
    });
    const run = startCli(['apply', dir], db.env);
    await until(
      async () =>
        (
          await query(
            db.name,
            "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()",
          )
        ).length > 0,
      'the forward script to be running',
    );
    run.kill('SIGKILL');
    await run.done;
    await until(
      async () => (await query(db.name, ADVISORY_LOCKS_HERE)).length === 0,
      'the server to release the dead run',
    );
    expect(await fingerprint(db.name)).toBe(pre);
    await fs.writeFile(path.join(dir, 'forward.sql'), 'CREATE INDEX killed_idx ON public.parcels (parcel_no);\n');
    const again = await kfm(['apply', dir], db.env);
    expect(again.code).toBe(0);
    expect(await indexNames()).toContain('killed_idx');
  });

  it('marks a non-transactional run started; killed mid-way, apply refuses and rollback restores PRE and clears the mark', async () => {
    const pre = await fingerprint(db.name);
    const dir = await bundle({
      transactional: false,
      forward: 'CREATE INDEX CONCURRENTLY crash_idx ON public.parcels (parcel_no);\nSELECT pg_sleep(60);\n',
      rollback: 'DROP INDEX CONCURRENTLY IF EXISTS public.crash_idx;\n',
    });
    const run = startCli(['apply', dir], db.env);
    await until(
      async () =>
        (
          await query(
            db.name,
            "SELECT 1 FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()",
          )
        ).length > 0,
      'the second statement to be running',
    );
    run.kill('SIGKILL');
    await run.done;
    await until(
      async () => (await query(db.name, ADVISORY_LOCKS_HERE)).length === 0,
      'the server to release the dead run',
    );
    // The index of the first statement is there (autocommit); the ledger says the run started.
    expect(await indexNames()).toContain('crash_idx');
    const ledger = await query<{ status: string; pre_fingerprint: string }>(
      db.name,
      "SELECT status, pre_fingerprint FROM kfm_ledger.applied WHERE status <> 'receipt' ORDER BY seq",
    );
    expect(ledger).toEqual([{ status: 'started', pre_fingerprint: pre }]);

    const refused = await kfm(['apply', dir], db.env);
    expect(refused.code).toBe(1);
    expect(refused.json.outcome.code).toBe('INCOMPLETE_RUN');
    expect(refused.json.outcome.message).toMatch(/kfm-migrate rollback/);
    expect(await indexNames()).toContain('crash_idx'); // the refusal changed nothing

    const rolled = await kfm(['rollback', dir], db.env);
    expect(rolled.code).toBe(0);
    expect(await indexNames()).not.toContain('crash_idx');
    expect(await fingerprint(db.name)).toBe(pre);
    expect(
      (
        await query<{ status: string }>(
          db.name,
          "SELECT status FROM kfm_ledger.applied WHERE status <> 'receipt' ORDER BY seq DESC LIMIT 1",
        )
      )[0]?.status,
    ).toBe('rolled_back');

    await fs.writeFile(
      path.join(dir, 'forward.sql'),
      'CREATE INDEX CONCURRENTLY crash_idx ON public.parcels (parcel_no);\n',
    );
    expect((await kfm(['apply', dir], db.env)).code).toBe(0);
  });

  it('detects drift: an applied id whose forward script changed is refused with both digests', async () => {
    const dir = await bundle({ forward: 'CREATE INDEX drift_idx ON public.parcels (parcel_no);\n' });
    const first = await kfm(['apply', dir], db.env);
    expect(first.code).toBe(0);
    const again = await kfm(['apply', dir], db.env);
    expect(failingCodes(again)).toContain('LEDGER_ALREADY_APPLIED');
    await fs.writeFile(
      path.join(dir, 'forward.sql'),
      'CREATE INDEX drift_idx ON public.parcels (parcel_no, updated_at);\n',
    );
    const after = await fingerprint(db.name);
    const drift = await kfm(['apply', dir], db.env);
    expect(drift.code).toBe(1);
    const ledger = drift.json.checks.find((c: { name: string }) => c.name === 'ledger');
    expect(ledger.code).toBe('LEDGER_DRIFT');
    expect(ledger.declared).not.toBe(ledger.observed);
    expect(ledger.message).toContain(ledger.declared);
    expect(ledger.message).toContain(ledger.observed);
    expect(await fingerprint(db.name)).toBe(after);
  });

  it('gives exit 3 and a failed-run receipt when the database is unreachable', async () => {
    const dir = await bundle({ forward: 'CREATE INDEX x_idx ON public.parcels (parcel_no);\n' });
    const run = await kfm(['apply', dir], { KFM_PG_DSN: 'postgres://kfm:unreachable-secret@127.0.0.1:1/nowhere' });
    expect(run.code).toBe(3);
    expect(failingCodes(run)).toContain('STORE_UNREACHABLE');
    const receipt = JSON.parse(await fs.readFile(path.join(dir, 'receipts/run_receipt.json'), 'utf8'));
    expect(receipt.outcome).toMatchObject({ status: 'failed', exit_code: 3 });
    expect(run.stdout + run.stderr + (await allBytes(dir))).not.toContain('unreachable-secret');
  });

  it('names a missing connection variable, never a value, with exit 3', async () => {
    const dir = await bundle({ forward: 'SELECT 1;\n' });
    const run = await kfm(['apply', dir], { KFM_PG_DSN: '' });
    expect(run.code).toBe(3);
    expect(run.json.issues[0]).toMatchObject({ code: 'ENV_MISSING' });
    expect(run.json.issues[0].message).toContain('KFM_PG_DSN');
  });

  it('refuses to commit a change whose evidence would carry a secret, found at the commit point; PRE stays', async () => {
    // the token is built inside the server, so no script holds it: only the POST baseline would
    const token = `ghp_${'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8'}`;
    const pre = await fingerprint(db.name);
    const dir = await bundle({
      forward:
        "DO $$ BEGIN EXECUTE format('ALTER TABLE public.parcels ADD COLUMN %I text', 'ghp_' || 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8'); END $$;\n",
    });
    const run = await kfm(['apply', dir], db.migratorEnv);
    expect(run.code, run.stderr.slice(-2000)).toBe(1);
    const hit = run.json.checks.find((c: { code?: string }) => c.code === 'POLICY_SCAN_HIT');
    // named with the written file's line, never with the secret
    expect(hit?.message).toMatch(/^baselines\/post\.json:\d+ secretlint\/github/);
    expect(JSON.stringify(run.json) + run.stderr + (await allBytes(dir))).not.toContain(token);
    expect(await fingerprint(db.name)).toBe(pre);
    expect(
      await query(
        db.name,
        "SELECT 1 FROM information_schema.columns WHERE table_name = 'parcels' AND column_name LIKE 'ghp_%'",
      ),
    ).toEqual([]);
  });

  it('writes the DSN and its password into no byte of any artifact or log', async () => {
    const password = 'Pa55-w0rd-never-leaks';
    await query(
      db.name,
      "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'kfm_secret_user') THEN CREATE ROLE kfm_secret_user LOGIN SUPERUSER; END IF; END $$",
    );
    const dsn = dsnFor(db.name, `kfm_secret_user:${password}`);
    const dir = await bundle({
      forward: 'CREATE INDEX leak_idx ON public.parcels (parcel_no);\n',
      rollback: 'DROP INDEX public.leak_idx;\n',
    });
    const runs = [];
    for (const args of [
      ['plan', dir],
      ['apply', dir],
      ['verify', dir],
      ['rollback', dir],
      ['status', '--root', dir],
    ])
      runs.push(await kfm(args, { KFM_PG_DSN: dsn }));
    expect(runs.slice(0, 4).map((r) => r.code)).toEqual([0, 0, 0, 0]);
    const everything = runs.map((r) => r.stdout + r.stderr).join('') + (await allBytes(dir));
    expect(everything).not.toContain(password);
    expect(everything).not.toContain(dsn);
    expect(everything).not.toContain('kfm_secret_user:');
  });
});
