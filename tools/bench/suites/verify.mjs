// verifyBundle vs sha256sum over the same artifact files. A bundle under bench/work/ holds four
// artifact files (random bytes, total 1 MB / 100 MB / 1 GB) and a run receipt naming them; both
// sides read them warm from the page cache (a warm-up run precedes the measured ones).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { buildRunReceipt, digestOutput } from '@kfm/receipts';
import { compareAlternating, runMeasured, runNodeChild, sideStats } from '../lib/measure.mjs';

const MB = 1024 * 1024;
export const VERIFY_SIZES = { full: [1 * MB, 100 * MB, 1024 * MB], quick: [1 * MB] };
const PARTS = 4;

function writeRandomFile(file, bytes) {
  const fd = fs.openSync(file, 'w');
  try {
    const chunk = randomBytes(Math.min(bytes, 8 * MB));
    for (let written = 0; written < bytes; written += chunk.length)
      fs.writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
  } finally {
    fs.closeSync(fd);
  }
}

async function writeBundle(dir, total) {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'artifacts'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'receipts'), { recursive: true });
  const files = [];
  for (let k = 0; k < PARTS; k++) {
    const relative = `artifacts/part-${k}.bin`;
    writeRandomFile(path.join(dir, relative), Math.floor(total / PARTS));
    files.push({
      path: relative,
      digest: await digestOutput(path.join(dir, relative)),
      bytes: Math.floor(total / PARTS),
    });
  }
  const receipt = buildRunReceipt({
    migrationId: 'PG-MIG-2026-11-24-01',
    operation: 'apply',
    store: 'postgis',
    actor: { principal: 'svc:bench', role: 'pipeline' },
    environment: { name: 'dev', git_commit: '0000000000000000000000000000000000000000', runner_version: '0.1.0' },
    params: { bench: true },
    inputs: [],
    outputs: files,
    checks: [],
    outcome: { status: 'committed', exit_code: 0 },
    policy: { policy_label: 'public' },
    startedAt: '2026-11-24T00:00:00Z',
    finishedAt: '2026-11-24T00:00:01Z',
  });
  fs.writeFileSync(path.join(dir, 'receipts/run_receipt.json'), JSON.stringify(receipt));
  return files.map((f) => f.path);
}

export async function benchVerify({ sizes, reps, progress, workDir }) {
  const results = [];
  for (const size of sizes) {
    const dir = path.join(workDir, `verify-${size / MB}mb`);
    const files = await writeBundle(dir, size);
    progress(`verify: bundle of ${size / MB} MB written`);
    try {
      const samples = await compareAlternating({
        reps,
        progress: (line) => progress(`verify ${size / MB} MB: ${line}`),
        ours: () => runNodeChild('verify-bundle.mjs', [dir]),
        theirs: () => runMeasured('sha256sum', files, { cwd: dir }),
      });
      const ours = sideStats(samples.ours);
      const theirs = sideStats(samples.theirs);
      const throughput = (stats) => Math.round((size / MB / (stats.wall_ms.median / 1000)) * 10) / 10;
      results.push({
        size,
        unit: 'bytes',
        size_label: `${size / MB} MB`,
        ours: { ...ours, mb_per_s: throughput(ours) },
        theirs: { ...theirs, mb_per_s: throughput(theirs) },
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return {
    name: 'verify',
    what: 'verifyBundle (receipt naming 4 artifact files, child process)',
    against: 'sha256sum over the same files',
    basis: 'wall_ms',
    goal: { throughput_min: 0.8 },
    results,
  };
}
