// What the registry says a bundle may do: approvals bound to the current bundle digest, and the
// environment gates built on them (dev accepts drafts unless the policy says otherwise; stage needs
// every required reviewer's approval of THIS digest; prod also needs a recorded --approval REF and an
// earlier stage run). An edited declaration or script has a new digest, so it voids every approval.
import type { Check, MigrationDeclaration, Policy } from '@kfm/migration-contracts';
import type { Approval, RegistryEntry, RegistryStatus } from './migrations-registry.js';

export type EnvironmentName = 'dev' | 'stage' | 'prod';

const APPROVED_OR_LATER: readonly RegistryStatus[] = [
  'approved',
  'merged',
  'executed_dev',
  'executed_stage',
  'executed_prod',
  'rolled_back',
];

/** Reviewers of `required` whose approval names `digest`, and those still missing. */
export function approvalsFor(
  entry: RegistryEntry | undefined,
  declaration: MigrationDeclaration,
  digest: string,
): { current: Approval[]; missing: string[] } {
  const current = (entry?.approvals ?? []).filter((approval) => approval.bundle_digest === digest);
  const approvedBy = new Set(current.map((approval) => approval.reviewer));
  const missing = (declaration.approvals.required_reviewers ?? []).filter((reviewer) => !approvedBy.has(reviewer));
  return { current, missing };
}

export interface GateInput {
  environment: EnvironmentName;
  approval?: string;
  declaration: MigrationDeclaration;
  /** The registry entry when the bundle sits under a migrations root; undefined outside one. */
  entry: RegistryEntry | undefined;
  bundleDigest: string;
  policy: Policy;
}

/** The environment gate as one check (POLICY_APPROVAL when it refuses), and the rollback posture. */
export function governanceGates(input: GateInput): Check[] {
  return [environmentGate(input), rollbackPosture(input.declaration)];
}

function environmentGate(input: GateInput): Check {
  const { environment, policy, entry } = input;
  const fail = (message: string, observed: unknown): Check => ({
    name: 'environment_approval',
    rule: 'policy',
    status: 'fail',
    code: 'POLICY_APPROVAL',
    declared: environment,
    observed,
    pointer: '/approvals',
    message,
  });
  const pass = (message: string): Check => ({
    name: 'environment_approval',
    rule: 'policy',
    status: 'pass',
    declared: environment,
    message,
  });
  const status = entry?.status ?? 'draft';
  if (environment === 'dev') {
    if (policy.environments?.dev?.allow_drafts === false && !APPROVED_OR_LATER.includes(status))
      return fail(`the policy allows no drafts in dev; ${input.declaration.migration_id} is ${status}`, status);
    return pass(`dev accepts ${status} bundles`);
  }
  const rules = environment === 'stage' ? policy.environments?.stage : policy.environments?.prod;
  if (rules?.require_approved !== false) {
    if (!entry)
      return fail(
        `--env ${environment} needs a registered, approved bundle (no registry entry: the bundle is not under a migrations root)`,
        'unregistered',
      );
    if (!APPROVED_OR_LATER.includes(status))
      return fail(
        `--env ${environment} needs status approved or later; ${input.declaration.migration_id} is ${status}`,
        status,
      );
    const { missing } = approvalsFor(entry, input.declaration, input.bundleDigest);
    if (missing.length)
      return fail(
        `--env ${environment} needs approvals of the current bundle (${input.bundleDigest}) by ${missing.join(', ')}; an edit voids earlier approvals`,
        { missing },
      );
  }
  if (environment === 'prod') {
    const prod = policy.environments?.prod;
    if (prod?.require_approval !== false) {
      if (!input.approval)
        return fail('--env prod needs --approval REF naming a recorded approval', 'no approval reference');
      const refs = approvalsFor(entry, input.declaration, input.bundleDigest).current.map((approval) => approval.ref);
      if (!refs.includes(input.approval))
        return fail(
          `--approval ${input.approval} is not an approval recorded for the current bundle digest (recorded: ${refs.join(', ') || 'none'})`,
          input.approval,
        );
    }
    if (
      prod?.require_stage !== false &&
      !(entry?.history ?? []).some(
        (h) => h.status === 'executed_stage' && (!h.bundle_digest || h.bundle_digest === input.bundleDigest),
      )
    ) {
      return fail('--env prod needs an earlier executed_stage run of this bundle', status);
    }
  }
  return pass(`environment ${environment} allowed: ${status}, approvals bound to ${input.bundleDigest}`);
}

function rollbackPosture(declaration: MigrationDeclaration): Check {
  const reversible = declaration.requires_rollback
    ? (declaration.artifacts.rollback?.length ?? 0) > 0
    : Boolean(declaration.approvals.irreversibility_ref);
  return {
    name: 'rollback_posture',
    rule: 'rollback',
    status: reversible ? 'pass' : 'fail',
    ...(reversible
      ? {}
      : { code: declaration.requires_rollback ? 'ROLLBACK_ARTIFACT_MISSING' : 'IRREVERSIBLE_WITHOUT_APPROVAL' }),
    declared: declaration.requires_rollback ? 'reversible' : 'irreversible',
    observed: declaration.requires_rollback
      ? `${declaration.artifacts.rollback?.length ?? 0} rollback script(s)`
      : declaration.approvals.irreversibility_ref
        ? 'approval reference present'
        : 'no approval reference',
    message: reversible ? 'rollback posture satisfied' : 'rollback posture not satisfied',
    pointer: declaration.requires_rollback ? '/artifacts/rollback' : '/approvals/irreversibility_ref',
  };
}
