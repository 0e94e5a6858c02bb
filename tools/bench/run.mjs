// `npm run bench [-- --quick] [--only postgis,search,…] [--sizes 2000,10000] [--reps N] [--no-readme]`: builds synthetic stores at several
// sizes and measures each of our operations against what a user would run instead, side by side in
// one run (each measured thing in its own child process: median wall/op time and peak RSS). Writes
// bench/results/latest.json and the table in README's `## Benchmarks` section. Progress on stderr.
// Every suite removes its synthetic data (databases, indices, nodes) when it ends, even on failure.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeMachine } from './lib/machine.mjs';
import { judge, markdownTable, updateReadme } from './lib/report.mjs';
import { round } from './lib/measure.mjs';
import { APPLY_SIZES, benchApply } from './suites/apply.mjs';
import { DIFF_SIZES, benchDiff } from './suites/diff.mjs';
import { GRAPH_SIZES, benchGraph } from './suites/graph.mjs';
import { LOCK_SIZES, benchLock } from './suites/lock.mjs';
import { POSTGIS_SIZES, benchPostgis } from './suites/postgis.mjs';
import { SEARCH_SIZES, benchSearch } from './suites/search.mjs';
import { STARTUP_SIZES, benchStartup } from './suites/startup.mjs';
import { VERIFY_SIZES, benchVerify } from './suites/verify.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SUITES = [
  { key: 'postgis', short: 'PostGIS baseline vs pg_dump', sizes: POSTGIS_SIZES, run: benchPostgis },
  { key: 'search', short: 'Search baseline vs raw fetch', sizes: SEARCH_SIZES, run: benchSearch },
  { key: 'graph', short: 'Graph baseline', sizes: GRAPH_SIZES, run: benchGraph },
  { key: 'diff', short: 'diff + evaluate vs JSON.parse', sizes: DIFF_SIZES, run: benchDiff },
  { key: 'verify', short: 'verify vs sha256sum', sizes: VERIFY_SIZES, run: benchVerify },
  { key: 'apply', short: 'apply vs psql -f', sizes: APPLY_SIZES, run: benchApply },
  { key: 'startup', short: 'kfm-migrate start-up vs node -e 0', sizes: STARTUP_SIZES, run: benchStartup },
  { key: 'lock', short: 'apply: locks held at N tables', sizes: LOCK_SIZES, run: benchLock },
];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    reps: { type: 'string', default: '3' },
    // Sizes for the suites that run (instead of their full or --quick sizes), e.g. --only postgis --sizes 2000.
    sizes: { type: 'string' },
    'no-readme': { type: 'boolean', default: false },
  },
});
const reps = Number(values.reps);
if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps must be a positive integer');
const only = values.only ? new Set(values.only.split(',')) : undefined;
const unknown = [...(only ?? [])].filter((key) => !SUITES.some((s) => s.key === key));
if (unknown.length)
  throw new Error(`unknown suite(s): ${unknown.join(', ')} (known: ${SUITES.map((s) => s.key).join(', ')})`);

const progress = (line) => process.stderr.write(`[bench] ${line}\n`);

// The bench measures the built packages; a missing dist would measure nothing.
for (const entry of ['baseline-postgis', 'baseline-search', 'baseline-graph', 'diff', 'receipts', 'migration-contracts']
  .map((p) => `packages/${p}/dist/index.js`)
  .concat('packages/runner/dist/cli.js')) {
  if (!fs.existsSync(path.join(root, entry))) {
    progress(`${entry} is missing: run \`npm run build\` first`);
    process.exit(2);
  }
}

const workDir = path.join(root, 'bench/work');
fs.mkdirSync(workDir, { recursive: true });
const started = new Date();
const machine = await describeMachine();
progress(
  `${machine.cpus} CPUs, ${machine.memory_gb} GB, load ${machine.load_average_start.join(' ')}; ${reps} reps${values.quick ? ', --quick' : ''}`,
);

const benchmarks = [];
const stamp = () => ({ measured_at: new Date().toISOString(), load_average: os.loadavg().map((v) => round(v, 2)) });
for (const suite of SUITES) {
  if (only && !only.has(suite.key)) continue;
  const sizes = values.sizes
    ? values.sizes.split(',').map(Number)
    : values.quick
      ? suite.sizes.quick
      : suite.sizes.full;
  const suiteStarted = performance.now();
  progress(`${suite.key}: sizes ${sizes.join(', ')}`);
  try {
    // A suite measures one benchmark, or several on the same data (graph: full and scoped).
    const produced = [await suite.run({ sizes, reps, progress, root, workDir })].flat();
    const seconds = round((performance.now() - suiteStarted) / 1000, 1);
    for (const benchmark of produced)
      benchmarks.push({ suite: suite.key, short: suite.short, ...judge(benchmark), seconds, ...stamp() });
  } catch (error) {
    progress(`${suite.key}: FAILED: ${error.message}`);
    benchmarks.push({
      suite: suite.key,
      name: suite.key,
      short: suite.short,
      error: error.message,
      met: false,
      ...stamp(),
    });
  }
  progress(`${suite.key}: done in ${((performance.now() - suiteStarted) / 1000).toFixed(0)} s`);
}

// --quick writes quick.json and leaves README alone (the full run's table stays); --only merges the
// suites it ran into the existing results, so one suite can be re-measured without the others.
const outFile = path.join(root, 'bench/results', values.quick ? 'quick.json' : 'latest.json');
let merged = benchmarks;
if (only && fs.existsSync(outFile)) {
  const previous = JSON.parse(fs.readFileSync(outFile, 'utf8')).benchmarks ?? [];
  // Suite order; every benchmark of a suite this run measured replaces that suite's previous ones.
  const ranSuites = new Set(benchmarks.map((b) => b.suite));
  const order = (b) => SUITES.findIndex((s) => s.key === b.suite || s.short === b.short);
  // Kept benchmarks are judged again, so a goal added since they ran (a scale row) is rendered for them too.
  const kept = previous.filter((b) => !ranSuites.has(b.suite)).map((b) => (b.error ? b : judge(b)));
  merged = [...kept, ...benchmarks].sort((a, b) => order(a) - order(b));
}
const results = {
  kfm_bench_version: 1,
  generated_at: started.toISOString(),
  seconds: round((Date.now() - started.getTime()) / 1000, 1),
  quick: values.quick,
  reps,
  ...(only ? { last_run_only: [...only] } : {}),
  machine: { ...machine, load_average_end: os.loadavg().map((v) => round(v, 2)) },
  benchmarks: merged,
};
fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.writeFileSync(outFile, JSON.stringify(results, null, 2) + '\n');
const table = markdownTable(results);
const readme = !values.quick && !values['no-readme'];
if (readme) updateReadme(path.join(root, 'README.md'), table);
console.log(table);
progress(`wrote ${path.relative(root, outFile)}${readme ? ' and README.md' : ''} in ${results.seconds} s`);
process.exit(benchmarks.some((b) => b.error) ? 1 : 0);
