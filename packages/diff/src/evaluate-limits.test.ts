import { describe, expect, it } from 'vitest';
import type { Baseline, BaselineObject, Check, DiffSummary, MigrationDeclaration } from '@kfm/migration-contracts';
import { evaluate, VOCABULARIES, vocabulary } from './__fixtures__/vocabularies.js';
import { measureSource } from './limit-measures.js';
import { baseline, constraint, declaration, index, object, table } from './__fixtures__/build.js';

function check(summary: DiffSummary, name: string): Check {
  const found = summary.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check ${name}`);
  return found;
}

interface Scenario {
  pre: Baseline;
  post: Baseline;
  metrics?: Record<string, number>;
}

/** n objects of a kind: a third added, a third removed, a third changed (all three count). */
function churn(store: string, n: number, make: (i: number, version?: string) => BaselineObject): Scenario {
  const pre: BaselineObject[] = [];
  const post: BaselineObject[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 3 === 0) post.push(make(i));
    else if (i % 3 === 1) pre.push(make(i));
    else {
      pre.push(make(i));
      post.push(make(i, 'v2'));
    }
  }
  // Unchanged objects of the same kind never count.
  pre.push(make(1000));
  post.push(make(1000));
  return { pre: baseline({ store, objects: pre }), post: baseline({ store, objects: post }) };
}

/** n objects of a kind appearing or disappearing, plus changed ones that must not count. */
function appearOrVanish(store: string, n: number, make: (i: number, version?: string) => BaselineObject): Scenario {
  const pre: BaselineObject[] = [make(500), make(501)];
  const post: BaselineObject[] = [make(500, 'v2'), make(501, 'v2')];
  for (let i = 0; i < n; i++) (i % 2 === 0 ? post : pre).push(make(i));
  return { pre: baseline({ store, objects: pre }), post: baseline({ store, objects: post }) };
}

function metric(store: string, name: string, n: number): Scenario {
  const empty = baseline({ store, objects: [] });
  return { pre: empty, post: empty, metrics: { [name]: n } };
}

const limits: { type: MigrationDeclaration['type']; limit: string; scenario: (n: number) => Scenario }[] = [
  {
    type: 'postgis',
    limit: 'max_table_count_touched',
    scenario: (n) => {
      // n distinct tables touched: indexes on each table; two objects per table still count once.
      const objects = Array.from({ length: n }, (_, i) => [
        index(`public.i${i}`, `public.t${i}`),
        constraint(`public.c${i}`, `public.t${i}`),
      ]).flat();
      return { pre: baseline({ objects: [] }), post: baseline({ objects }) };
    },
  },
  {
    type: 'postgis',
    limit: 'max_index_count_delta',
    scenario: (n) => churn('postgis', n, (i, v) => index(`public.i${i}`, 'public.t', v)),
  },
  {
    type: 'postgis',
    limit: 'max_constraint_count_delta',
    scenario: (n) => churn('postgis', n, (i, v) => constraint(`public.c${i}`, 'public.t', v)),
  },
  { type: 'postgis', limit: 'max_row_backfill', scenario: (n) => metric('postgis', 'rows_affected', n) },
  {
    type: 'search',
    limit: 'max_index_count_delta',
    scenario: (n) => churn('search', n, (i, v) => object('index', `idx-${i}`, { indices: [`idx-${i}`] }, v)),
  },
  {
    type: 'search',
    limit: 'max_alias_changes',
    scenario: (n) => churn('search', n, (i, v) => object('alias', `alias-${i}`, { aliases: [`alias-${i}`] }, v)),
  },
  { type: 'search', limit: 'max_docs_reindexed', scenario: (n) => metric('search', 'docs_reindexed', n) },
  {
    type: 'graph',
    limit: 'max_label_count_delta',
    scenario: (n) => appearOrVanish('graph', n, (i, v) => object('label', `L${i}`, { labels: [`L${i}`] }, v)),
  },
  {
    type: 'graph',
    limit: 'max_relationship_type_count_delta',
    scenario: (n) =>
      appearOrVanish('graph', n, (i, v) => object('relationship_type', `R${i}`, { relationship_types: [`R${i}`] }, v)),
  },
  { type: 'graph', limit: 'max_nodes_touched', scenario: (n) => metric('graph', 'nodes_touched', n) },
  { type: 'graph', limit: 'max_relationships_touched', scenario: (n) => metric('graph', 'relationships_touched', n) },
];

describe('limits', () => {
  it('covers every limit of the measure table in these tests', () => {
    const tested = limits.map((l) => `${l.type}.${l.limit}`).sort();
    const table = Object.entries(VOCABULARIES)
      .flatMap(([type, v]) => Object.keys(v.limits).map((limit) => `${type}.${limit}`))
      .sort();
    expect(tested).toEqual(table);
  });

  for (const { type, limit, scenario } of limits) {
    it(`${type} ${limit}: equal passes, one more fails`, () => {
      const observed = 6;
      const input = scenario(observed);
      const atLimit = check(evaluate(declaration(type, {}, { [limit]: observed }), input), `limits.${limit}`);
      expect(atLimit).toMatchObject({
        status: 'pass',
        rule: 'limit',
        declared: observed,
        observed,
        pointer: `/limits/${limit}`,
      });
      expect(atLimit.code).toBeUndefined();
      const below = check(evaluate(declaration(type, {}, { [limit]: observed - 1 }), input), `limits.${limit}`);
      expect(below).toMatchObject({ status: 'fail', code: 'LIMIT_EXCEEDED', declared: observed - 1, observed });
      const overByOne = check(
        evaluate(declaration(type, {}, { [limit]: observed }), scenario(observed + 1)),
        `limits.${limit}`,
      );
      expect(overByOne).toMatchObject({ status: 'fail', code: 'LIMIT_EXCEEDED', observed: observed + 1 });
    });
  }

  it('fails a limit name the type does not define instead of ignoring it', () => {
    const summary = evaluate(
      declaration('postgis', {}, { max_alias_changes: 100, max_index_count_delta: 5 }),
      metric('postgis', 'rows_affected', 0),
    );
    expect(check(summary, 'limits.max_alias_changes')).toMatchObject({
      status: 'fail',
      code: 'LIMIT_UNKNOWN',
      pointer: '/limits/max_alias_changes',
    });
    expect(check(summary, 'limits.max_index_count_delta').status).toBe('pass');
    expect(summary.status).toBe('fail');
  });

  it('does not mistake inherited object properties for limits', () => {
    const summary = evaluate(
      declaration('postgis', {}, { constructor: 1, toString: 1 }),
      metric('postgis', 'rows_affected', 0),
    );
    expect(summary.checks.filter((c) => c.rule === 'limit').map((c) => c.code)).toEqual([
      'LIMIT_UNKNOWN',
      'LIMIT_UNKNOWN',
    ]);
  });

  it('fails closed when the adapter did not report the metric a limit needs', () => {
    for (const [type, limit] of [
      ['postgis', 'max_row_backfill'],
      ['search', 'max_docs_reindexed'],
      ['graph', 'max_nodes_touched'],
      ['graph', 'max_relationships_touched'],
    ] as const) {
      const empty = baseline({ store: type, objects: [] });
      const result = check(
        evaluate(declaration(type, {}, { [limit]: 1_000_000 }), { pre: empty, post: empty, metrics: { unrelated: 1 } }),
        `limits.${limit}`,
      );
      expect(result).toMatchObject({ status: 'fail', code: 'LIMIT_EXCEEDED', observed: null });
      expect(result.message).toContain('could not be measured');
    }
  });

  it('reports one check per declared limit, sorted by name, and none for undeclared limits', () => {
    const summary = evaluate(
      declaration('postgis', {}, { max_row_backfill: 0, max_index_count_delta: 1 }),
      metric('postgis', 'rows_affected', 0),
    );
    expect(summary.checks.filter((c) => c.rule === 'limit').map((c) => c.name)).toEqual([
      'limits.max_index_count_delta',
      'limits.max_row_backfill',
    ]);
  });

  it('uses the limits of the vocabulary passed in for a third-party type', () => {
    const limits = {
      max_buckets_touched: { measure: 'touched' as const, dimension: 'buckets', description: 'buckets touched' },
    };
    const post = baseline({
      store: 'kv',
      objects: [object('bucket', 'a', { buckets: ['a'] }), object('bucket', 'b', { buckets: ['b'] })],
    });
    const input = { pre: baseline({ store: 'kv', objects: [] }), post };
    const decl = declaration('other', { allowed_tables: ['*'] }, { max_buckets_touched: 1 });
    expect(
      check(evaluate(decl, input, vocabulary({ limits, scopeDimensions: ['buckets'] })), 'limits.max_buckets_touched'),
    ).toMatchObject({ status: 'fail', observed: 2 });
    expect(check(evaluate(decl, input, vocabulary({})), 'limits.max_buckets_touched')).toMatchObject({
      status: 'fail',
      code: 'LIMIT_UNKNOWN',
    });
  });

  it('names where each measure comes from', () => {
    expect(measureSource(VOCABULARIES.postgis!.limits.max_row_backfill!)).toBe('metric:rows_affected');
    expect(measureSource(VOCABULARIES.graph!.limits.max_label_count_delta!)).toBe('diff');
    expect(measureSource({ measure: 'data', counters: ['inserted', 'updated'], description: 'rows' })).toBe(
      'data:inserted+updated',
    );
  });

  it('sums data-change counters for a data limit and counts data-touched tables as touched', () => {
    const limits = {
      ...VOCABULARIES.postgis!.limits,
      max_row_backfill: {
        measure: 'data' as const,
        counters: ['inserted', 'updated', 'deleted'],
        description: 'rows changed',
      },
    };
    const vocab = { ...VOCABULARIES.postgis!, limits };
    const pre = baseline({ objects: [table('public.parcels')] });
    const data = [
      {
        object: 'public.parcels',
        scope: { schemas: ['public'], tables: ['public.parcels', 'parcels'] },
        counts: { inserted: 2, updated: 3, deleted: 0 },
      },
      {
        object: 'public.roads',
        scope: { schemas: ['public'], tables: ['public.roads', 'roads'] },
        counts: { inserted: 0, updated: 1, deleted: 0 },
      },
    ];
    const summary = evaluate(
      declaration(
        'postgis',
        { allowed_schemas: ['public'], allowed_tables: ['parcels'] },
        { max_row_backfill: 5, max_table_count_touched: 1 },
      ),
      { pre, post: pre, data },
      vocab,
    );
    expect(check(summary, 'limits.max_row_backfill')).toMatchObject({ status: 'fail', observed: 6 });
    expect(check(summary, 'limits.max_table_count_touched')).toMatchObject({ status: 'fail', observed: 2 });
    expect(check(summary, 'scope.allowed_tables')).toMatchObject({ status: 'fail', observed: ['public.roads'] });
    expect(summary.data_changes?.map((d) => d.object)).toEqual(['public.parcels', 'public.roads']);
  });

  it('counts a table once however many of its objects changed', () => {
    const post = baseline({
      objects: [table('public.t'), index('public.t_a', 'public.t'), index('public.t_b', 'public.t')],
    });
    expect(
      check(
        evaluate(declaration('postgis', {}, { max_table_count_touched: 1 }), { pre: baseline({ objects: [] }), post }),
        'limits.max_table_count_touched',
      ),
    ).toMatchObject({ status: 'pass', observed: 1 });
  });
});
