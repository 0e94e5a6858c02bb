// Declared-vs-observed evaluation: turns a declaration plus PRE/POST baselines (and run metrics)
// into diffs/summary.json — one check per scope rule, per limit, the protected-domain check and
// the adapter's invariants. Pure: the same input always gives a byte-identical JSON.stringify.
import type { Baseline, Check, DiffSummary, MigrationDeclaration, ProtectedDomains } from '@kfm/migration-contracts';
import { compareText, diffBaselines, type BaselineDiff } from './baseline-diff.js';
import { LIMIT_MEASURES, type MeasureTable } from './limit-measures.js';
import { limitChecks } from './limit-checks.js';
import { protectedCheck } from './protected-check.js';
import { scopeChecks } from './scope-checks.js';
import { PROTECTED_DIMENSIONS, SCOPE_DIMENSIONS, isBuiltInStoreType } from './store-vocabulary.js';

export interface Observed {
  pre: Baseline;
  post: Baseline;
  /** Run metrics the adapter reported (rows_affected, docs_reindexed, nodes_touched, …). */
  metrics?: Record<string, number>;
  /** Effective protected domains (repository policy + declaration); the declaration's own always apply. */
  protected?: ProtectedDomains;
  /** A diff already computed from exactly these baselines, to avoid diffing twice. */
  diff?: BaselineDiff;
}

export interface EvaluateOptions {
  /** Limit measures for the declaration's type; required for third-party types, replaces the built-in table. */
  measures?: MeasureTable;
  /** Scope dimensions for the declaration's type; required for third-party types. */
  dimensions?: readonly string[];
  /** Protected-domain dimensions for the type; default: the built-in table, or every dimension the domains name. */
  protectedDimensions?: readonly string[];
}

const CHECK_KEYS = ['name', 'rule', 'status', 'code', 'declared', 'observed', 'message', 'pointer'] as const;

/** Fixed key order and no undefined members, so equal checks serialize identically. */
function orderedCheck(check: Check): Check {
  const out: Record<string, unknown> = {};
  for (const key of CHECK_KEYS) if (check[key] !== undefined) out[key] = check[key];
  return out as unknown as Check;
}

function sortedRecord<T>(record: Readonly<Record<string, T>>, keep: (value: T) => boolean = () => true): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of Object.keys(record).sort(compareText)) {
    const value = record[key] as T;
    if (keep(value)) out[key] = value;
  }
  return out;
}

/**
 * The dimensions to judge: the type's vocabulary, then any dimension the declaration names or the
 * diff touched. A touched dimension the vocabulary lacks has no allowed_* key, so it fails closed.
 */
function dimensionsFor(declaration: MigrationDeclaration, diff: BaselineDiff, override?: readonly string[]): string[] {
  const base: readonly string[] = override ?? (isBuiltInStoreType(declaration.type) ? SCOPE_DIMENSIONS[declaration.type] : []);
  const extra = new Set<string>();
  for (const key of Object.keys(declaration.scope ?? {})) {
    const match = /^(?:allowed|forbidden)_(.+)$/.exec(key);
    if (match?.[1]) extra.add(match[1]);
  }
  for (const dimension of Object.keys(diff.touched)) extra.add(dimension);
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

/** Evaluates a declaration against observed baselines; never throws for a governed failure. */
export function evaluate(declaration: MigrationDeclaration, observed: Observed, options: EvaluateOptions = {}): DiffSummary {
  const { pre, post } = observed;
  const diff = observed.diff ?? diffBaselines(pre, post);
  const metrics = sortedRecord(observed.metrics ?? {}, (value) => typeof value === 'number' && Number.isFinite(value));
  const dimensions = dimensionsFor(declaration, diff, options.dimensions);
  const measures = options.measures ?? (isBuiltInStoreType(declaration.type) ? LIMIT_MEASURES[declaration.type] : {});
  const protectedDimensions = options.protectedDimensions ?? (isBuiltInStoreType(declaration.type) ? PROTECTED_DIMENSIONS[declaration.type] : undefined);

  const checks = [
    ...scopeChecks(declaration.scope ?? {}, dimensions, diff),
    ...limitChecks(declaration.limits ?? {}, measures, { diff, metrics, pre, post }, declaration.type),
    protectedCheck({ declaration, pre, post, changes: diff.changes, domains: observed.protected, dimensions: protectedDimensions }),
    ...invariantChecks(post),
  ].map(orderedCheck);

  const touched: Record<string, string[]> = {};
  for (const dimension of [...new Set([...dimensions, ...Object.keys(diff.touched)])].sort(compareText)) {
    touched[dimension] = [...(diff.touched[dimension] ?? [])];
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
    checks,
  };
}
