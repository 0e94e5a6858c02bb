// The policies a run enforces: the repository's (migrations/registry/policy.v1.json) and the store's own
// (written by `kfm-migrate policy push` into the store's ledger, so it holds wherever a bundle is copied).
// They combine so that neither can weaken the other: protected domains add up, every gate keeps the
// stricter setting, timeout maxima take the lower bound, trusted keys must be trusted by both. The
// receipt records the digest of each policy it enforced.
import fs from 'node:fs/promises';
import path from 'node:path';
import { durationMs } from '@kfm/adapter-kit';
import { mergeProtected } from '@kfm/diff';
import { loadArtifact, type Issue, type MigrationDeclaration, type Policy } from '@kfm/migration-contracts';
import { cidOfJson } from '@kfm/receipts';

export const POLICY_FILE = 'registry/policy.v1.json';

export const DEFAULT_MAX_LOCK_TIMEOUT = '30s';
export const DEFAULT_MAX_STATEMENT_TIMEOUT = '60min';
export const DEFAULT_LOCK_TIMEOUT = '5s';
export const DEFAULT_STATEMENT_TIMEOUT = '15min';

export interface LoadedPolicy {
  policy: Policy;
  digest: string;
  file?: string;
}

export type PolicyResult = { ok: true; loaded: LoadedPolicy | undefined } | { ok: false; issues: Issue[] };

/** Loads `<migrationsRoot>/registry/policy.v1.json` when there is one. */
export async function loadRepositoryPolicy(migrationsRoot: string | undefined): Promise<PolicyResult> {
  if (!migrationsRoot) return { ok: true, loaded: undefined };
  const file = path.join(migrationsRoot, POLICY_FILE);
  if (
    !(await fs.access(file).then(
      () => true,
      () => false,
    ))
  )
    return { ok: true, loaded: undefined };
  const loaded = await loadArtifact<Policy>(file, 'policy.v1');
  if (!loaded.ok) return { ok: false, issues: loaded.issues };
  return { ok: true, loaded: { policy: loaded.value, digest: await cidOfJson(loaded.value), file } };
}

/** A requirement holds when any source requires it; a source that omits it requires it (the default). */
function required(values: (boolean | undefined)[]): boolean {
  return values.some((value) => value ?? true);
}

/** A permission holds only when every source grants it; a source that omits it grants it (the default). */
function permitted(values: (boolean | undefined)[]): boolean {
  return values.every((value) => value ?? true);
}

function minDuration(values: (string | undefined)[], fallback: string): string {
  const defined = values.filter((value): value is string => typeof value === 'string');
  if (defined.length === 0) return fallback;
  return defined.reduce((a, b) => ((durationMs(a) ?? Infinity) <= (durationMs(b) ?? Infinity) ? a : b));
}

const SEVERITY_RANK = { off: 0, warning: 1, error: 2 } as const;

/** The policy a run enforces, from whichever of the repository's and the store's exist. */
export function combinePolicies(sources: readonly Policy[]): Policy {
  const combined: Policy = { kfm_policy_version: 'v1' };
  if (sources.length === 0) return combined;
  const protectedDomains = mergeProtected(...sources.map((source) => source.protected));
  if (Object.keys(protectedDomains).length) combined.protected = protectedDomains;
  combined.environments = {
    dev: { allow_drafts: permitted(sources.map((s) => s.environments?.dev?.allow_drafts)) },
    stage: { require_approved: required(sources.map((s) => s.environments?.stage?.require_approved)) },
    prod: {
      require_approval: required(sources.map((s) => s.environments?.prod?.require_approval)),
      require_approved: required(sources.map((s) => s.environments?.prod?.require_approved)),
      require_stage: required(sources.map((s) => s.environments?.prod?.require_stage)),
    },
  };
  combined.timeouts = {
    max_lock_timeout: minDuration(
      sources.map((s) => s.timeouts?.max_lock_timeout),
      DEFAULT_MAX_LOCK_TIMEOUT,
    ),
    max_statement_timeout: minDuration(
      sources.map((s) => s.timeouts?.max_statement_timeout),
      DEFAULT_MAX_STATEMENT_TIMEOUT,
    ),
  };
  if (sources.some((s) => s.require_signatures)) combined.require_signatures = true;
  const keyLists = sources.map((s) => s.trusted_keys).filter((keys): keys is string[] => Array.isArray(keys));
  if (keyLists.length) combined.trusted_keys = keyLists.reduce((a, b) => a.filter((key) => b.includes(key)));
  const exceptions = sources.flatMap((s) => s.exceptions ?? []);
  if (exceptions.length) combined.exceptions = exceptions;
  const thresholds = sources.map((s) => s.lint?.threshold).filter((n): n is number => typeof n === 'number');
  const severities: Record<string, 'error' | 'warning' | 'off'> = {};
  for (const source of sources) {
    for (const [rule, severity] of Object.entries(source.lint?.severities ?? {})) {
      if (!severity) continue;
      const known = severities[rule];
      if (!known || SEVERITY_RANK[severity] > SEVERITY_RANK[known]) severities[rule] = severity;
    }
  }
  if (thresholds.length || Object.keys(severities).length)
    combined.lint = {
      ...(thresholds.length ? { threshold: Math.min(...thresholds) } : {}),
      ...(Object.keys(severities).length ? { severities } : {}),
    };
  const retries = sources
    .map((s) => s.retries)
    .filter(Boolean)
    .pop();
  if (retries) combined.retries = retries;
  return combined;
}

/** Rules the policy allows for this bundle (each exception names the bundle and an approval reference). */
export function allowedRules(policy: Policy, migrationId: string): { rules: string[]; refs: string[] } {
  const matching = (policy.exceptions ?? []).filter((exception) => exception.migration_id === migrationId);
  return {
    rules: [...new Set(matching.flatMap((exception) => exception.rules))].sort(),
    refs: [...new Set(matching.map((exception) => exception.approval_ref))].sort(),
  };
}

/** Declared waits must stay inside the policy's maxima (exit 2 at validate and before any run). */
export function timeoutIssues(
  declaration: MigrationDeclaration,
  policy: Policy,
  file?: string,
  locate: (pointer: string) => { line: number; column: number } | undefined = () => undefined,
): Issue[] {
  const issues: Issue[] = [];
  const check = (
    key: 'lock_timeout' | 'statement_timeout',
    maxKey: 'max_lock_timeout' | 'max_statement_timeout',
    fallback: string,
  ) => {
    const value = declaration.runner[key];
    const max = policy.timeouts?.[maxKey] ?? fallback;
    if (value === undefined) return;
    const ms = durationMs(value);
    const maxMs = durationMs(max) ?? Infinity;
    if (ms === undefined || ms <= 0 || ms > maxMs) {
      const pointer = `/runner/${key}`;
      issues.push({
        code: 'POLICY_LIMIT',
        ...(file ? { file } : {}),
        pointer,
        ...locate(pointer),
        message: `runner.${key} must be above zero and at most the policy's ${maxKey}`,
        expected: `> 0 and <= ${max}`,
        found: value,
      });
    }
  };
  check('lock_timeout', 'max_lock_timeout', DEFAULT_MAX_LOCK_TIMEOUT);
  check('statement_timeout', 'max_statement_timeout', DEFAULT_MAX_STATEMENT_TIMEOUT);
  return issues;
}
