// How each declared limit is measured, per store type. Exported so the CLI and adapters can show
// reviewers exactly what a limit counts; third-party store types pass their own table to evaluate().
import type { Baseline, DiffChange } from '@kfm/migration-contracts';
import type { BaselineDiff } from './baseline-diff.js';
import type { BuiltInStoreType } from './store-vocabulary.js';

export interface MeasureInput {
  diff: BaselineDiff;
  /** Run metrics reported by the adapter (rows_affected, docs_reindexed, nodes_touched, …). */
  metrics: Readonly<Record<string, number>>;
  pre: Baseline;
  post: Baseline;
}

export interface LimitMeasure {
  /** What is counted, in words a reviewer understands. */
  description: string;
  /** `diff` when computed from the baselines, `metric:<name>` when the adapter must report it. */
  source: string;
  /** The observed value; undefined when it could not be measured (the limit then fails closed). */
  measure(input: MeasureInput): number | undefined;
}

export type MeasureTable = Readonly<Record<string, LimitMeasure>>;

type ChangeType = DiffChange['change'];

function kindChanges(kind: string, changeTypes: readonly ChangeType[], description: string): LimitMeasure {
  return {
    description,
    source: 'diff',
    measure: ({ diff }) => {
      let count = 0;
      for (const change of diff.changes) if (change.kind === kind && changeTypes.includes(change.change)) count++;
      return count;
    },
  };
}

function metric(name: string, description: string): LimitMeasure {
  return {
    description,
    source: `metric:${name}`,
    measure: ({ metrics }) => {
      const value = metrics[name];
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    },
  };
}

function touchedCount(dimension: string, description: string): LimitMeasure {
  return { description, source: 'diff', measure: ({ diff }) => diff.touched[dimension]?.length ?? 0 };
}

const ALL: readonly ChangeType[] = ['added', 'removed', 'changed'];
const ADDED_OR_REMOVED: readonly ChangeType[] = ['added', 'removed'];

/** The limit vocabulary of DESIGN.md and how each limit is measured. */
export const LIMIT_MEASURES: Readonly<Record<BuiltInStoreType, MeasureTable>> = {
  postgis: {
    max_table_count_touched: touchedCount('tables', 'distinct tables (canonical names) touched by any changed object'),
    max_index_count_delta: kindChanges('index', ALL, 'index objects added, removed or changed'),
    max_constraint_count_delta: kindChanges('constraint', ALL, 'constraint objects added, removed or changed'),
    max_row_backfill: metric('rows_affected', 'rows written by the forward script (adapter metric rows_affected)'),
  },
  search: {
    max_index_count_delta: kindChanges('index', ALL, 'indices added, removed or changed'),
    max_alias_changes: kindChanges('alias', ALL, 'aliases added, removed or changed'),
    max_docs_reindexed: metric('docs_reindexed', 'documents reindexed (adapter metric docs_reindexed)'),
  },
  graph: {
    max_label_count_delta: kindChanges('label', ADDED_OR_REMOVED, 'labels that appeared or disappeared'),
    max_relationship_type_count_delta: kindChanges('relationship_type', ADDED_OR_REMOVED, 'relationship types that appeared or disappeared'),
    max_nodes_touched: metric('nodes_touched', 'nodes created, changed or deleted (adapter metric nodes_touched)'),
    max_relationships_touched: metric('relationships_touched', 'relationships created, changed or deleted (adapter metric relationships_touched)'),
  },
};
