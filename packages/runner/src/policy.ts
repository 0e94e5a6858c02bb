// Repository policy and the governance gates that run before a store is touched: the effective
// protected domains (repository policy plus the declaration's additions, never fewer), the
// production approval rule and the rollback posture.
import fs from 'node:fs/promises';
import path from 'node:path';
import { loadArtifact, type Check, type Issue, type MigrationDeclaration, type Policy, type ProtectedDomains } from '@kfm/migration-contracts';

export const POLICY_FILE = 'registry/policy.v1.json';

export type PolicyResult = { ok: true; policy: Policy | undefined; file?: string } | { ok: false; issues: Issue[] };

/** Loads `<migrationsRoot>/registry/policy.v1.json` when there is one. */
export async function loadPolicy(migrationsRoot: string | undefined): Promise<PolicyResult> {
  if (!migrationsRoot) return { ok: true, policy: undefined };
  const file = path.join(migrationsRoot, POLICY_FILE);
  try {
    await fs.access(file);
  } catch {
    return { ok: true, policy: undefined };
  }
  const loaded = await loadArtifact<Policy>(file, 'policy.v1');
  return loaded.ok ? { ok: true, policy: loaded.value, file } : { ok: false, issues: loaded.issues };
}

/** Union of the repository's protected domains and the declaration's; a declaration cannot remove any. */
export function effectiveProtected(policy: Policy | undefined, declaration: MigrationDeclaration): ProtectedDomains {
  const a = policy?.protected ?? {};
  const b = declaration.protected ?? {};
  const union = (x?: string[], y?: string[]) => [...new Set([...(x ?? []), ...(y ?? [])])].sort();
  const labels = new Map<string, { label: string; key: string }>();
  for (const entry of [...(a.labels ?? []), ...(b.labels ?? [])]) labels.set(`${entry.label}\u0000${entry.key}`, entry);
  const result: ProtectedDomains = {};
  const schemas = union(a.schemas, b.schemas);
  const tables = union(a.tables, b.tables);
  const indices = union(a.indices, b.indices);
  if (schemas.length) result.schemas = schemas;
  if (tables.length) result.tables = tables;
  if (indices.length) result.indices = indices;
  if (labels.size) result.labels = [...labels.values()].sort((x, y) => x.label.localeCompare(y.label) || x.key.localeCompare(y.key));
  return result;
}

export interface GateOptions {
  environment: 'dev' | 'stage' | 'prod';
  approval?: string;
}

/** Gates that need no store: production approval and rollback posture. */
export function governanceGates(declaration: MigrationDeclaration, options: GateOptions): Check[] {
  const checks: Check[] = [];
  const prodOk = options.environment !== 'prod' || Boolean(options.approval);
  checks.push({
    name: 'environment_approval', rule: 'policy', status: prodOk ? 'pass' : 'fail',
    ...(prodOk ? {} : { code: 'POLICY_ENV_APPROVAL' }),
    declared: options.environment, observed: options.approval ? 'approval reference given' : 'no approval reference',
    message: prodOk ? `environment ${options.environment} allowed` : '--env prod needs --approval REF',
  });
  const reversible = declaration.requires_rollback ? (declaration.artifacts.rollback?.length ?? 0) > 0 : Boolean(declaration.approvals.irreversibility_ref);
  checks.push({
    name: 'rollback_posture', rule: 'rollback', status: reversible ? 'pass' : 'fail',
    ...(reversible ? {} : { code: declaration.requires_rollback ? 'ROLLBACK_ARTIFACT_MISSING' : 'IRREVERSIBLE_WITHOUT_APPROVAL' }),
    declared: declaration.requires_rollback ? 'reversible' : 'irreversible',
    observed: declaration.requires_rollback ? `${declaration.artifacts.rollback?.length ?? 0} rollback script(s)` : (declaration.approvals.irreversibility_ref ? 'approval reference present' : 'no approval reference'),
    message: reversible ? 'rollback posture satisfied' : 'rollback posture not satisfied',
    pointer: declaration.requires_rollback ? '/artifacts/rollback' : '/approvals/irreversibility_ref',
  });
  return checks;
}
