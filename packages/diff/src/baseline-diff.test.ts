import { describe, expect, it } from 'vitest';
import { KfmError } from '@kfm/migration-contracts';
import { diffBaselines } from './baseline-diff.js';
import { baseline, digest, index, object, table } from './__fixtures__/build.js';

describe('diffBaselines', () => {
  const pre = baseline({
    objects: [
      table('public.parcels'),
      index('public.parcels_pkey', 'public.parcels'),
      table('public.roads'),
      index('public.roads_idx', 'public.roads'),
    ],
    counts: { tables: 2, indexes: 2, rows: 10 },
  });
  const post = baseline({
    objects: [
      table('public.parcels', 'v2'),
      index('public.parcels_pkey', 'public.parcels'),
      index('public.parcels_geom_idx', 'public.parcels'),
      table('public.roads'),
    ],
    counts: { tables: 2, indexes: 2, rows: 10, 'label:New': 1 },
  });
  const diff = diffBaselines(pre, post);

  it('classifies added, removed and changed objects with their digests, sorted by kind then name', () => {
    expect(diff.changes.map((c) => [c.change, c.kind, c.name])).toEqual([
      ['added', 'index', 'public.parcels_geom_idx'],
      ['removed', 'index', 'public.roads_idx'],
      ['changed', 'table', 'public.parcels'],
    ]);
    const changed = diff.changes[2]!;
    expect(changed.before).toBe(digest('table|public.parcels|v1'));
    expect(changed.after).toBe(digest('table|public.parcels|v2'));
    expect(diff.changes[0]!.before).toBeUndefined();
    expect(diff.changes[1]!.after).toBeUndefined();
    expect(diff.changes[0]!.scope).toEqual({ schemas: ['public'], tables: ['public.parcels', 'parcels'] });
    expect(diff.totals).toEqual({ added: 1, removed: 1, changed: 1 });
  });

  it('reports canonical names per dimension, sorted and deduplicated, and keeps aliases for matching', () => {
    expect(diff.touched).toEqual({ schemas: ['public'], tables: ['public.parcels', 'public.roads'] });
    expect(diff.names.tables).toEqual({
      'public.parcels': ['public.parcels', 'parcels'],
      'public.roads': ['public.roads', 'roads'],
    });
  });

  it('lists only the count keys that moved, counting a missing key as 0', () => {
    expect(diff.count_deltas).toEqual({ 'label:New': { pre: 0, post: 1, delta: 1 } });
    const shrink = diffBaselines(baseline({ objects: [], counts: { a: 5 } }), baseline({ objects: [], counts: {} }));
    expect(shrink.count_deltas).toEqual({ a: { pre: 5, post: 0, delta: -5 } });
  });

  it('finds nothing between identical baselines', () => {
    const same = diffBaselines(pre, structuredClone(pre));
    expect(same).toEqual({
      changes: [],
      totals: { added: 0, removed: 0, changed: 0 },
      touched: {},
      names: {},
      count_deltas: {},
    });
  });

  it('counts both the old and the new names of an object that moved between tables', () => {
    const moved = diffBaselines(
      baseline({ objects: [index('public.geom_idx', 'public.parcels')] }),
      baseline({ objects: [index('public.geom_idx', 'public.parcels_v2')] }),
    );
    expect(moved.totals).toEqual({ added: 0, removed: 0, changed: 1 });
    expect(moved.touched.tables).toEqual(['public.parcels', 'public.parcels_v2']);
    expect(moved.changes[0]!.scope).toEqual({
      schemas: ['public'],
      tables: ['public.parcels_v2', 'parcels_v2', 'public.parcels', 'parcels'],
    });
  });

  it('treats a scope change with the same digest as a change', () => {
    const a = object('index', 'i', { tables: ['public.a'] });
    const b = { ...a, scope: { tables: ['public.b'] } };
    expect(diffBaselines(baseline({ objects: [a] }), baseline({ objects: [b] })).totals.changed).toBe(1);
    const emptyDimension = { ...a, scope: { tables: ['public.a'], schemas: [] } };
    expect(diffBaselines(baseline({ objects: [a] }), baseline({ objects: [emptyDimension] })).totals.changed).toBe(0);
  });

  it('identifies objects by (kind, name), so a table and an index may share a name', () => {
    const shared = diffBaselines(
      baseline({ objects: [table('public.x')] }),
      baseline({ objects: [table('public.x'), index('public.x', 'public.x')] }),
    );
    expect(shared.changes.map((c) => `${c.change} ${c.kind}`)).toEqual(['added index']);
  });

  it('refuses a baseline listing the same object twice', () => {
    const broken = baseline({ objects: [table('public.x'), table('public.y'), table('public.x', 'v2')] });
    let thrown: unknown;
    try {
      diffBaselines(broken, pre);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(KfmError);
    expect((thrown as KfmError).code).toBe('SCHEMA_UNIQUE');
    expect((thrown as KfmError).issue.pointer).toBe('/objects/2');
  });

  it('diffs 100k-object baselines correctly', () => {
    const size = 100_000;
    // Cheap, distinct, pattern-valid digests: hashing 105k seeds would only slow the test down.
    const fake = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
    const preObjects = [];
    const postObjects = [];
    for (let i = 0; i < size; i++) {
      const name = `s${i % 50}.t${i}`;
      const kind = i % 3 === 0 ? 'index' : 'table';
      const scope = { schemas: [`s${i % 50}`], tables: [`s${i % 50}.t${Math.floor(i / 2)}`, `t${Math.floor(i / 2)}`] };
      const pre = { kind, name, scope, digest: fake(i) };
      preObjects.push(pre);
      if (i % 10 === 1) continue; // removed
      postObjects.push(i % 10 === 2 ? { ...pre, digest: fake(size + i) } : pre);
    }
    for (let i = 0; i < 5_000; i++)
      postObjects.push({
        kind: 'index',
        name: `new.i${i}`,
        scope: { schemas: ['new'], tables: [`new.t${i % 7}`] },
        digest: fake(3 * size + i),
      });
    // Baselines are compared by identity, not position.
    postObjects.reverse();

    const diff = diffBaselines(baseline({ objects: preObjects }), baseline({ objects: postObjects }));
    expect(diff.totals).toEqual({ added: 5_000, removed: 10_000, changed: 10_000 });
    expect(diff.changes).toHaveLength(25_000);
    const unsorted = diff.changes.findIndex((b, i) => {
      const a = diff.changes[i - 1];
      return a !== undefined && !(a.kind < b.kind || (a.kind === b.kind && a.name < b.name));
    });
    expect(unsorted).toBe(-1);
    const byName = new Map(diff.changes.map((c) => [`${c.kind} ${c.name}`, c.change]));
    expect(byName.get('table s1.t1')).toBe('removed');
    expect(byName.get('index s12.t99912')).toBe('changed');
    expect(byName.get('index new.i4999')).toBe('added');
    expect(byName.has('index s0.t0')).toBe(false);
    // Touched tables: floor(i/2) for every removed or changed i, plus 7 new tables.
    const expectedTables = new Set<string>();
    const expectedSchemas = new Set<string>(['new']);
    for (let i = 0; i < size; i++) {
      if (i % 10 !== 1 && i % 10 !== 2) continue;
      expectedTables.add(`s${i % 50}.t${Math.floor(i / 2)}`);
      expectedSchemas.add(`s${i % 50}`);
    }
    for (let i = 0; i < 7; i++) expectedTables.add(`new.t${i}`);
    expect(diff.touched.tables).toEqual([...expectedTables].sort());
    expect(diff.touched.schemas).toEqual([...expectedSchemas].sort());
    expect(diff.names.tables!['new.t3']).toEqual(['new.t3']);
    expect(diff.names.tables!['s1.t0']).toEqual(['s1.t0', 't0']);
  });
});
