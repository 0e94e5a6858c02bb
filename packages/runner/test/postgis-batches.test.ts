// Batched backfills on the real PostgreSQL: 200,000 rows in batches of 10,000, each its own transaction,
// with progress; max_row_backfill checked before every batch (never exceeded, then rollback to PRE); a
// killed run resumes from the last batch the ledger recorded. Rows are counted with SQL of our own.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle, kfm, query, readJson, seededDatabasePerTest, startCli } from './postgis-harness.js';

const db = seededDatabasePerTest();
const ROWS = 200_000;

async function readings(): Promise<void> {
  await query(db.name, 'CREATE TABLE public.readings (id bigint PRIMARY KEY, unit text)');
  await query(db.name, `INSERT INTO public.readings SELECT i, NULL FROM generate_series(1, ${ROWS}) AS i`);
  await query(db.name, 'ANALYZE public.readings');
}

const units = async () =>
  (
    await query<{ mm: number; unset: number }>(
      db.name,
      "SELECT count(*) FILTER (WHERE unit = 'mm')::int AS mm, count(*) FILTER (WHERE unit IS NULL)::int AS unset FROM public.readings",
    )
  )[0];

const backfill = (limit: number, pause = 0) =>
  bundle({
    forward: `-- kfm-batch: key=id size=10000${pause ? ` pause=${pause}` : ''}\nUPDATE public.readings SET unit = 'mm' WHERE unit IS NULL;\n`,
    rollback: "UPDATE public.readings SET unit = NULL WHERE unit = 'mm';\n",
    transactional: false,
    allowedTables: ['readings'],
    limits: { max_table_count_touched: 1, max_row_backfill: limit },
  });

describe('batched backfills', () => {
  it('backfills 200,000 rows in batches of 10,000 with progress and the rows in the receipt', async () => {
    await readings();
    const dir = await backfill(ROWS);
    const run = await kfm(['apply', dir], db.env);
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    expect(await units()).toEqual({ mm: ROWS, unset: 0 });
    expect(run.stderr).toMatch(/batch 20 of public\.readings: 200000 row\(s\), last id 200000/);
    const receipt = await readJson(path.join(dir, 'receipts/run_receipt.json'));
    expect(receipt.metrics.rows_affected).toBe(ROWS);
  });

  it('stops before max_row_backfill would be exceeded, then rolls back to PRE', async () => {
    await readings();
    const dir = await backfill(50_000);
    const run = await kfm(['apply', dir], db.env);
    expect(run.code).toBe(1);
    expect(JSON.stringify(run.json)).toMatch(/max_row_backfill 50000 reached after 50000 row\(s\)/);
    expect(await units()).toEqual({ mm: 0, unset: ROWS });
  });

  it('resumes a killed run from the last recorded batch with apply --resume', async () => {
    await readings();
    const dir = await backfill(ROWS, 150);
    const victim = startCli(['apply', dir], db.env);
    for (let i = 0; i < 400 && !/batch 5 of/.test(victim.output()); i++) await new Promise((r) => setTimeout(r, 25));
    victim.kill('SIGKILL');
    await victim.done;
    const done = (await units())!.mm;
    expect(done).toBeGreaterThanOrEqual(50_000);
    expect(done).toBeLessThan(ROWS);

    const refused = await kfm(['apply', dir], db.env);
    expect(refused.code).toBe(1);
    expect(JSON.stringify(refused.json.checks)).toContain('INCOMPLETE_RUN');

    const resumed = await kfm(['apply', dir, '--resume'], db.env);
    expect(resumed.code, resumed.stderr.slice(-2000)).toBe(0);
    expect(await units()).toEqual({ mm: ROWS, unset: 0 });
    // It started after the last recorded key, not from the beginning.
    const first = /batch 1 of public\.readings: \d+ row\(s\), last id (\d+)/.exec(resumed.stderr);
    expect(Number(first?.[1])).toBeGreaterThan(50_000);
  });
});
