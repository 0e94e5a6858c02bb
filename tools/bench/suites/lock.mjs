// How long a transactional `kfm-migrate apply` holds its locks on a store with many tables, and how much
// of that is the POST baseline captured inside the transaction (the receipt's metrics.lock_held_ms and
// metrics.post_capture_ms), vs `psql -1 -f forward.sql` alone. The bundle is the demo's over-reaching one cut
// down to a single CREATE INDEX on public.parcels, so it commits; the template holds the demo seed plus the
// PostGIS suite's synthetic tables. Each run gets a fresh clone of the template and a scratch copy of migrations/.
import fs from 'node:fs';
import path from 'node:path';
import { compareAlternating, runMeasured, sideStats, summarize } from '../lib/measure.mjs';
import { createDatabase, dropDatabase, dsnFor, scratchName, withClient } from '../lib/postgres-scratch.mjs';
import { addTables } from './postgis.mjs';

export const LOCK_SIZES = { full: [2000], quick: [500] };
const FIXTURE = 'fixtures/demo/PG-MIG-2026-03-09-01';
const FORWARD = 'CREATE INDEX parcels_parcel_no_idx ON public.parcels (parcel_no);\n';
const ROLLBACK = 'DROP INDEX IF EXISTS public.parcels_parcel_no_idx;\n';

async function template(root, tables, progress) {
  const name = scratchName('lock_tpl');
  await createDatabase(name);
  await withClient(dsnFor(name), async (client) => {
    await client.query('CREATE EXTENSION IF NOT EXISTS postgis');
    await client.query(fs.readFileSync(path.join(root, 'fixtures/seed/postgis/seed.sql'), 'utf8'));
    for (let s = 0; s < 10; s++) await client.query(`CREATE SCHEMA bench_s${s}`);
  });
  await addTables(dsnFor(name), 0, tables, progress);
  return name;
}

/** A scratch copy of migrations/ with the one-index bundle in it; returns the copy's root and the bundle path. */
function scratchCopy(root, workDir, run) {
  const copy = path.join(workDir, `lock-${run}`);
  fs.rmSync(copy, { recursive: true, force: true });
  fs.cpSync(path.join(root, 'migrations'), path.join(copy, 'migrations'), { recursive: true });
  const bundle = path.join('migrations/postgis', path.basename(FIXTURE));
  fs.cpSync(path.join(root, FIXTURE), path.join(copy, bundle), { recursive: true });
  fs.writeFileSync(path.join(copy, bundle, 'forward.sql'), FORWARD);
  fs.writeFileSync(path.join(copy, bundle, 'rollback.sql'), ROLLBACK);
  return { copy, bundle };
}

export async function benchLock({ sizes, reps, progress, root, workDir }) {
  const cli = path.join(root, 'packages/runner/dist/cli.js');
  const results = [];
  for (const tables of sizes) {
    const tpl = await template(root, tables, progress);
    const metrics = { lock_held_ms: [], post_capture_ms: [] };
    let run = 0;
    const fresh = async () => {
      const database = scratchName('lock');
      await createDatabase(database, { template: tpl });
      return database;
    };
    try {
      const samples = await compareAlternating({
        reps,
        progress: (line) => progress(`lock ${tables}: ${line}`),
        ours: async () => {
          const database = await fresh();
          const { copy, bundle } = scratchCopy(root, workDir, run++);
          try {
            const sample = await runMeasured(process.execPath, [cli, 'apply', bundle, '--json'], {
              cwd: copy,
              env: { ...process.env, KFM_PG_DSN: dsnFor(database) },
            });
            const outcome = sample.report?.outcome?.status;
            if (outcome !== 'committed') throw new Error(`apply did not commit (outcome ${outcome ?? 'unknown'})`);
            const receipt = JSON.parse(fs.readFileSync(path.join(copy, bundle, 'receipts/run_receipt.json'), 'utf8'));
            for (const key of Object.keys(metrics)) {
              if (typeof receipt.metrics?.[key] !== 'number') throw new Error(`the receipt has no metrics.${key}`);
              metrics[key].push(receipt.metrics[key]);
            }
            progress(
              `lock ${tables}: lock_held_ms ${receipt.metrics.lock_held_ms}, post_capture_ms ${receipt.metrics.post_capture_ms}`,
            );
            return sample;
          } finally {
            fs.rmSync(copy, { recursive: true, force: true });
            await dropDatabase(database);
          }
        },
        theirs: async () => {
          const database = await fresh();
          const forward = path.join(workDir, 'lock-forward.sql');
          fs.writeFileSync(forward, FORWARD);
          try {
            return await runMeasured('psql', [
              '-X',
              '-q',
              '-1',
              '-v',
              'ON_ERROR_STOP=1',
              '-d',
              dsnFor(database),
              '-f',
              forward,
            ]);
          } finally {
            await dropDatabase(database);
          }
        },
      });
      // The warm-up run's metrics are not samples.
      for (const key of Object.keys(metrics)) metrics[key] = metrics[key].slice(-reps);
      results.push({
        size: tables,
        unit: 'tables',
        ours: sideStats(samples.ours),
        theirs: sideStats(samples.theirs),
        lock_held_ms: summarize(metrics.lock_held_ms),
        post_capture_ms: summarize(metrics.post_capture_ms),
      });
    } finally {
      await dropDatabase(tpl);
    }
  }
  return {
    name: 'apply_lock',
    what: 'kfm-migrate apply (transactional, one CREATE INDEX) on a store with many tables: locks held, POST inside',
    against: 'psql -1 -f forward.sql',
    basis: 'wall_ms',
    goal: { report: 'metrics.lock_held_ms and metrics.post_capture_ms (POST baseline while the locks are held)' },
    results,
  };
}
