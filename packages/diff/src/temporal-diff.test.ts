import { describe, expect, it } from 'vitest';
import { temporalDiff } from './temporal-diff.js';
import { baseline, loadCases } from './__fixtures__/build.js';

describe('temporalDiff', () => {
  const pre = baseline({
    store: 'graph',
    objects: [],
    counts: {
      'label:County': 3,
      'label:Gone': 2,
      'relationship_type:GOVERNS': 1,
      'pattern:(Authority)-[GOVERNS]->(County)': 1,
      nodes: 6,
    },
    measures: { 'degree_out:County': { '0': 3 }, 'degree_in:County': { '0': 2, '1': 1 }, rows: { x: 1 } },
  });
  const post = baseline({
    store: 'graph',
    objects: [],
    counts: {
      'label:County': 3,
      'label:Parcel': 5,
      'relationship_type:GOVERNS': 1,
      'relationship_type:IN_COUNTY': 5,
      'pattern:(Parcel)-[IN_COUNTY]->(County)': 5,
      'pattern:(Authority)-[GOVERNS]->(County)': 1,
      nodes: 9,
    },
    measures: {
      'degree_out:County': { '0': 3 },
      'degree_in:County': { '16-31': 1, '0': 0, '2-3': 2, '1': 1 },
      'degree_out:Parcel': { '1': 5 },
    },
  });
  const temporal = temporalDiff(pre, post);

  it('pairs label, relationship-type and pattern counts, a missing side counting as 0', () => {
    expect(temporal.labels).toEqual({
      County: { pre: 3, post: 3, delta: 0 },
      Gone: { pre: 2, post: 0, delta: -2 },
      Parcel: { pre: 0, post: 5, delta: 5 },
    });
    expect(temporal.relationship_types).toEqual({
      GOVERNS: { pre: 1, post: 1, delta: 0 },
      IN_COUNTY: { pre: 0, post: 5, delta: 5 },
    });
    expect(temporal.patterns).toEqual({
      '(Authority)-[GOVERNS]->(County)': { pre: 1, post: 1, delta: 0 },
      '(Parcel)-[IN_COUNTY]->(County)': { pre: 0, post: 5, delta: 5 },
    });
  });

  it('pairs degree histograms per direction and label, buckets in numeric order', () => {
    expect(Object.keys(temporal.degree)).toEqual(['in:County', 'out:County', 'out:Parcel']);
    expect(Object.keys(temporal.degree['in:County']!)).toEqual(['0', '1', '2-3', '16-31']);
    expect(temporal.degree['in:County']).toEqual({
      '0': { pre: 2, post: 0, delta: -2 },
      '1': { pre: 1, post: 1, delta: 0 },
      '2-3': { pre: 0, post: 2, delta: 2 },
      '16-31': { pre: 0, post: 1, delta: 1 },
    });
    expect(temporal.degree['out:Parcel']).toEqual({ '1': { pre: 0, post: 5, delta: 5 } });
  });

  it('ignores counts and measures that are not graph structure', () => {
    expect(JSON.stringify(temporal)).not.toContain('nodes');
    expect(JSON.stringify(temporal)).not.toContain('rows');
  });

  it('is deterministic whatever the key order of the baselines', () => {
    const reversed = (record: Record<string, unknown>) => Object.fromEntries(Object.entries(record).reverse());
    const shuffled = {
      ...post,
      counts: reversed(post.counts) as typeof post.counts,
      measures: reversed(post.measures!) as typeof post.measures,
    };
    expect(JSON.stringify(temporalDiff(pre, shuffled))).toBe(JSON.stringify(temporal));
  });

  it('works on the graph fixture case', () => {
    const graph = loadCases().find((c) => c.name === 'graph-add-parcel')!;
    const result = temporalDiff(graph.input.pre, graph.input.post);
    expect(result.labels.Parcel).toEqual({ pre: 0, post: 5, delta: 5 });
    expect(result.degree['in:County']!['2-3']).toEqual({ pre: 0, post: 2, delta: 2 });
  });

  it('is empty for baselines without graph keys', () => {
    expect(temporalDiff(baseline({ objects: [] }), baseline({ objects: [] }))).toEqual({
      labels: {},
      relationship_types: {},
      patterns: {},
      degree: {},
    });
  });
});
