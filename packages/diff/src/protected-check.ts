// The protected-domain hard stop: one `protected_domain_fingerprint` check that fails when the
// protected fingerprint moved, a protected object's content digest moved, or any change (schema or
// data) names a protected name — unless approvals.exception_ref names an approved exception.
// Which protected key guards which scope dimension comes from the store adapter's vocabulary.
import type {
  Baseline,
  Check,
  DataChange,
  DiffChange,
  MigrationDeclaration,
  ProtectedDomains,
  StoreVocabulary,
} from '@kfm/migration-contracts';
import { compareText } from './baseline-diff.js';
import { firstMatchingPattern as firstMatch } from '@kfm/migration-contracts';
import { listNames } from './scope-checks.js';

export interface ProtectedHit {
  change: DiffChange['change'] | 'data';
  kind: string;
  name: string;
  /** `<dimension>:<pattern>` that matched. */
  matched: string;
}

type Entry = string | Record<string, string>;

/** The name of a protected entry: the entry itself, or its `nameField` (graph labels: `label`). */
function entryName(entry: Entry, nameField: string | undefined): string | undefined {
  if (typeof entry === 'string') return entry;
  return nameField ? entry[nameField] : undefined;
}

/** Patterns per scope dimension, from the protected keys the vocabulary maps to dimensions. */
export function protectedPatterns(
  domains: ProtectedDomains,
  vocabulary: Pick<StoreVocabulary, 'protectedKeys'>,
): Record<string, string[]> {
  const out: Record<string, Set<string>> = {};
  for (const [key, entries] of Object.entries(domains)) {
    const spec = vocabulary.protectedKeys[key];
    if (!spec || !entries) continue;
    for (const entry of entries as Entry[]) {
      const name = entryName(entry, spec.nameField);
      if (name !== undefined) (out[spec.dimension] ??= new Set()).add(name);
    }
  }
  const sorted: Record<string, string[]> = {};
  for (const dimension of Object.keys(out).sort(compareText))
    sorted[dimension] = [...out[dimension]!].sort(compareText);
  return sorted;
}

/** The union of protected domains (store policy, repository policy, declaration): sources add, never remove. */
export function mergeProtected(...sources: (ProtectedDomains | undefined)[]): ProtectedDomains {
  const merged = new Map<string, Map<string, Entry>>();
  for (const source of sources) {
    for (const [key, entries] of Object.entries(source ?? {})) {
      if (!entries) continue;
      const byId = merged.get(key) ?? merged.set(key, new Map()).get(key)!;
      for (const entry of entries as Entry[])
        byId.set(
          typeof entry === 'string'
            ? entry
            : JSON.stringify(Object.entries(entry).sort(([a], [b]) => compareText(a, b))),
          entry,
        );
    }
  }
  const out: Record<string, Entry[]> = {};
  for (const key of [...merged.keys()].sort(compareText)) {
    const byId = merged.get(key)!;
    if (byId.size) out[key] = [...byId.keys()].sort(compareText).map((id) => byId.get(id)!);
  }
  return out as ProtectedDomains;
}

function contentChanges(pre: Baseline, post: Baseline): string[] {
  const before = pre.protected?.content ?? {};
  const after = post.protected?.content ?? {};
  return [...new Set([...Object.keys(before), ...Object.keys(after)])]
    .filter((name) => before[name] !== after[name])
    .sort(compareText);
}

function hitsIn(
  items: readonly {
    change: ProtectedHit['change'];
    kind: string;
    name: string;
    scope?: Readonly<Record<string, readonly string[] | undefined>>;
  }[],
  patterns: Record<string, string[]>,
): ProtectedHit[] {
  const hits: ProtectedHit[] = [];
  for (const item of items) {
    for (const [dimension, dimensionPatterns] of Object.entries(patterns)) {
      const names = item.scope?.[dimension];
      if (!names || names.length === 0) continue;
      const pattern = firstMatch(names, dimensionPatterns);
      if (pattern !== undefined) {
        hits.push({ change: item.change, kind: item.kind, name: item.name, matched: `${dimension}:${pattern}` });
        break;
      }
    }
  }
  return hits;
}

export interface ProtectedCheckInput {
  declaration: MigrationDeclaration;
  vocabulary: Pick<StoreVocabulary, 'protectedKeys'>;
  pre: Baseline;
  post: Baseline;
  changes: readonly DiffChange[];
  data?: readonly DataChange[];
  /** Effective protected domains (store + repository policy + declaration); the declaration's own are always added. */
  domains?: ProtectedDomains;
}

export function protectedCheck(input: ProtectedCheckInput): Check {
  const { declaration, pre, post, changes } = input;
  const domains = mergeProtected(input.domains, declaration.protected);
  const patterns = protectedPatterns(domains, input.vocabulary);
  const fingerprint = { pre: pre.fingerprints.protected ?? null, post: post.fingerprints.protected ?? null };
  // A fingerprint present on one side only cannot prove the domain is unchanged: fail closed.
  const fingerprintMoved = fingerprint.pre !== fingerprint.post;
  const contentMoved = contentChanges(pre, post);
  const hits = [
    ...hitsIn(changes, patterns),
    ...hitsIn(
      (input.data ?? []).map((d) => ({
        change: 'data' as const,
        kind: d.kind ?? 'data',
        name: d.object,
        scope: d.scope,
      })),
      patterns,
    ),
  ];
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
    return {
      ...base,
      status: 'pass',
      message: `protected domains unchanged (${what}; no change names a protected domain)`,
    };
  }
  const reasons = [
    fingerprintMoved ? `protected fingerprint ${fingerprint.pre ?? 'absent'} -> ${fingerprint.post ?? 'absent'}` : '',
    contentMoved.length ? `protected objects changed: ${listNames(contentMoved)}` : '',
    hits.length
      ? `changes in protected domains: ${listNames(hits.map((h) => `${h.kind} ${h.name} (${h.matched})`))}`
      : '',
  ]
    .filter(Boolean)
    .join('; ');
  if (typeof exceptionRef === 'string' && exceptionRef.length > 0) {
    return {
      ...base,
      status: 'pass',
      message: `protected domain changed under approved exception ${exceptionRef}: ${reasons}`,
    };
  }
  return {
    ...base,
    status: 'fail',
    code: 'PROTECTED_DOMAIN_CHANGED',
    message: `protected domain changed without approvals.exception_ref: ${reasons}`,
  };
}
