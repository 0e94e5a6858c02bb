// Run metrics from Neo4j's update counters, summed over statements. Definitions (what the limits
// `max_nodes_touched` and `max_relationships_touched` are compared with):
//   relationships_touched = relationships created + relationships deleted
//     (rewriting a relationship's type is a delete plus a create: 2 per relationship);
//   nodes_touched = nodes created + nodes deleted + labels added + labels removed.
// Property writes are reported as `properties_set` but are NOT in nodes_touched: the counters do
// not say whether a property was set on a node or on a relationship (a type rewrite copies the
// old relationship's properties), so counting them as nodes would make every rewrite fail a
// `max_nodes_touched: 0` limit. Property changes on protected labels are caught by their content
// digests, and new property keys by the label objects of the baseline.

import type { DataChange } from '@kfm/migration-contracts';
import { compareText } from './scope.js';

export type Counters = Readonly<Record<string, number>>;

/** What a statement may write (its statement facts): the labels and types its counters are charged to. */
export interface Written {
  labels: readonly string[];
  relationshipTypes: readonly string[];
}

const NODE_COUNTERS = ['nodes_created', 'nodes_deleted', 'labels_added', 'labels_removed', 'properties_set'];
const RELATIONSHIP_COUNTERS = ['relationships_created', 'relationships_deleted', 'properties_set'];

const COUNTERS: Record<string, string> = {
  nodesCreated: 'nodes_created',
  nodesDeleted: 'nodes_deleted',
  relationshipsCreated: 'relationships_created',
  relationshipsDeleted: 'relationships_deleted',
  propertiesSet: 'properties_set',
  labelsAdded: 'labels_added',
  labelsRemoved: 'labels_removed',
  indexesAdded: 'indexes_added',
  indexesRemoved: 'indexes_removed',
  constraintsAdded: 'constraints_added',
  constraintsRemoved: 'constraints_removed',
};

export class RunMetrics {
  statements = 0;
  /** True once any statement reported an update (data or schema). */
  updated = false;
  private readonly totals: Record<string, number> = Object.fromEntries(
    Object.values(COUNTERS).map((name) => [name, 0]),
  );
  private last: Record<string, number> = {};
  /** Indexes (script positions) of the statements that reported updates. */
  private readonly updating: number[] = [];
  /** Counters charged per label (`labels\u0000L`) and relationship type (`relationship_types\u0000T`). */
  private readonly perName = new Map<string, Record<string, number>>();

  add(counters: Counters, index?: number, written?: Written): void {
    this.statements++;
    this.last = {};
    for (const [counter, name] of Object.entries(COUNTERS)) {
      const value = counters[counter] ?? 0;
      if (value > 0) {
        this.updated = true;
        if (index !== undefined && !this.updating.includes(index)) this.updating.push(index);
      }
      this.totals[name] = (this.totals[name] ?? 0) + value;
      if (value) this.last[name] = value;
    }
    if (!written) return;
    const charge = (dimension: string, name: string, keys: readonly string[]) => {
      const key = `${dimension}\u0000${name}`;
      const counts = this.perName.get(key) ?? {};
      for (const counter of keys)
        if (this.last[counter]) counts[counter] = (counts[counter] ?? 0) + (this.last[counter] ?? 0);
      if (Object.keys(counts).length > 0) this.perName.set(key, counts);
    };
    for (const label of written.labels) charge('labels', label, NODE_COUNTERS);
    for (const type of written.relationshipTypes) charge('relationship_types', type, RELATIONSHIP_COUNTERS);
  }

  /**
   * The writes per label and relationship type: each statement's counters charged to the labels and types
   * it writes (its statement facts). A statement that writes several charges its counters to each, so a
   * figure is exact for a statement with one target and an upper bound otherwise; `properties_set` does not
   * say whether a node or a relationship was set, so it is charged to both.
   */
  dataChanges(): DataChange[] {
    return [...this.perName.entries()]
      .map(([key, counts]) => {
        const [dimension, name] = key.split('\u0000') as [string, string];
        return {
          object: name,
          kind: dimension === 'labels' ? 'label' : 'relationship_type',
          scope: { [dimension]: [name] },
          counts: Object.fromEntries(
            Object.keys(counts)
              .sort()
              .map((counter) => [counter, counts[counter] as number]),
          ),
        };
      })
      .sort((a, b) => compareText(a.kind, b.kind) || compareText(a.object, b.object));
  }

  /** Did a statement before script position `index` report an update (a change already visible or pending)? */
  updatedBefore(index: number): boolean {
    return this.updating.some((position) => position < index);
  }

  /** The metrics handed to `decide` and written to the receipt, keys sorted. */
  values(): Record<string, number> {
    const t = this.totals as Record<string, number>;
    const all: Record<string, number> = {
      ...t,
      statements: this.statements,
      nodes_touched: (t.nodes_created ?? 0) + (t.nodes_deleted ?? 0) + (t.labels_added ?? 0) + (t.labels_removed ?? 0),
      relationships_touched: (t.relationships_created ?? 0) + (t.relationships_deleted ?? 0),
    };
    return Object.fromEntries(
      Object.keys(all)
        .sort()
        .map((key) => [key, all[key] as number]),
    );
  }

  describeLast(): string {
    const parts = Object.entries(this.last).map(([name, value]) => `${name}=${value}`);
    return parts.length ? parts.join(' ') : 'no updates';
  }

  describe(): string {
    const parts = Object.entries(this.values())
      .filter(([, value]) => value > 0)
      .map(([name, value]) => `${name}=${value}`);
    return parts.length ? parts.join(' ') : 'no updates';
  }
}
