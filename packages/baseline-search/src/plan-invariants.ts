// Invariants of a governed search change, recorded in the POST baseline and judged by the diff:
// index changes are versioned (an index behind a live alias keeps its mapping and settings), every
// alias move is an explicit plan action, and an index an alias pointed to at PRE is retained.
import type { Baseline, Check, MigrationDeclaration } from '@kfm/migration-contracts';
import { expectedAliasNames } from './alias-projection.js';
import { compareText } from './scope.js';
import type { AliasAction } from './operations.js';

function objectsOf(baseline: Baseline, kind: string): Map<string, string> {
  return new Map(
    baseline.objects.filter((object) => object.kind === kind).map((object) => [object.name, object.digest]),
  );
}

/** Indices that at least one alias pointed to. */
function aliasedIndices(baseline: Baseline): string[] {
  const names = new Set<string>();
  for (const object of baseline.objects)
    if (object.kind === 'alias') for (const index of object.scope.indices ?? []) names.add(index);
  return [...names].sort(compareText);
}

export function planInvariants(
  before: Baseline,
  post: Baseline,
  actions: readonly AliasAction[],
  declaration: MigrationDeclaration,
): Check[] {
  const beforeIndices = objectsOf(before, 'index');
  const postIndices = objectsOf(post, 'index');
  const aliased = aliasedIndices(before);

  const changedLive = aliased.filter(
    (index) => postIndices.has(index) && postIndices.get(index) !== beforeIndices.get(index),
  );
  const allowsInPlace = declaration.transactional === false;
  const versioned: Check = {
    name: 'search.mapping_versioned',
    status: changedLive.length === 0 || allowsInPlace ? 'pass' : 'fail',
    declared: { transactional: declaration.transactional !== false },
    observed: changedLive,
    message:
      changedLive.length === 0
        ? `no index behind a live alias changed its mappings or settings (${aliased.length} aliased)`
        : `${changedLive.length} index(es) behind a live alias changed in place: ${changedLive.join(', ')}${allowsInPlace ? ' (allowed: transactional: false)' : '; build a new versioned index instead'}`,
  };

  const expected = expectedAliasNames(objectsOf(before, 'alias').keys(), actions);
  const observed = new Set(objectsOf(post, 'alias').keys());
  const implicit = [...observed].filter((name) => !expected.has(name)).sort(compareText);
  const missing = [...expected].filter((name) => !observed.has(name)).sort(compareText);
  const explicit: Check = {
    name: 'search.alias_plan_explicit',
    status: implicit.length === 0 && missing.length === 0 ? 'pass' : 'fail',
    declared: actions.length,
    observed: { unexplained: implicit, missing },
    message:
      implicit.length === 0 && missing.length === 0
        ? `every alias change is an update_aliases action of the plan (${actions.length} action(s))`
        : `alias changes the plan does not state: ${[...implicit.map((n) => `+${n}`), ...missing.map((n) => `-${n}`)].join(', ')}`,
  };

  const gone = aliased.filter((index) => !postIndices.has(index));
  const irreversible = declaration.requires_rollback === false;
  const retained: Check = {
    name: 'search.old_index_retained',
    status: gone.length === 0 || irreversible ? 'pass' : 'fail',
    observed: gone,
    message:
      gone.length === 0
        ? `every index an alias pointed to at PRE still exists (${aliased.length})`
        : `index(es) an alias pointed to at PRE were deleted: ${gone.join(', ')}${irreversible ? ' (declared irreversible)' : '; the rollback needs them'}`,
  };
  return [versioned, explicit, retained].map((check) => ({
    ...check,
    rule: 'invariant' as const,
    ...(check.status === 'fail' ? { code: 'INVARIANT_FAILED' } : {}),
  }));
}
