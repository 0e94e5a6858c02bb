import { describe, expect, it } from 'vitest';
import { validateValue, type Check, type DiffSummary } from '@kfm/migration-contracts';
import { diffBaselines } from './baseline-diff.js';
import { evaluate } from './__fixtures__/vocabularies.js';
import { mergeProtected } from './protected-check.js';
import { baseline, declaration, digest, index, object, table } from './__fixtures__/build.js';

function check(summary: DiffSummary, name: string): Check {
  const found = summary.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check ${name}`);
  return found;
}

const scope = { allowed_schemas: ['*'], allowed_tables: ['*'] };
const protectedPre = baseline({
  objects: [table('public.parcels'), table('governance.decisions')],
  fingerprints: { protected: digest('gov-v1') },
});
/** governance.decisions is rewritten; the adapter's protected fingerprint moves with it. */
const protectedPost = baseline({
  objects: [table('public.parcels'), table('governance.decisions', 'v2')],
  fingerprints: { protected: digest('gov-v2') },
});
/** Only public.parcels changes. */
const ordinaryPost = baseline({
  objects: [table('public.parcels', 'v2'), table('governance.decisions')],
  fingerprints: { protected: digest('gov-v1') },
});

describe('protected domains', () => {
  it('passes when neither the fingerprint nor any protected name changed', () => {
    const summary = evaluate(declaration('postgis', scope), {
      pre: protectedPre,
      post: ordinaryPost,
      protected: { schemas: ['governance'] },
    });
    expect(check(summary, 'protected_domain_fingerprint')).toMatchObject({
      status: 'pass',
      rule: 'protected',
      pointer: '/approvals/exception_ref',
    });
  });

  it('is a hard stop without approvals.exception_ref', () => {
    const summary = evaluate(declaration('postgis', scope), {
      pre: protectedPre,
      post: protectedPost,
      protected: { schemas: ['governance'] },
    });
    const result = check(summary, 'protected_domain_fingerprint');
    expect(result).toMatchObject({ status: 'fail', code: 'PROTECTED_DOMAIN_CHANGED' });
    expect(result.observed).toMatchObject({
      fingerprint: { pre: digest('gov-v1'), post: digest('gov-v2') },
      changes: [{ change: 'changed', kind: 'table', name: 'governance.decisions', matched: 'schemas:governance' }],
    });
    expect(summary.status).toBe('fail');
  });

  it('passes with an exception_ref and names it', () => {
    const decl = declaration('postgis', scope, {}, { approvals: { exception_ref: 'GOV-EXC-2026-007' } });
    const summary = evaluate(decl, { pre: protectedPre, post: protectedPost, protected: { schemas: ['governance'] } });
    const result = check(summary, 'protected_domain_fingerprint');
    expect(result.status).toBe('pass');
    expect(result.message).toContain('GOV-EXC-2026-007');
    expect(summary.status).toBe('pass');
  });

  it('fails on a fingerprint change alone, and on a fingerprint present on one side only', () => {
    const moved = baseline({ objects: protectedPre.objects, fingerprints: { protected: digest('gov-rows-changed') } });
    expect(
      check(evaluate(declaration('postgis', scope), { pre: protectedPre, post: moved }), 'protected_domain_fingerprint')
        .code,
    ).toBe('PROTECTED_DOMAIN_CHANGED');
    const missing = baseline({ objects: protectedPre.objects });
    expect(
      check(
        evaluate(declaration('postgis', scope), { pre: protectedPre, post: missing }),
        'protected_domain_fingerprint',
      ).status,
    ).toBe('fail');
  });

  it('fails when a protected object content digest moved', () => {
    const pre = baseline({
      objects: [],
      protected: { objects: ['governance.decisions'], content: { 'governance.decisions': digest('a') } },
    });
    const post = baseline({
      objects: [],
      protected: { objects: ['governance.decisions'], content: { 'governance.decisions': digest('b') } },
    });
    const result = check(evaluate(declaration('postgis', scope), { pre, post }), 'protected_domain_fingerprint');
    expect(result).toMatchObject({ status: 'fail', observed: { changed_objects: ['governance.decisions'] } });
  });

  it('matches protected names from the declaration as well as the effective domains, by any name', () => {
    const withDeclared = declaration('postgis', scope, {}, { protected: { tables: ['decisions'] } });
    const pre = baseline({ objects: [table('governance.decisions')] });
    const post = baseline({ objects: [table('governance.decisions', 'v2')] });
    // The runner passed domains without `decisions`; the declaration's own addition still applies.
    const result = check(
      evaluate(withDeclared, { pre, post, protected: { schemas: ['audit'] } }),
      'protected_domain_fingerprint',
    );
    expect(result).toMatchObject({
      status: 'fail',
      declared: { protected: { schemas: ['audit'], tables: ['decisions'] }, exception_ref: null },
    });
  });

  it('matches graph protected labels on their label', () => {
    const pre = baseline({ store: 'graph', objects: [object('label', 'Authority', { labels: ['Authority'] })] });
    const post = baseline({ store: 'graph', objects: [object('label', 'Authority', { labels: ['Authority'] }, 'v2')] });
    const decl = declaration(
      'graph',
      { allowed_labels: ['*'] },
      {},
      { protected: { labels: [{ label: 'Auth*', key: 'authority_id' }] } },
    );
    expect(check(evaluate(decl, { pre, post }), 'protected_domain_fingerprint')).toMatchObject({
      status: 'fail',
      code: 'PROTECTED_DOMAIN_CHANGED',
    });
  });

  it('only applies the protected dimensions of the type', () => {
    // A search index named like a protected postgis schema is not a protected postgis schema.
    const pre = baseline({ store: 'search', objects: [] });
    const post = baseline({
      store: 'search',
      objects: [object('index', 'governance', { indices: ['governance'], schemas: ['governance'] })],
    });
    const result = check(
      evaluate(declaration('search', { allowed_indices: ['*'] }), {
        pre,
        post,
        protected: { schemas: ['governance'] },
      }),
      'protected_domain_fingerprint',
    );
    expect(result.status).toBe('pass');
    const asIndex = check(
      evaluate(declaration('search', { allowed_indices: ['*'] }), { pre, post, protected: { indices: ['gov*'] } }),
      'protected_domain_fingerprint',
    );
    expect(asIndex.status).toBe('fail');
  });

  it('merges domains as a union that never drops an entry', () => {
    expect(
      mergeProtected(
        { schemas: ['b', 'a'], labels: [{ label: 'X', key: 'id' }] },
        { schemas: ['a'], tables: ['t'], labels: [{ label: 'X', key: 'id' }] },
      ),
    ).toEqual({
      labels: [{ label: 'X', key: 'id' }],
      schemas: ['a', 'b'],
      tables: ['t'],
    });
  });
});

describe('invariants', () => {
  it('copies every POST invariant into the checks, failing ones with INVARIANT_FAILED', () => {
    const invariants: Check[] = [
      { name: 'spatial_index:public.parcels', status: 'pass', message: 'GiST index present' },
      {
        name: 'spatial_index:public.roads',
        status: 'fail',
        message: 'no GiST index on public.roads.geom',
        observed: { indexes: [] },
      },
      { name: 'provenance_label', status: 'skip', message: 'not declared' },
    ];
    const post = baseline({ objects: [], invariants });
    const summary = evaluate(declaration('postgis', {}), { pre: baseline({ objects: [] }), post });
    expect(summary.checks.filter((c) => c.rule === 'invariant')).toEqual([
      {
        name: 'spatial_index:public.parcels',
        rule: 'invariant',
        status: 'pass',
        message: 'GiST index present',
        pointer: '/invariants',
      },
      {
        name: 'spatial_index:public.roads',
        rule: 'invariant',
        status: 'fail',
        code: 'INVARIANT_FAILED',
        observed: { indexes: [] },
        message: 'no GiST index on public.roads.geom',
        pointer: '/invariants',
      },
      { name: 'provenance_label', rule: 'invariant', status: 'skip', message: 'not declared', pointer: '/invariants' },
    ]);
    expect(summary.status).toBe('fail');
  });
});

describe('summary', () => {
  const pre = baseline({
    objects: [table('public.parcels'), index('public.a', 'public.parcels')],
    counts: { tables: 1, indexes: 1 },
  });
  const post = baseline({
    objects: [index('public.b', 'public.parcels'), table('public.parcels', 'v2')],
    counts: { indexes: 1, tables: 1, rows: 3 },
  });
  const decl = declaration('postgis', scope, { max_index_count_delta: 1, max_row_backfill: 10 });
  const observed = { pre, post, metrics: { rows_affected: 3, elapsed_batches: 2 } };

  it('is valid against diff_summary.v1 whether it passes or fails', () => {
    const failing = evaluate(decl, observed);
    expect(failing.status).toBe('fail');
    expect(validateValue('diff_summary.v1', failing)).toEqual([]);
    const passing = evaluate(
      declaration('postgis', scope, { max_index_count_delta: 2, max_row_backfill: 10 }),
      observed,
    );
    expect(passing.status).toBe('pass');
    expect(validateValue('diff_summary.v1', passing)).toEqual([]);
  });

  it('carries fingerprints, changes, totals, touched, count deltas and metrics', () => {
    const summary = evaluate(decl, observed);
    expect(summary.fingerprints).toEqual({ pre: pre.fingerprints, post: post.fingerprints });
    expect(summary.changes).toEqual(diffBaselines(pre, post).changes);
    expect(summary.totals).toEqual({ added: 1, removed: 1, changed: 1 });
    expect(summary.touched).toEqual({ schemas: ['public'], tables: ['public.parcels'] });
    expect(summary.count_deltas).toEqual({ rows: { pre: 0, post: 3, delta: 3 } });
    expect(summary.metrics).toEqual({ elapsed_batches: 2, rows_affected: 3 });
    expect(summary.store).toBe('postgis');
  });

  it('drops non-finite metrics, so a limit on them fails closed and the summary stays valid', () => {
    const summary = evaluate(decl, { pre, post, metrics: { rows_affected: Number.NaN } });
    expect(summary.metrics).toEqual({});
    expect(check(summary, 'limits.max_row_backfill')).toMatchObject({ status: 'fail', observed: null });
    expect(validateValue('diff_summary.v1', summary)).toEqual([]);
  });

  it('is deterministic: same input, byte-identical JSON, whatever the order of objects, keys and limits', () => {
    const first = JSON.stringify(evaluate(decl, observed));
    expect(JSON.stringify(evaluate(decl, observed))).toBe(first);
    const shuffledPost = { ...post, objects: [...post.objects].reverse(), counts: { rows: 3, tables: 1, indexes: 1 } };
    const reorderedDecl = {
      ...decl,
      limits: { max_row_backfill: 10, max_index_count_delta: 1 },
      scope: { allowed_tables: ['*'], allowed_schemas: ['*'] },
    };
    const metrics = { elapsed_batches: 2, rows_affected: 3 };
    expect(
      JSON.stringify(
        evaluate(reorderedDecl, { pre: { ...pre, objects: [...pre.objects].reverse() }, post: shuffledPost, metrics }),
      ),
    ).toBe(first);
  });

  it('gives the same result from a precomputed diff', () => {
    const diff = diffBaselines(pre, post);
    expect(JSON.stringify(evaluate(decl, { ...observed, diff }))).toBe(JSON.stringify(evaluate(decl, observed)));
  });

  it('does not modify its inputs', () => {
    const snapshot = JSON.stringify([decl, observed]);
    const summary = evaluate(decl, observed);
    summary.changes.push({ change: 'added', kind: 'x', name: 'y' });
    summary.touched.tables!.push('mutated');
    expect(JSON.stringify([decl, observed])).toBe(snapshot);
  });
});
