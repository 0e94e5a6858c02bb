// diffs/temporal.json for graph stores: before/after structure a reviewer can reason about —
// label, relationship-type and pattern counts, and degree histograms per label and direction.
// Built from baseline counts and measures only, so it is as cheap as the baselines themselves.
import type { Baseline } from '@kfm/migration-contracts';
import { compareText, type CountDelta } from './baseline-diff.js';

export interface TemporalDiff {
  labels: Record<string, CountDelta>;
  relationship_types: Record<string, CountDelta>;
  /** Keyed `(<Start>)-[<TYPE>]->(<End>)`. */
  patterns: Record<string, CountDelta>;
  /** Keyed `<out|in>:<Label>`, then by log2 bucket (`0`, `1`, `2-3`, `4-7`, …) in numeric order. */
  degree: Record<string, Record<string, CountDelta>>;
}

function delta(pre: number | undefined, post: number | undefined): CountDelta {
  const before = pre ?? 0;
  const after = post ?? 0;
  return { pre: before, post: after, delta: after - before };
}

/** Every key under `prefix` in either side's counts, with both values (a missing key counts as 0). */
function prefixed(pre: Baseline['counts'], post: Baseline['counts'], prefix: string): Record<string, CountDelta> {
  const names = new Set<string>();
  for (const key of [...Object.keys(pre), ...Object.keys(post)])
    if (key.startsWith(prefix)) names.add(key.slice(prefix.length));
  const out: Record<string, CountDelta> = {};
  for (const name of [...names].sort(compareText)) out[name] = delta(pre[`${prefix}${name}`], post[`${prefix}${name}`]);
  return out;
}

/** The lower bound of a bucket label (`4-7` → 4); unparseable labels sort last, by text. */
function bucketStart(bucket: string): number {
  const start = Number.parseInt(bucket, 10);
  return Number.isNaN(start) ? Number.POSITIVE_INFINITY : start;
}

function compareBuckets(a: string, b: string): number {
  return bucketStart(a) - bucketStart(b) || compareText(a, b);
}

function degrees(
  pre: NonNullable<Baseline['measures']>,
  post: NonNullable<Baseline['measures']>,
): TemporalDiff['degree'] {
  const keys = new Map<string, string>();
  for (const key of [...Object.keys(pre), ...Object.keys(post)]) {
    const match = /^degree_(out|in):(.+)$/s.exec(key);
    if (match) keys.set(`${match[1]}:${match[2]}`, key);
  }
  const out: TemporalDiff['degree'] = {};
  for (const name of [...keys.keys()].sort(compareText)) {
    const key = keys.get(name)!;
    const before = pre[key] ?? {};
    const after = post[key] ?? {};
    const buckets = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort(compareBuckets);
    const histogram: Record<string, CountDelta> = {};
    for (const bucket of buckets) histogram[bucket] = delta(before[bucket], after[bucket]);
    out[name] = histogram;
  }
  return out;
}

/** Structural before/after of two graph baselines; every key present on either side is listed, deltas of 0 included. */
export function temporalDiff(pre: Baseline, post: Baseline): TemporalDiff {
  return {
    labels: prefixed(pre.counts, post.counts, 'label:'),
    relationship_types: prefixed(pre.counts, post.counts, 'relationship_type:'),
    patterns: prefixed(pre.counts, post.counts, 'pattern:'),
    degree: degrees(pre.measures ?? {}, post.measures ?? {}),
  };
}
