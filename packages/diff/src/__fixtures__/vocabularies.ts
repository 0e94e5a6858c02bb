// Test vocabularies shaped like the built-in adapters' (the real ones live in each store package and a
// runner test checks they agree with the declaration schema); the diff itself knows no store.
import type { StoreVocabulary } from '@kfm/migration-contracts';
import { evaluate as evaluateWith, type Observed } from '../evaluate.js';
import type { DiffSummary, MigrationDeclaration } from '@kfm/migration-contracts';

const ALL = ['added', 'removed', 'changed'] as const;
const ADDED_OR_REMOVED = ['added', 'removed'] as const;

export const VOCABULARIES: Record<string, StoreVocabulary> = {
  postgis: {
    idPrefix: 'PG',
    scopeDimensions: ['schemas', 'tables'],
    protectedKeys: { schemas: { dimension: 'schemas' }, tables: { dimension: 'tables' } },
    limits: {
      max_table_count_touched: { measure: 'touched', dimension: 'tables', description: 'distinct tables touched by schema or data changes' },
      max_index_count_delta: { measure: 'changes', kind: 'index', changes: ALL, description: 'index objects added, removed or changed' },
      max_constraint_count_delta: { measure: 'changes', kind: 'constraint', changes: ALL, description: 'constraint objects added, removed or changed' },
      max_row_backfill: { measure: 'metric', metric: 'rows_affected', description: 'rows written by the forward script' },
    },
  },
  search: {
    idPrefix: 'SEARCH',
    scopeDimensions: ['indices', 'aliases', 'templates', 'pipelines'],
    protectedKeys: { indices: { dimension: 'indices' }, aliases: { dimension: 'aliases' } },
    limits: {
      max_index_count_delta: { measure: 'changes', kind: 'index', changes: ALL, description: 'indices added, removed or changed' },
      max_alias_changes: { measure: 'changes', kind: 'alias', changes: ALL, description: 'aliases added, removed or changed' },
      max_docs_reindexed: { measure: 'metric', metric: 'docs_reindexed', description: 'documents reindexed' },
    },
  },
  graph: {
    idPrefix: 'GRAPH',
    scopeDimensions: ['labels', 'relationship_types'],
    protectedKeys: { labels: { dimension: 'labels', nameField: 'label' }, relationship_types: { dimension: 'relationship_types' } },
    limits: {
      max_label_count_delta: { measure: 'changes', kind: 'label', changes: ADDED_OR_REMOVED, description: 'labels that appeared or disappeared' },
      max_relationship_type_count_delta: { measure: 'changes', kind: 'relationship_type', changes: ADDED_OR_REMOVED, description: 'relationship types that appeared or disappeared' },
      max_nodes_touched: { measure: 'metric', metric: 'nodes_touched', description: 'nodes created, changed or deleted' },
      max_relationships_touched: { measure: 'metric', metric: 'relationships_touched', description: 'relationships created, changed or deleted' },
    },
  },
};

/** An empty vocabulary for a third-party type, with the given dimensions and limits. */
export function vocabulary(parts: Partial<StoreVocabulary>): StoreVocabulary {
  return { idPrefix: 'OTHER', scopeDimensions: [], protectedKeys: {}, limits: {}, ...parts };
}

/** evaluate() with the test vocabulary of the declaration's type unless one is given. */
export function evaluate(declaration: MigrationDeclaration, observed: Observed, vocab?: StoreVocabulary): DiffSummary {
  return evaluateWith(declaration, observed, vocab ?? VOCABULARIES[declaration.type] ?? vocabulary({}));
}
