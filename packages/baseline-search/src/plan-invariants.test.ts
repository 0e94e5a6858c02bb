import { describe, expect, it } from 'vitest';
import type { Baseline, BaselineObject, MigrationDeclaration } from '@kfm/migration-contracts';
import { projectAliasActions } from './alias-projection.js';
import { aliasObject } from './catalog-objects.js';
import { planInvariants } from './plan-invariants.js';

const digest = (n: number) => `bagaaiera${String(n).padStart(50, 'a')}`;
const index = (name: string, n = 1): BaselineObject => ({
  kind: 'index',
  name,
  scope: { indices: [name] },
  digest: digest(n),
});
const baseline = (objects: BaselineObject[]): Baseline => ({
  kfm_baseline_version: 'v1',
  store: 'search',
  server: { product: 'Elasticsearch', version: '8' },
  counts: {},
  objects,
  fingerprints: { schema: digest(0) },
});
const declaration = { transactional: true, requires_rollback: true } as MigrationDeclaration;
const flip = [{ remove: { index: 'p_v1', alias: 'p' } }, { add: { index: 'p_v2', alias: 'p' } }];
const status = (checks: { name: string; status: string }[]) =>
  Object.fromEntries(checks.map((c) => [c.name, c.status]));

describe('alias projection and plan invariants', () => {
  it('projects an atomic flip exactly as a later capture would describe it', async () => {
    const before = [index('p_v1'), await aliasObject('p', 'p_v1', {})];
    const projected = await projectAliasActions([...before, index('p_v2', 2)], flip);
    expect(projected.filter((o) => o.kind === 'alias')).toEqual([await aliasObject('p', 'p_v2', {})]);
    // `routing` is stored as both routings, as GET /_alias reports it
    const routed = await projectAliasActions([], [{ add: { index: 'p_v2', alias: 'p', routing: '1' } }]);
    expect(routed[0]!.digest).toBe(
      (await aliasObject('p', 'p_v2', { index_routing: '1', search_routing: '1' })).digest,
    );
  });

  it('passes a versioned change with an explicit flip that keeps the old index', async () => {
    const pre = baseline([index('p_v1'), await aliasObject('p', 'p_v1', {})]);
    const post = baseline(await projectAliasActions([index('p_v1'), index('p_v2', 2)], flip));
    expect(status(planInvariants(pre, post, flip, declaration))).toEqual({
      'search.mapping_versioned': 'pass',
      'search.alias_plan_explicit': 'pass',
      'search.old_index_retained': 'pass',
    });
  });

  it('fails an in-place change of an aliased index, an implicit alias and a deleted old index', async () => {
    const pre = baseline([index('p_v1'), await aliasObject('p', 'p_v1', {})]);
    const changed = baseline([
      index('p_v1', 9),
      await aliasObject('p', 'p_v1', {}),
      await aliasObject('q', 'p_v1', {}),
    ]);
    expect(status(planInvariants(pre, changed, [], declaration))).toEqual({
      'search.mapping_versioned': 'fail',
      'search.alias_plan_explicit': 'fail',
      'search.old_index_retained': 'pass',
    });
    expect(
      status(planInvariants(pre, changed, [], { ...declaration, transactional: false }))['search.mapping_versioned'],
    ).toBe('pass');
    const deleted = baseline(await projectAliasActions([index('p_v2', 2)], flip));
    const checks = planInvariants(pre, deleted, flip, declaration);
    expect(checks.find((c) => c.name === 'search.old_index_retained')).toMatchObject({
      status: 'fail',
      code: 'INVARIANT_FAILED',
      observed: ['p_v1'],
    });
  });
});
