// How a declared limit is measured, read from the store adapter's vocabulary (`LimitSpec`): changes
// of an object kind, names touched in a dimension, a run metric, or the sum of data-change counters.
// The diff knows no store: every table of measures comes from the adapter.
import type { Baseline, DataChange, LimitSpec } from '@kfm/migration-contracts';
import type { BaselineDiff } from './baseline-diff.js';

export interface MeasureInput {
  diff: BaselineDiff;
  /** Run metrics reported by the adapter (rows_affected, docs_reindexed, nodes_touched, …). */
  metrics: Readonly<Record<string, number>>;
  /** Data written per object, as the store counted it. */
  data: readonly DataChange[];
  /** Names touched per dimension: schema changes and data changes together. */
  touched: Readonly<Record<string, readonly string[]>>;
  pre: Baseline;
  post: Baseline;
}

/** `diff`, `metric:<name>` or `data:<counters>`: where the observed value comes from, for reviewers. */
export function measureSource(spec: LimitSpec): string {
  switch (spec.measure) {
    case 'changes':
    case 'touched':
      return 'diff';
    case 'metric':
      return `metric:${spec.metric}`;
    case 'data':
      return `data:${spec.counters.join('+')}`;
  }
}

/** The observed value of a limit; undefined when it could not be measured (the limit then fails closed). */
export function measureLimit(spec: LimitSpec, input: MeasureInput): number | undefined {
  switch (spec.measure) {
    case 'changes': {
      let count = 0;
      for (const change of input.diff.changes)
        if (change.kind === spec.kind && spec.changes.includes(change.change)) count++;
      return count;
    }
    case 'touched':
      return input.touched[spec.dimension]?.length ?? 0;
    case 'metric': {
      const value = input.metrics[spec.metric];
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    }
    case 'data': {
      let sum = 0;
      for (const change of input.data) for (const counter of spec.counters) sum += change.counts[counter] ?? 0;
      return sum;
    }
  }
}
