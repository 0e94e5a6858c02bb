// kfm-migrate start-up: `kfm-migrate --version` and `kfm-migrate validate BUNDLE` (each store's example
// bundle) vs `node -e 0`, the floor every Node CLI pays. Both sides are fresh processes measured by wall
// time; validate reads the bundle, parses both scripts with the store's grammar and scans them, so it also
// shows what loading each store's adapter costs a command that never connects. The ratio is the median of
// per-pair ratios (runs alternate, so each pair shares the machine's load at that moment).
import path from 'node:path';
import { compareAlternating, runMeasured, sideStats, summarize } from '../lib/measure.mjs';

const CASES = [
  { key: 'version', label: '`--version`', args: ['--version'], ratio_max: 1.5 },
  {
    key: 'validate-graph',
    label: '`validate` graph bundle',
    args: ['validate', 'migrations/graph/GRAPH-MIG-2026-03-06-01'],
    ratio_max: 2.5,
  },
  {
    key: 'validate-search',
    label: '`validate` search bundle',
    args: ['validate', 'migrations/search/SEARCH-MIG-2026-03-05-01'],
    ratio_max: 2.5,
  },
  {
    key: 'validate-postgis',
    label: '`validate` PostGIS bundle',
    args: ['validate', 'migrations/postgis/PG-MIG-2026-02-28-01'],
    ratio_max: 2.5,
  },
];
const keys = CASES.map((c) => c.key);
export const STARTUP_SIZES = { full: keys, quick: keys };

/** Start-up times are short and noisy: five times the suite's repetitions per side. */
const SAMPLES_PER_REP = 5;

export async function benchStartup({ sizes, reps, progress, root }) {
  const bin = path.join(root, 'packages/runner/bin/kfm-migrate.js');
  const results = [];
  for (const key of sizes) {
    const spec = CASES.find((c) => c.key === key);
    const samples = await compareAlternating({
      reps: reps * SAMPLES_PER_REP,
      progress: (line) => progress(`start-up ${key}: ${line}`),
      ours: () => runMeasured(process.execPath, [bin, ...spec.args], { cwd: root }),
      theirs: () => runMeasured(process.execPath, ['-e', '0'], { cwd: root }),
    });
    results.push({
      size: key,
      size_label: spec.label,
      command: `kfm-migrate ${spec.args.join(' ')}`,
      goal: { ratio_max: spec.ratio_max },
      ours: sideStats(samples.ours),
      theirs: sideStats(samples.theirs),
      // Each kfm-migrate run over the node -e 0 run beside it: the machine is shared, and a pair sees the same load.
      paired_ratio: summarize(samples.ours.map((sample, i) => sample.wallMs / samples.theirs[i].wallMs)),
    });
  }
  return {
    name: 'startup',
    what: 'node packages/runner/bin/kfm-migrate.js --version | validate BUNDLE (process wall time)',
    against: 'node -e 0',
    basis: 'wall_ms',
    goal: { ratio_max: 2.5 }, // validate's bound; --version carries its own (1.5×)
    results,
  };
}
