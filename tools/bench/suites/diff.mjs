// diffBaselines + evaluate vs JSON.parse of the same two baselines. The baselines are synthetic
// PostGIS-shaped ones (per table: the table, 5 columns, 2 indexes, 2 constraints) written under
// bench/work/; POST changes 1% of the tables (an index digest), adds 0.5% and removes 0.5%.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { compareAlternating, runNodeChild, sideStats } from '../lib/measure.mjs';

export const DIFF_SIZES = { full: [10_000, 100_000, 500_000], quick: [10_000] };
const PER_TABLE = 10;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** A CID-shaped digest (valid for the schema pattern), deterministic per seed. */
function digest(seed) {
  const bytes = createHash('sha256').update(seed).digest();
  let out = 'bagaaiera';
  for (let i = 0; i < 50; i++) out += BASE32[bytes[i % 32] & 31];
  return out;
}

function tableObjects(t, variant = '') {
  const schema = `s${t % 10}`;
  const table = `t${t}`;
  const qualified = `${schema}.${table}`;
  const scope = { schemas: [schema], tables: [qualified, table] };
  const objects = [{ kind: 'table', name: qualified, scope, digest: digest(`table ${qualified}`) }];
  for (const column of ['id', 'name', 'qty', 'created', 'geom'])
    objects.push({
      kind: 'column',
      name: `${qualified}.${column}`,
      scope,
      digest: digest(`column ${qualified}.${column}`),
    });
  objects.push({ kind: 'index', name: `${schema}.${table}_pkey`, scope, digest: digest(`index pkey ${qualified}`) });
  objects.push({
    kind: 'index',
    name: `${schema}.${table}_name_idx`,
    scope,
    digest: digest(`index name ${qualified}${variant}`),
  });
  objects.push({
    kind: 'constraint',
    name: `${qualified}.${table}_pkey`,
    scope,
    digest: digest(`constraint pkey ${qualified}`),
  });
  objects.push({
    kind: 'constraint',
    name: `${qualified}.${table}_qty_check`,
    scope,
    digest: digest(`constraint check ${qualified}`),
  });
  return objects;
}

function baseline(tables, { changedEvery, removedEvery, added }) {
  const objects = [];
  for (let t = 0; t < tables; t++) {
    if (removedEvery && t % removedEvery === 1) continue;
    objects.push(...tableObjects(t, changedEvery && t % changedEvery === 0 ? ' (changed)' : ''));
  }
  for (let t = tables; t < tables + added; t++) objects.push(...tableObjects(t));
  const counts = {
    tables: tables + added,
    columns: (tables + added) * 5,
    indexes: (tables + added) * 2,
    constraints: (tables + added) * 2,
  };
  return {
    kfm_baseline_version: 'v1',
    store: 'postgis',
    server: { product: 'PostgreSQL', version: '15' },
    counts,
    objects,
    measures: {},
    fingerprints: { schema: digest(`root ${tables} ${changedEvery} ${added}`) },
  };
}

export function writeDiffInputs(workDir, objects) {
  const tables = Math.round(objects / PER_TABLE);
  const pre = path.join(workDir, `diff-${objects}-pre.json`);
  const post = path.join(workDir, `diff-${objects}-post.json`);
  fs.writeFileSync(pre, JSON.stringify(baseline(tables, { added: 0 })));
  fs.writeFileSync(
    post,
    JSON.stringify(baseline(tables, { changedEvery: 100, removedEvery: 200, added: Math.round(tables / 200) })),
  );
  return { pre, post, bytes: fs.statSync(pre).size + fs.statSync(post).size };
}

export async function benchDiff({ sizes, reps, progress, root, workDir }) {
  const bundle = path.join(root, 'migrations/postgis/PG-MIG-2026-02-28-01');
  const results = [];
  for (const size of sizes) {
    const { pre, post, bytes } = writeDiffInputs(workDir, size);
    progress(`diff: ${size} objects per baseline (${(bytes / 1e6).toFixed(1)} MB of JSON)`);
    let extra;
    try {
      const samples = await compareAlternating({
        reps,
        progress: (line) => progress(`diff ${size}: ${line}`),
        ours: async () => {
          const run = await runNodeChild('diff-evaluate.mjs', [pre, post, bundle]);
          extra = { changes: run.report.changes, checks: run.report.checks, status: run.report.status };
          return run;
        },
        theirs: () => runNodeChild('json-parse.mjs', [pre, post]),
      });
      results.push({
        size,
        unit: 'objects',
        json_mb: Math.round(bytes / 1e5) / 10,
        ...extra,
        ours: sideStats(samples.ours),
        theirs: sideStats(samples.theirs),
      });
    } finally {
      fs.rmSync(pre, { force: true });
      fs.rmSync(post, { force: true });
    }
  }
  return {
    name: 'diff_evaluate',
    what: 'diffBaselines + evaluate (parsed baselines in, summary out)',
    against: 'JSON.parse of the same two baselines',
    basis: 'op_ms',
    goal: { ratio_max: 2 },
    results,
  };
}
