import { describe, expect, it } from 'vitest';
import { RunMetrics } from './run-metrics.js';

describe('RunMetrics', () => {
  it('sums counters over statements and derives nodes_touched and relationships_touched', () => {
    const metrics = new RunMetrics();
    metrics.add({ relationshipsCreated: 40, relationshipsDeleted: 40, propertiesSet: 80 });
    metrics.add({ nodesCreated: 2, labelsAdded: 3, labelsRemoved: 1, nodesDeleted: 1 });
    const values = metrics.values();
    expect(values.relationships_touched).toBe(80);
    expect(values.nodes_touched).toBe(7);
    expect(values.properties_set).toBe(80);
    expect(values.statements).toBe(2);
    expect(Object.keys(values)).toEqual([...Object.keys(values)].sort());
    expect(metrics.updated).toBe(true);
  });

  it('reports no update for statements that changed nothing', () => {
    const metrics = new RunMetrics();
    metrics.add({});
    expect(metrics.updated).toBe(false);
    expect(metrics.values().nodes_touched).toBe(0);
    expect(metrics.describe()).toBe('statements=1');
  });

  it("charges each statement's counters to the labels and types it writes", () => {
    const metrics = new RunMetrics();
    metrics.add({ relationshipsCreated: 40, relationshipsDeleted: 40, propertiesSet: 80 }, 0, {
      labels: [],
      relationshipTypes: ['HAS_OWNER', 'OWNS'],
    });
    metrics.add({ propertiesSet: 5 }, 1, { labels: ['Parcel'], relationshipTypes: [] });
    metrics.add({ propertiesSet: 3, labelsAdded: 3 }, 2, { labels: ['Archived', 'Parcel'], relationshipTypes: [] });
    metrics.add({}, 3, { labels: ['Owner'], relationshipTypes: [] });
    expect(metrics.dataChanges()).toEqual([
      {
        object: 'Archived',
        kind: 'label',
        scope: { labels: ['Archived'] },
        counts: { labels_added: 3, properties_set: 3 },
      },
      {
        object: 'Parcel',
        kind: 'label',
        scope: { labels: ['Parcel'] },
        counts: { labels_added: 3, properties_set: 8 },
      },
      {
        object: 'HAS_OWNER',
        kind: 'relationship_type',
        scope: { relationship_types: ['HAS_OWNER'] },
        counts: { properties_set: 80, relationships_created: 40, relationships_deleted: 40 },
      },
      {
        object: 'OWNS',
        kind: 'relationship_type',
        scope: { relationship_types: ['OWNS'] },
        counts: { properties_set: 80, relationships_created: 40, relationships_deleted: 40 },
      },
    ]);
  });
});
