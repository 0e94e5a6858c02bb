// Measurement core of the bench: every measured thing runs in its own child process under GNU time,
// so the parent reads that process's peak RSS (and the largest one of a pipeline) without sharing
// a heap with it. Children that run our code print one JSON line with their in-process timing.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const GNU_TIME = '/usr/bin/time';

/** Whether GNU time is installed (the bench falls back to the child's own maxRSS report without it). */
export const hasGnuTime = fs.existsSync(GNU_TIME);

/**
 * Runs one command to completion and measures it: wall time from spawn to exit (ms), peak RSS of the
 * process — for a shell pipeline, of its largest member — in KiB, and the child's JSON report, if any.
 * Fails (throws) on a non-zero exit: a benchmark that errors has no meaningful time.
 */
export async function runMeasured(
  command,
  args,
  { env = process.env, cwd, timeoutMs = 30 * 60_000, allowExit = [0] } = {},
) {
  const rssFile = path.join(os.tmpdir(), `kfm-bench-rss-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const [file, argv] = hasGnuTime ? [GNU_TIME, ['-f', '%M', '-o', rssFile, command, ...args]] : [command, args];
  const started = performance.now();
  const child = spawn(file, argv, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exit) => resolve(exit));
  });
  clearTimeout(timer);
  const wallMs = performance.now() - started;
  let rssKb;
  if (hasGnuTime) {
    const text = fs.readFileSync(rssFile, 'utf8');
    fs.rmSync(rssFile, { force: true });
    // GNU time writes "Command exited with non-zero status N" before the format line on failure.
    rssKb = Number(text.trim().split('\n').at(-1));
  }
  if (!allowExit.includes(code)) {
    throw new Error(`${path.basename(command)} exited ${code}: ${stderr.trim().split('\n').slice(-5).join(' | ')}`);
  }
  const report = lastJsonLine(stdout);
  if (rssKb === undefined && report?.maxRssKb) rssKb = report.maxRssKb;
  return { wallMs, rssKb, report, stdout, code };
}

function lastJsonLine(text) {
  // A CLI's --json output is one (possibly pretty-printed) document; children print one line.
  try {
    return JSON.parse(text);
  } catch {
    // fall through to the last line
  }
  const line = text
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  if (!line) return undefined;
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** Runs a Node child script from tools/bench/children with arguments; it reports {opMs, ...} as JSON. */
export function runNodeChild(script, args = [], options = {}) {
  const file = new URL(`../children/${script}`, import.meta.url).pathname;
  return runMeasured(process.execPath, [file, ...args.map(String)], options);
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median, min, max and the spread (max − min) relative to the median, rounded for reading. */
export function summarize(values) {
  if (values.length === 0) return undefined;
  const m = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return {
    median: round(m),
    min: round(min),
    max: round(max),
    spread_pct: m > 0 ? round(((max - min) / m) * 100, 1) : 0,
    n: values.length,
  };
}

export function round(value, digits = 2) {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * Runs `ours` and `theirs` alternately `reps` times (alternating evens out load from other sessions
 * on the machine) after one unmeasured warm-up of each (page cache, server caches, JIT of the server).
 * Returns the raw samples of both.
 */
export async function compareAlternating({ ours, theirs, reps, warmup = true, progress }) {
  if (warmup) {
    await ours();
    await theirs();
  }
  const samples = { ours: [], theirs: [] };
  for (let i = 0; i < reps; i++) {
    const order = i % 2 === 0 ? ['ours', 'theirs'] : ['theirs', 'ours'];
    for (const side of order) {
      const sample = await (side === 'ours' ? ours() : theirs());
      samples[side].push(sample);
      progress?.(`${side} #${i + 1}: ${(sample.wallMs / 1000).toFixed(2)} s wall, ${sample.rssKb ?? '?'} KiB peak`);
    }
  }
  return samples;
}

/** Summaries of one side's samples: process wall time, in-process op time (if reported), peak RSS. */
export function sideStats(samples) {
  const ops = samples.map((s) => s.report?.opMs).filter((v) => typeof v === 'number');
  return {
    wall_ms: summarize(samples.map((s) => s.wallMs)),
    ...(ops.length === samples.length ? { op_ms: summarize(ops) } : {}),
    peak_rss_mb: summarize(samples.map((s) => (s.rssKb ?? 0) / 1024)),
  };
}
