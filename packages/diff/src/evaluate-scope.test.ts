import { describe, expect, it } from 'vitest';
import type { Check, DiffSummary } from '@kfm/migration-contracts';
import { evaluate, vocabulary } from './__fixtures__/vocabularies.js';
import { baseline, declaration, index, object, table } from './__fixtures__/build.js';

function check(summary: DiffSummary, name: string): Check {
  const found = summary.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check ${name} in ${summary.checks.map((c) => c.name).join(', ')}`);
  return found;
}

/** PRE has public.parcels; POST adds an index on it and a new table public.roads. */
const pre = baseline({ objects: [table('public.parcels')] });
const post = baseline({
  objects: [table('public.parcels'), index('public.parcels_geom_idx', 'public.parcels'), table('public.roads')],
});

describe('scope rules', () => {
  it('emits one forbidden and one allowed check per dimension of the type, with pointers into the declaration', () => {
    const summary = evaluate(declaration('postgis', { allowed_schemas: ['public'], allowed_tables: ['*'] }), {
      pre,
      post,
    });
    expect(summary.checks.filter((c) => c.rule === 'scope').map((c) => [c.name, c.pointer])).toEqual([
      ['scope.forbidden_schemas', '/scope/forbidden_schemas'],
      ['scope.allowed_schemas', '/scope/allowed_schemas'],
      ['scope.forbidden_tables', '/scope/forbidden_tables'],
      ['scope.allowed_tables', '/scope/allowed_tables'],
    ]);
    expect(summary.status).toBe('pass');
  });

  it('lets forbidden beat allowed', () => {
    const summary = evaluate(
      declaration('postgis', { allowed_schemas: ['public'], allowed_tables: ['*'], forbidden_tables: ['roads'] }),
      { pre, post },
    );
    expect(check(summary, 'scope.forbidden_tables')).toMatchObject({
      status: 'fail',
      code: 'SCOPE_FORBIDDEN',
      observed: ['public.roads'],
      declared: ['roads'],
    });
    expect(check(summary, 'scope.allowed_tables').status).toBe('pass');
    expect(summary.status).toBe('fail');
  });

  it('fails a touched name no allowed pattern covers, reporting canonical names', () => {
    const summary = evaluate(declaration('postgis', { allowed_schemas: ['public'], allowed_tables: ['parcels'] }), {
      pre,
      post,
    });
    expect(check(summary, 'scope.allowed_tables')).toMatchObject({
      status: 'fail',
      code: 'SCOPE_NOT_ALLOWED',
      observed: ['public.roads'],
    });
    expect(check(summary, 'scope.allowed_schemas').status).toBe('pass');
    expect(summary.status).toBe('fail');
  });

  it('allows nothing in a dimension that has no allowed_* key', () => {
    const summary = evaluate(declaration('postgis', { allowed_schemas: ['public'] }), { pre, post });
    const allowed = check(summary, 'scope.allowed_tables');
    expect(allowed).toMatchObject({
      status: 'fail',
      code: 'SCOPE_NOT_ALLOWED',
      declared: null,
      observed: ['public.parcels', 'public.roads'],
    });
    expect(allowed.message).toContain('no allowed_tables declared');
  });

  it('passes a dimension without allowed_* when nothing in it was touched', () => {
    const summary = evaluate(declaration('postgis', {}), { pre, post: pre });
    expect(summary.checks.every((c) => c.status === 'pass')).toBe(true);
  });

  it('matches either the canonical name or an alias', () => {
    for (const allowed of [
      ['parcels', 'roads'],
      ['public.parcels', 'public.roads'],
      ['parcels', 'public.roads'],
    ]) {
      const summary = evaluate(declaration('postgis', { allowed_schemas: ['public'], allowed_tables: allowed }), {
        pre,
        post,
      });
      expect(check(summary, 'scope.allowed_tables').status, allowed.join(',')).toBe('pass');
    }
    const forbiddenByQualifiedName = evaluate(
      declaration('postgis', {
        allowed_schemas: ['public'],
        allowed_tables: ['*'],
        forbidden_tables: ['public.roads'],
      }),
      { pre, post },
    );
    expect(check(forbiddenByQualifiedName, 'scope.forbidden_tables').observed).toEqual(['public.roads']);
  });

  it('applies wildcards across dots and keeps them anchored', () => {
    const wide = evaluate(declaration('postgis', { allowed_schemas: ['pub*'], allowed_tables: ['public.*'] }), {
      pre,
      post,
    });
    expect(wide.status).toBe('pass');
    const narrow = evaluate(declaration('postgis', { allowed_schemas: ['public'], allowed_tables: ['par*'] }), {
      pre,
      post,
    });
    expect(check(narrow, 'scope.allowed_tables').observed).toEqual(['public.roads']);
    const forbidden = evaluate(
      declaration('postgis', { allowed_schemas: ['public'], allowed_tables: ['*'], forbidden_schemas: ['*blic'] }),
      { pre, post },
    );
    expect(check(forbidden, 'scope.forbidden_schemas')).toMatchObject({ status: 'fail', observed: ['public'] });
  });

  it('is case-sensitive', () => {
    const summary = evaluate(declaration('postgis', { allowed_schemas: ['Public'], allowed_tables: ['*'] }), {
      pre,
      post,
    });
    expect(check(summary, 'scope.allowed_schemas').status).toBe('fail');
  });

  it('covers the dimensions of search and graph types', () => {
    const searchPost = baseline({
      store: 'search',
      objects: [object('pipeline', 'geo-enrich', { pipelines: ['geo-enrich'] })],
    });
    const search = evaluate(declaration('search', { allowed_indices: ['*'] }), {
      pre: baseline({ store: 'search', objects: [] }),
      post: searchPost,
    });
    expect(search.checks.filter((c) => c.rule === 'scope').map((c) => c.name)).toEqual([
      'scope.forbidden_indices',
      'scope.allowed_indices',
      'scope.forbidden_aliases',
      'scope.allowed_aliases',
      'scope.forbidden_templates',
      'scope.allowed_templates',
      'scope.forbidden_pipelines',
      'scope.allowed_pipelines',
    ]);
    expect(check(search, 'scope.allowed_pipelines')).toMatchObject({ status: 'fail', observed: ['geo-enrich'] });

    const graphPost = baseline({
      store: 'graph',
      objects: [object('relationship_type', 'OWNS', { relationship_types: ['OWNS'] })],
    });
    const graph = evaluate(declaration('graph', { allowed_labels: ['*'], forbidden_relationship_types: ['OW*'] }), {
      pre: baseline({ store: 'graph', objects: [] }),
      post: graphPost,
    });
    expect(check(graph, 'scope.forbidden_relationship_types')).toMatchObject({
      status: 'fail',
      code: 'SCOPE_FORBIDDEN',
      observed: ['OWNS'],
    });
  });

  it('fails closed on a touched dimension the type does not govern', () => {
    const odd = baseline({
      objects: [object('function', 'public.f', { schemas: ['public'], functions: ['public.f'] })],
    });
    const summary = evaluate(declaration('postgis', { allowed_schemas: ['public'] }), { pre, post: odd });
    expect(check(summary, 'scope.allowed_functions')).toMatchObject({
      status: 'fail',
      code: 'SCOPE_NOT_ALLOWED',
      observed: ['public.f'],
    });
    expect(summary.touched.functions).toEqual(['public.f']);
  });

  it('uses the dimensions a third-party type passes in', () => {
    const other = baseline({ store: 'kv', objects: [object('bucket', 'b1', { buckets: ['b1'] })] });
    const summary = evaluate(
      declaration('other', {}),
      { pre: baseline({ store: 'kv', objects: [] }), post: other },
      vocabulary({ scopeDimensions: ['buckets', 'keys'] }),
    );
    expect(summary.checks.filter((c) => c.rule === 'scope').map((c) => `${c.name}:${c.status}`)).toEqual([
      'scope.forbidden_buckets:pass',
      'scope.allowed_buckets:fail',
      'scope.forbidden_keys:pass',
      'scope.allowed_keys:pass',
    ]);
  });
});
