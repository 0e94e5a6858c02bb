// The lock-hazard lint on the real PostgreSQL: sizes come from the live catalog, an error stops the run at
// preflight with the table untouched (checked in pg_indexes), and an ignore is honoured and recorded.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, kfm, query, readJson, seededDatabasePerTest } from './postgis-harness.js';

const db = seededDatabasePerTest();

async function largeTable(): Promise<void> {
  await query(db.name, 'CREATE TABLE public.readings (id bigint PRIMARY KEY, station text, value double precision)');
  await query(
    db.name,
    "INSERT INTO public.readings SELECT i, 'S' || (i % 50), random() FROM generate_series(1, 30000) AS i",
  );
  await query(db.name, 'ANALYZE public.readings');
}

const indexes = async () =>
  (
    await query<{ indexname: string }>(
      db.name,
      "SELECT indexname FROM pg_indexes WHERE tablename = 'readings' ORDER BY 1",
    )
  ).map((row) => row.indexname);

describe('lock-hazard lint on a busy table', () => {
  it('stops CREATE INDEX without CONCURRENTLY on a table above the threshold, naming its size', async () => {
    await largeTable();
    const dir = await bundle({
      forward: 'CREATE INDEX readings_station ON public.readings (station);\n',
      rollback: 'DROP INDEX IF EXISTS public.readings_station;\n',
      allowedTables: ['readings'],
    });
    const run = await kfm(['apply', dir], db.env);
    expect(run.code).toBe(1);
    const failing = run.json.checks.filter((check: { status: string }) => check.status === 'fail');
    expect(failing.map((check: { code: string }) => check.code)).toEqual(['LINT_ERROR']);
    expect(failing[0].message).toMatch(/forward\.sql:1 \[index-not-concurrent\] .*public\.readings: ~\d{5} rows/);
    expect(await indexes()).toEqual(['readings_pkey']);
  });

  it('runs it with an ignore comment and keeps the reason in the receipt', async () => {
    await largeTable();
    const dir = await bundle({
      forward:
        '-- kfm-lint: ignore index-not-concurrent the table is written once a night\nCREATE INDEX readings_station ON public.readings (station);\n',
      rollback: 'DROP INDEX IF EXISTS public.readings_station;\n',
      allowedTables: ['readings'],
    });
    const run = await kfm(['apply', dir], db.env);
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(await indexes()).toEqual(['readings_pkey', 'readings_station']);
    const receipt = await readJson(path.join(dir, 'receipts/run_receipt.json'));
    expect(receipt.lint).toEqual([
      expect.objectContaining({
        rule: 'index-not-concurrent',
        line: 2,
        table: 'public.readings',
        ignored: { reason: 'the table is written once a night' },
      }),
    ]);
  });

  it('kfm-migrate lint: sizes from the store when it is reachable, static findings that say so when not', async () => {
    await largeTable();
    const dir = await bundle({
      forward:
        'ALTER TABLE public.readings ADD CONSTRAINT positive CHECK (value >= 0);\nALTER TABLE public.parcels ADD CONSTRAINT area_ok CHECK (area_m2 >= 0);\n',
      allowedTables: ['readings', 'parcels'],
    });
    const live = await kfm(['lint', dir], db.env);
    expect(live.code).toBe(1);
    expect(live.json.bundles[0]).toMatchObject({ sizes: 'store' });
    // Only the large table is a hazard; the small one is quiet.
    expect(live.json.bundles[0].findings.map((f: { table: string }) => f.table)).toEqual(['public.readings']);
    const offline = await kfm(['lint', dir], { KFM_PG_DSN: '' });
    expect(offline.code).toBe(1);
    expect(offline.json.bundles[0]).toMatchObject({ sizes: 'unknown' });
    expect(offline.json.bundles[0].findings.map((f: { table: string }) => f.table)).toEqual([
      'public.readings',
      'public.parcels',
    ]);
    expect(offline.json.bundles[0].findings[0].message).toMatch(/size unknown without a store/);
    expect(await query(db.name, "SELECT conname FROM pg_constraint WHERE conname IN ('positive', 'area_ok')")).toEqual(
      [],
    );
  });
});
