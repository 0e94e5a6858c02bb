// Declared-vs-observed evaluation: turns a declaration plus PRE/POST baselines, run metrics and data
// changes into diffs/summary.json — one check per scope rule, per limit, the protected-domain check
// and the adapter's invariants. The store's vocabulary (dimensions, limits, protected keys) comes
// from its adapter. Pure: the same input always gives a byte-identical JSON.stringify.
import type {
  Baseline,
  Check,
  DataChange,
  DiffSummary,
  MigrationDeclaration,
  ProtectedDomains,
  StoreVocabulary,
} from '@kfm/migration-contracts';
import { compareText, diffBaselines, touchedWithData, type BaselineDiff } from './baseline-diff.js';
import { limitChecks } from './limit-checks.js';
import { protectedCheck } from './protected-check.js';
import { scopeChecks } from './scope-checks.js';

export interface Observed {
  pre: Baseline;
  post: Baseline;
  /** Run metrics the adapter reported (rows_affected, docs_reindexed, nodes_touched, …). */
  metrics?: Readonly<Record<string, number | undefined>>;
  /** Data written per object, as the store counted it; each object's names count as touched. */
  data?: readonly DataChange[];
  /** Effective protected domains (store + repository policy + declaration); the declaration's own always apply. */
  protected?: ProtectedDomains;
  /** A diff already computed from exactly these baselines, to avoid diffing twice. */
  diff?: BaselineDiff;
}

const CHECK_KEYS = ['name', 'rule', 'status', 'code', 'declared', 'observed', 'message', 'pointer'] as const;

/** Fixed key order and no undefined members, so equal checks serialize identically. */
function orderedCheck(check: Check): Check {
  const out: Record<string, unknown> = {};
  for (const key of CHECK_KEYS) if (check[key] !== undefined) out[key] = check[key];
  return out as unknown as Check;
}

function sortedRecord<T>(
  record: Readonly<Record<string, T>>,
  keep: (value: T) => boolean = () => true,
): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of Object.keys(record).sort(compareText)) {
    const value = record[key] as T;
    if (keep(value)) out[key] = value;
  }
  return out;
}

/**
 * The dimensions to judge: the vocabulary's, then any dimension the declaration names or the run
 * touched. A touched dimension the vocabulary lacks has no allowed_* key, so it fails closed.
 */
function dimensionsFor(
  declaration: MigrationDeclaration,
  touched: Readonly<Record<string, readonly string[]>>,
  base: readonly string[],
): string[] {
  const extra = new Set<string>();
  for (const key of Object.keys(declaration.scope ?? {})) {
    const match = /^(?:allowed|forbidden)_(.+)$/.exec(key);
    if (match?.[1]) extra.add(match[1]);
  }
  for (const dimension of Object.keys(touched)) extra.add(dimension);
  for (const dimension of base) extra.delete(dimension);
  return [...base, ...[...extra].sort(compareText)];
}

function invariantChecks(post: Baseline): Check[] {
  return (post.invariants ?? []).map((invariant) => ({
    ...invariant,
    rule: 'invariant' as const,
    code: invariant.status === 'fail' ? 'INVARIANT_FAILED' : invariant.code,
    pointer: invariant.pointer ?? '/invariants',
  }));
}

function sortedData(data: readonly DataChange[]): DataChange[] {
  return [...data]
    .map((change) => ({ ...change, scope: sortedRecord(change.scope), counts: sortedRecord(change.counts) }))
    .sort((a, b) => compareText(a.object, b.object) || compareText(a.kind ?? '', b.kind ?? ''));
}

/** Count keys that name a scope: a label or relationship type whose count moved was written. */
const COUNTED_DIMENSIONS: Record<string, string> = { 'label:': 'labels', 'relationship_type:': 'relationship_types' };

/**
 * A count that moved touched what it counts, whatever the digests say: nodes that lost a label, or
 * relationships a DETACH DELETE took with their node, change no object the baseline digests.
 */
function countedScopes(
  deltas: Readonly<Record<string, unknown>>,
  dimensions: readonly string[],
): { scope: Record<string, string[]> }[] {
  const scopes: { scope: Record<string, string[]> }[] = [];
  for (const key of Object.keys(deltas)) {
    for (const [prefix, dimension] of Object.entries(COUNTED_DIMENSIONS)) {
      if (key.startsWith(prefix) && dimensions.includes(dimension))
        scopes.push({ scope: { [dimension]: [key.slice(prefix.length)] } });
    }
  }
  return scopes;
}

/** Evaluates a declaration against what was observed, with the store's vocabulary; never throws for a governed failure. */
export function evaluate(
  declaration: MigrationDeclaration,
  observed: Observed,
  vocabulary: StoreVocabulary,
): DiffSummary {
  const { pre, post } = observed;
  const diff = observed.diff ?? diffBaselines(pre, post);
  const data = sortedData(observed.data ?? []);
  const seen = touchedWithData(diff, [...data, ...countedScopes(diff.count_deltas, vocabulary.scopeDimensions)]);
  const metrics = sortedRecord(
    observed.metrics ?? {},
    (value) => typeof value === 'number' && Number.isFinite(value),
  ) as Record<string, number>;
  const dimensions = dimensionsFor(declaration, seen.touched, vocabulary.scopeDimensions);

  const checks = [
    ...scopeChecks(declaration.scope ?? {}, dimensions, seen),
    ...limitChecks(
      declaration.limits ?? {},
      vocabulary.limits,
      { diff, metrics, data, touched: seen.touched, pre, post },
      declaration.type,
    ),
    protectedCheck({ declaration, vocabulary, pre, post, changes: diff.changes, data, domains: observed.protected }),
    ...invariantChecks(post),
  ].map(orderedCheck);

  const touched: Record<string, string[]> = {};
  for (const dimension of [...new Set([...dimensions, ...Object.keys(seen.touched)])].sort(compareText)) {
    touched[dimension] = [...(seen.touched[dimension] ?? [])];
  }

  return {
    kfm_diff_summary_version: 'v1',
    migration_id: declaration.migration_id,
    store: post.store,
    status: checks.some((check) => check.status === 'fail') ? 'fail' : 'pass',
    fingerprints: { pre: sortedRecord(pre.fingerprints), post: sortedRecord(post.fingerprints) },
    changes: diff.changes,
    totals: { ...diff.totals },
    touched,
    count_deltas: sortedRecord(diff.count_deltas),
    metrics,
    ...(data.length ? { data_changes: data } : {}),
    checks,
  };
}
