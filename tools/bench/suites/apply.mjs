// `kfm-migrate apply` of the example PostGIS bundle (PG-MIG-2026-02-28-01: a GiST index on
// public.parcels) vs `psql -f forward.sql` alone, each on a fresh database cloned from a seeded
// template (the demo seed: 3,000 parcels; and 100× rows: 300,000 parcels). The difference is the
// price of governance: lock, ledger, preflight, PRE/POST baselines, diff, receipts.
import fs from 'node:fs';
import path from 'node:path';
import { compareAlternating, runMeasured, sideStats } from '../lib/measure.mjs';
import { createDatabase, dropDatabase, dsnFor, scratchName, withClient } from '../lib/postgres-scratch.mjs';

export const APPLY_SIZES = { full: [1, 100], quick: [1] };
const BUNDLE = 'migrations/postgis/PG-MIG-2026-02-28-01';

/** More parcels on the same kind of grid as the seed, beyond its 60 × 50 squares: 3,000 × (factor − 1). */
const EXTRA_PARCELS = (rows) => `
INSERT INTO public.parcels (parcel_no, land_use, geom)
SELECT format('B-%s', i), (ARRAY['residential', 'agricultural', 'commercial', 'open_space'])[1 + i % 4],
       ST_Multi(ST_MakeEnvelope((i % 600) * 0.01, 0.5 + (i / 600) * 0.01, (i % 600) * 0.01 + 0.009, 0.5 + (i / 600) * 0.01 + 0.009, 4326))
FROM generate_series(0, ${rows - 1}) AS i`;

async function seededTemplate(root, factor) {
  const name = scratchName('apply_tpl');
  await createDatabase(name);
  await withClient(dsnFor(name), async (client) => {
    await client.query('CREATE EXTENSION IF NOT EXISTS postgis');
    await client.query(fs.readFileSync(path.join(root, 'fixtures/seed/postgis/seed.sql'), 'utf8'));
    if (factor > 1) await client.query(EXTRA_PARCELS(3000 * (factor - 1)));
    await client.query('VACUUM ANALYZE');
  });
  return name;
}

export async function benchApply({ sizes, reps, progress, root, workDir }) {
  const cli = path.join(root, 'packages/runner/dist/cli.js');
  const results = [];
  for (const factor of sizes) {
    const template = await seededTemplate(root, factor);
    const parcels = await withClient(dsnFor(template), async (c) =>
      Number((await c.query('SELECT count(*) AS n FROM public.parcels')).rows[0].n),
    );
    progress(`apply: template with ${parcels} parcels`);
    const scratch = [];
    let run = 0;
    const fresh = async () => {
      const database = scratchName('apply');
      await createDatabase(database, { template });
      scratch.push(database);
      return database;
    };
    try {
      const samples = await compareAlternating({
        reps,
        progress: (line) => progress(`apply ×${factor}: ${line}`),
        ours: async () => {
          const database = await fresh();
          // A scratch copy of migrations/: apply writes evidence and the registry beside the bundle.
          const copy = path.join(workDir, `apply-${factor}-${run++}`);
          fs.rmSync(copy, { recursive: true, force: true });
          fs.cpSync(path.join(root, 'migrations'), path.join(copy, 'migrations'), { recursive: true });
          try {
            const sample = await runMeasured(process.execPath, [cli, 'apply', BUNDLE, '--json'], {
              cwd: copy,
              env: { ...process.env, KFM_PG_DSN: dsnFor(database) },
            });
            const outcome = sample.report?.outcome?.status;
            if (outcome !== 'committed') throw new Error(`apply did not commit (outcome ${outcome ?? 'unknown'})`);
            return sample;
          } finally {
            fs.rmSync(copy, { recursive: true, force: true });
            await dropDatabase(database);
          }
        },
        theirs: async () => {
          const database = await fresh();
          try {
            return await runMeasured('psql', [
              '-X',
              '-q',
              '-v',
              'ON_ERROR_STOP=1',
              '-d',
              dsnFor(database),
              '-f',
              path.join(root, BUNDLE, 'forward.sql'),
            ]);
          } finally {
            await dropDatabase(database);
          }
        },
      });
      const ours = sideStats(samples.ours);
      const theirs = sideStats(samples.theirs);
      results.push({
        size: factor,
        unit: '× example rows',
        parcels,
        ours,
        theirs,
        overhead_s: Math.round((ours.wall_ms.median - theirs.wall_ms.median) / 10) / 100,
      });
    } finally {
      for (const database of scratch) await dropDatabase(database);
      await dropDatabase(template);
    }
  }
  return {
    name: 'apply',
    what: 'kfm-migrate apply PG-MIG-2026-02-28-01 (CLI, scratch copy, fresh database)',
    against: 'psql -f forward.sql',
    basis: 'wall_ms',
    goal: { report: 'overhead in seconds and as a ratio' },
    results,
  };
}
