// The protected-domain hard stop: one `protected_domain_fingerprint` check that fails when the
// protected fingerprint moved, a protected object's content digest moved, or any change names a
// protected schema/table/index/label — unless approvals.exception_ref names an approved exception.
import type { Baseline, Check, DiffChange, MigrationDeclaration, ProtectedDomains } from '@kfm/migration-contracts';
import { compareText } from './baseline-diff.js';
import { firstMatchingPattern as firstMatch } from '@kfm/migration-contracts';
import { listNames } from './scope-checks.js';

export interface ProtectedHit {
  change: DiffChange['change'];
  kind: string;
  name: string;
  /** `<dimension>:<pattern>` that matched. */
  matched: string;
}

/** Patterns per protected dimension; graph labels match on `label`. */
export function protectedPatterns(domains: ProtectedDomains): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const add = (dimension: string, patterns: readonly string[]) => {
    const merged = new Set([...(out[dimension] ?? []), ...patterns]);
    if (merged.size > 0) out[dimension] = [...merged].sort(compareText);
  };
  add('schemas', domains.schemas ?? []);
  add('tables', domains.tables ?? []);
  add('indices', domains.indices ?? []);
  add('labels', (domains.labels ?? []).map((entry) => entry.label));
  return out;
}

/** The repository policy's domains plus the declaration's: a declaration can add, never remove. */
export function mergeProtected(...sources: (ProtectedDomains | undefined)[]): ProtectedDomains {
  const strings = (key: 'schemas' | 'tables' | 'indices') => [...new Set(sources.flatMap((s) => s?.[key] ?? []))].sort(compareText);
  const labels = new Map<string, { label: string; key: string }>();
  for (const source of sources) for (const entry of source?.labels ?? []) labels.set(`${entry.label}\u0000${entry.key}`, { label: entry.label, key: entry.key });
  const merged: ProtectedDomains = {};
  const schemas = strings('schemas');
  const tables = strings('tables');
  const indices = strings('indices');
  if (indices.length) merged.indices = indices;
  if (labels.size) merged.labels = [...labels.keys()].sort(compareText).map((k) => labels.get(k)!);
  if (schemas.length) merged.schemas = schemas;
  if (tables.length) merged.tables = tables;
  return merged;
}

function contentChanges(pre: Baseline, post: Baseline): string[] {
  const before = pre.protected?.content ?? {};
  const after = post.protected?.content ?? {};
  return [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((name) => before[name] !== after[name]).sort(compareText);
}

function protectedHits(changes: readonly DiffChange[], patterns: Record<string, string[]>, dimensions: readonly string[]): ProtectedHit[] {
  const hits: ProtectedHit[] = [];
  for (const change of changes) {
    for (const dimension of dimensions) {
      const dimensionPatterns = patterns[dimension];
      const names = change.scope?.[dimension];
      if (!dimensionPatterns || !names || names.length === 0) continue;
      const pattern = firstMatch(names, dimensionPatterns);
      if (pattern !== undefined) {
        hits.push({ change: change.change, kind: change.kind, name: change.name, matched: `${dimension}:${pattern}` });
        break;
      }
    }
  }
  return hits;
}

export interface ProtectedCheckInput {
  declaration: MigrationDeclaration;
  pre: Baseline;
  post: Baseline;
  changes: readonly DiffChange[];
  /** Effective protected domains (policy + declaration); the declaration's own are always added. */
  domains?: ProtectedDomains;
  /** The protected dimensions the store type governs; undefined = every dimension the domains name. */
  dimensions?: readonly string[];
}

export function protectedCheck(input: ProtectedCheckInput): Check {
  const { declaration, pre, post, changes } = input;
  const domains = mergeProtected(input.domains, declaration.protected);
  const patterns = protectedPatterns(domains);
  const dimensions = input.dimensions ?? Object.keys(patterns).sort(compareText);
  const fingerprint = { pre: pre.fingerprints.protected ?? null, post: post.fingerprints.protected ?? null };
  // A fingerprint present on one side only cannot prove the domain is unchanged: fail closed.
  const fingerprintMoved = fingerprint.pre !== fingerprint.post;
  const contentMoved = contentChanges(pre, post);
  const hits = protectedHits(changes, patterns, dimensions);
  const exceptionRef = declaration.approvals?.exception_ref;
  const base = {
    name: 'protected_domain_fingerprint',
    rule: 'protected' as const,
    pointer: '/approvals/exception_ref',
    declared: { protected: domains, exception_ref: exceptionRef ?? null },
    observed: { fingerprint, changed_objects: contentMoved, changes: hits },
  };
  if (!fingerprintMoved && contentMoved.length === 0 && hits.length === 0) {
    const what = fingerprint.pre === null ? 'no protected fingerprint captured' : `fingerprint ${fingerprint.pre}`;
    return { ...base, status: 'pass', message: `protected domains unchanged (${what}; no change names a protected domain)` };
  }
  const reasons = [
    fingerprintMoved ? `protected fingerprint ${fingerprint.pre ?? 'absent'} -> ${fingerprint.post ?? 'absent'}` : '',
    contentMoved.length ? `protected objects changed: ${listNames(contentMoved)}` : '',
    hits.length ? `changes in protected domains: ${listNames(hits.map((h) => `${h.kind} ${h.name} (${h.matched})`))}` : '',
  ].filter(Boolean).join('; ');
  if (typeof exceptionRef === 'string' && exceptionRef.length > 0) {
    return { ...base, status: 'pass', message: `protected domain changed under approved exception ${exceptionRef}: ${reasons}` };
  }
  return { ...base, status: 'fail', code: 'PROTECTED_DOMAIN_CHANGED', message: `protected domain changed without approvals.exception_ref: ${reasons}` };
}
