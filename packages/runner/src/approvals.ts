// Approvals bound to content, and the registry's status model. `approve` appends {reviewer, ref, at,
// bundle_digest}; the status becomes `approved` once every required reviewer has approved the CURRENT
// bundle digest. `mark` records `merged` and `superseded` (never deleting anything). Transitions are
// appended to the history, never rewritten.
import { ExitCode, exitCodeFor, type Issue } from '@kfm/migration-contracts';
import { prepareBundle } from './bundle.js';
import { updateRegistry, type Approval, type RegistryStatus } from './migrations-registry.js';
import { approvalsFor } from './registry-gates.js';

export interface ApprovalResult {
  status: 'passed' | 'failed';
  exit_code: ExitCode;
  issues: Issue[];
  migration_id?: string;
  bundle_digest?: string;
  registry_status?: RegistryStatus;
  approvals?: Approval[];
  missing?: string[];
}

export async function approveBundle(
  target: string,
  input: { reviewer: string; ref: string; now: Date },
): Promise<ApprovalResult> {
  if (!input.reviewer.trim() || !input.ref.trim())
    return {
      status: 'failed',
      exit_code: ExitCode.InvalidInput,
      issues: [{ code: 'ARGUMENT_INVALID', message: 'approve needs --reviewer NAME and --ref REF' }],
    };
  const prepared = await prepareBundle(target);
  if (!prepared.ok) return { status: 'failed', exit_code: exitCodeFor(prepared.issues), issues: prepared.issues };
  const { bundle } = prepared;
  const { declaration } = bundle.loaded;
  if (!bundle.migrationsRoot || !bundle.entry) {
    return {
      status: 'failed',
      exit_code: ExitCode.InvalidInput,
      issues: [
        {
          code: 'REGISTRY_MISMATCH',
          file: bundle.loaded.bundleDir,
          message: `${declaration.migration_id} is not registered: approvals live in the registry of a migrations root`,
        },
      ],
    };
  }
  const required = declaration.approvals.required_reviewers ?? [];
  if (required.length && !required.includes(input.reviewer)) {
    return {
      status: 'failed',
      exit_code: ExitCode.InvalidInput,
      issues: [
        {
          code: 'ARGUMENT_INVALID',
          message: `${input.reviewer} is not one of the required reviewers`,
          expected: required.join(', '),
          found: input.reviewer,
        },
      ],
    };
  }
  const at = input.now.toISOString();
  const updated = await updateRegistry(bundle.migrationsRoot, (registry) => {
    const entry = registry.migrations.find((m) => m.migration_id === declaration.migration_id);
    if (!entry) return undefined;
    entry.approvals = [
      ...(entry.approvals ?? []),
      { reviewer: input.reviewer, ref: input.ref, at, bundle_digest: bundle.bundleDigest },
    ];
    const { current, missing } = approvalsFor(entry, declaration, bundle.bundleDigest);
    if (missing.length === 0 && entry.status === 'draft') {
      entry.history.push({
        status: 'approved',
        at,
        bundle_digest: bundle.bundleDigest,
        ref: input.ref,
        note: `approved by ${[...new Set(current.map((a) => a.reviewer))].join(', ')}`,
      });
      entry.status = 'approved';
    }
    return { entry, current, missing };
  });
  if (!updated.ok) return { status: 'failed', exit_code: exitCodeFor(updated.issues), issues: updated.issues };
  const value = updated.value;
  if (!value)
    return {
      status: 'failed',
      exit_code: ExitCode.InvalidInput,
      issues: [{ code: 'REGISTRY_MISMATCH', message: `${declaration.migration_id} vanished from the registry` }],
    };
  return {
    status: 'passed',
    exit_code: ExitCode.Passed,
    issues: [],
    migration_id: declaration.migration_id,
    bundle_digest: bundle.bundleDigest,
    registry_status: value.entry.status,
    approvals: value.current,
    missing: value.missing,
  };
}

const MARKS = ['merged', 'superseded'] as const;

export async function markBundle(
  target: string,
  input: { status: string; by?: string; ref?: string; now: Date },
): Promise<ApprovalResult> {
  if (!(MARKS as readonly string[]).includes(input.status))
    return {
      status: 'failed',
      exit_code: ExitCode.InvalidInput,
      issues: [
        {
          code: 'ARGUMENT_INVALID',
          message: 'mark records merged or superseded',
          expected: MARKS.join(', '),
          found: input.status,
        },
      ],
    };
  const prepared = await prepareBundle(target);
  if (!prepared.ok) return { status: 'failed', exit_code: exitCodeFor(prepared.issues), issues: prepared.issues };
  const { bundle } = prepared;
  const id = bundle.loaded.declaration.migration_id;
  if (!bundle.migrationsRoot || !bundle.entry)
    return {
      status: 'failed',
      exit_code: ExitCode.InvalidInput,
      issues: [{ code: 'REGISTRY_MISMATCH', message: `${id} is not registered` }],
    };
  const status = input.status as RegistryStatus;
  const updated = await updateRegistry(bundle.migrationsRoot, (registry) => {
    const entry = registry.migrations.find((m) => m.migration_id === id);
    if (!entry) return { issue: `${id} is not registered` };
    if (status === 'merged' && entry.status === 'draft') return { issue: 'a draft cannot be merged: approve it first' };
    if (status === 'superseded') {
      if (!input.by || !registry.migrations.some((m) => m.migration_id === input.by && m.migration_id !== id))
        return { issue: 'superseded needs --by ID of another registered migration' };
      entry.superseded_by = input.by;
    }
    entry.history.push({
      status,
      at: input.now.toISOString(),
      bundle_digest: bundle.bundleDigest,
      ...(input.ref ? { ref: input.ref } : {}),
      ...(input.by ? { note: `superseded by ${input.by}` } : {}),
    });
    entry.status = status;
    return { entry };
  });
  if (!updated.ok) return { status: 'failed', exit_code: exitCodeFor(updated.issues), issues: updated.issues };
  if ('issue' in updated.value)
    return {
      status: 'failed',
      exit_code: ExitCode.InvalidInput,
      issues: [{ code: 'ARGUMENT_INVALID', message: updated.value.issue as string }],
    };
  return {
    status: 'passed',
    exit_code: ExitCode.Passed,
    issues: [],
    migration_id: id,
    bundle_digest: bundle.bundleDigest,
    registry_status: status,
  };
}
