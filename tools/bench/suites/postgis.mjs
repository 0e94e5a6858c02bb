// PostGIS baseline vs `pg_dump --schema-only | sha256sum` — the command a user would otherwise run to
// fingerprint a schema. One scratch database grows through the sizes (500 → 2,000 → 10,000 → 50,000 tables);
// each size is measured with both commands alternately, then the database is dropped.
import { compareAlternating, runMeasured, runNodeChild, sideStats } from '../lib/measure.mjs';
import { createDatabase, dropDatabase, dsnFor, scratchName, withClient } from '../lib/postgres-scratch.mjs';

// 50,000 tables: the scale point issue 16 asks for once per run (time, peak memory, growth per table).
export const POSTGIS_SIZES = { full: [500, 2000, 10000, 50000], quick: [500] };
const SCHEMAS = 10;
const BATCH = 250;

/**
 * Tables from..to-1: id bigint PRIMARY KEY, name, qty with a CHECK constraint, created date; every
 * fourth table has geometry(Point, 4326) with a GiST index, the others a btree on name — so each
 * table has two indexes and two constraints (primary key, check).
 */
const CREATE_TABLES = `
DO $$
DECLARE
  i integer;
  s text;
BEGIN
  FOR i IN $FROM$..$TO$ LOOP
    s := 'bench_s' || (i % ${SCHEMAS});
    IF i % 4 = 0 THEN
      EXECUTE format('CREATE TABLE %I.%I (id bigint PRIMARY KEY, name text NOT NULL, qty integer NOT NULL DEFAULT 0 CONSTRAINT %I CHECK (qty >= 0), created date, geom geometry(Point, 4326))', s, 't' || i, 't' || i || '_qty_check');
      EXECUTE format('CREATE INDEX %I ON %I.%I USING gist (geom)', 't' || i || '_geom_idx', s, 't' || i);
    ELSE
      EXECUTE format('CREATE TABLE %I.%I (id bigint PRIMARY KEY, name text NOT NULL, qty integer NOT NULL DEFAULT 0 CONSTRAINT %I CHECK (qty >= 0), created date)', s, 't' || i, 't' || i || '_qty_check');
      EXECUTE format('CREATE INDEX %I ON %I.%I (name)', 't' || i || '_name_idx', s, 't' || i);
    END IF;
  END LOOP;
END $$;`;

export async function addTables(dsn, from, to, progress) {
  await withClient(dsn, async (client) => {
    // One transaction per batch keeps the lock table small (max_locks_per_transaction is 64 by default).
    for (let start = from; start < to; start += BATCH) {
      const end = Math.min(start + BATCH, to) - 1;
      await client.query(CREATE_TABLES.replace('$FROM$', String(start)).replace('$TO$', String(end)));
    }
    await client.query('ANALYZE');
  });
  progress(`postgis: ${to} tables`);
}

export async function benchPostgis({ sizes, reps, progress }) {
  const database = scratchName('pg');
  const dsn = dsnFor(database);
  const env = { ...process.env, KFM_BENCH_DSN: dsn };
  const results = [];
  await createDatabase(database);
  try {
    await withClient(dsn, async (client) => {
      await client.query('CREATE EXTENSION postgis');
      for (let s = 0; s < SCHEMAS; s++) await client.query(`CREATE SCHEMA bench_s${s}`);
    });
    let built = 0;
    for (const size of sizes) {
      const buildStarted = performance.now();
      await addTables(dsn, built, size, progress);
      built = size;
      progress(
        `postgis: built in ${((performance.now() - buildStarted) / 1000).toFixed(1)} s; measuring ${size} tables`,
      );
      let objects;
      const ours = async () => {
        const run = await runNodeChild('postgis-capture.mjs', [], { env });
        objects = run.report.objects;
        return run;
      };
      // pipefail: a failing pg_dump must not pass as a fast run.
      const theirs = () =>
        runMeasured(
          'bash',
          ['-o', 'pipefail', '-c', 'pg_dump --schema-only --no-owner -d "$KFM_BENCH_DSN" | sha256sum'],
          { env },
        );
      // pg_dump locks every table it dumps in one transaction: past max_locks_per_transaction ×
      // (max_connections + max_prepared_transactions) tables it fails with "out of shared memory" on a
      // default server (50,000 tables here). The baseline takes no table locks; it is then measured
      // alone, and the row says why there is nothing beside it.
      const refusal = await theirs().then(
        () => undefined,
        (error) =>
          String(error.message)
            .match(/pg_dump: error: [^|]*/)?.[0]
            ?.trim() ?? String(error.message),
      );
      if (refusal) {
        progress(`postgis ${size}: pg_dump failed (${refusal}); measuring the baseline alone`);
        await ours();
        const alone = [];
        for (let i = 0; i < reps; i++) alone.push(await ours());
        results.push({ size, unit: 'tables', objects, ours: sideStats(alone), theirs: null, theirs_error: refusal });
        continue;
      }
      const samples = await compareAlternating({
        reps,
        progress: (line) => progress(`postgis ${size}: ${line}`),
        ours,
        theirs,
      });
      results.push({ size, unit: 'tables', objects, ours: sideStats(samples.ours), theirs: sideStats(samples.theirs) });
    }
  } finally {
    await dropDatabase(database);
  }
  return {
    name: 'postgis_baseline',
    what: 'PostGIS baseline (capturePostgisBaseline, child process)',
    against: 'pg_dump --schema-only | sha256sum',
    basis: 'wall_ms',
    goal: { ratio_max: 0.5, also: 'time linear in tables' },
    results,
  };
}
