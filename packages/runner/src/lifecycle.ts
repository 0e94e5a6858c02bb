// The one lifecycle skeleton every store command shares (apply, rollback, rehearse's stages, plan,
// policy push): prepare the bundle (no store touched) → connect → take the store's lease → combine the
// store's policy with the repository's → governance gates → read the ledger → the command's own body →
// conclude: write the evidence and the receipt (built once), record the receipt in the store ledger (the
// chain's head, while the lease is still held), append the registry status → release the lease → close.
// Expected failures come back as values; every run that got past preparation gets a receipt.
import {
  ExitCode,
  exitCodeFor,
  type Check,
  type Issue,
  type LedgerState,
  type MigrationDeclaration,
  type Policy,
  type ProtectedDomains,
  type StoreSession,
} from '@kfm/migration-contracts';
import { mergeProtected } from '@kfm/diff';
import { cidOfJson } from '@kfm/receipts';
import { prepareBundle, type PreparedBundle } from './bundle.js';
import { resolveConnection } from './connection.js';
import { runIdentity, writeRun, type Operation, type RunEvidence } from './evidence.js';
import { appendStatus, type RegistryStatus } from './migrations-registry.js';
import { allowedRules, combinePolicies, timeoutIssues } from './policy.js';
import { governanceGates } from './registry-gates.js';
import { DEFAULT_LOCK_TTL_MS, emptyResult, faultIssue, type RunOptions, type RunResult } from './run-context.js';

export type OutcomeStatus = NonNullable<RunResult['outcome']>['status'];

/** What a command's body hands back: issues (faults, input problems) and the outcome it reached. */
export interface Step {
  issues: Issue[];
  status: OutcomeStatus;
}

/** A run in progress: the prepared bundle, the live session (never stored in the evidence), the policy in force. */
export interface LiveRun {
  bundle: PreparedBundle;
  declaration: MigrationDeclaration;
  options: RunOptions;
  evidence: RunEvidence;
  result: RunResult;
  session: StoreSession;
  runId: string;
  /** The combined repository + store policy. */
  policy: Policy;
  /** Effective protected domains: store policy + repository policy + declaration. */
  protected: ProtectedDomains;
  /** Rules the policy allows for this bundle, with their approval references. */
  allowed: { rules: string[]; refs: string[] };
  ledger: LedgerState;
  /** Aborted when the store lease is lost; passed to apply so nothing commits without the lease. */
  lost?: AbortSignal;
}

export interface LifecycleSpec {
  command: RunResult['command'];
  operation: Operation;
  options: RunOptions;
  /** The command runs the bundle's rollback script. */
  requireRollback?: boolean;
  /** Take the store's lease (every command that may change the store). */
  lock: boolean;
  /** Refresh the reviewer-facing evidence paths with this run's copies. */
  latest: boolean;
  /** The command writes to the store: it needs a signing key when the policy requires signatures. */
  signs: boolean;
  /** Environment gates (approvals bound to the bundle digest) apply. */
  gated: boolean;
  /** The registry status to append when the run ends in `on`. */
  registry?: { on: OutcomeStatus; status: RegistryStatus };
  body(run: LiveRun): Promise<Step>;
}

export interface LifecycleOutcome {
  result: RunResult;
  /** The run's evidence, for callers that build on it (rehearse): never read back from disk. */
  evidence?: RunEvidence;
  bundle?: PreparedBundle;
}

export async function runLifecycle(spec: LifecycleSpec): Promise<LifecycleOutcome> {
  const { options } = spec;
  const { reporter } = options;
  const result = emptyResult(spec.command);
  const prepared = await reporter.step('load bundle', () =>
    prepareBundle(options.bundle, { requireRollback: spec.requireRollback ?? false }),
  );
  if (!prepared.ok)
    return {
      result: {
        ...result,
        issues: prepared.issues,
        exit_code: exitCodeFor(prepared.issues),
        timings: reporter.timings(),
      },
    };
  const bundle = prepared.bundle;
  const { declaration } = bundle.loaded;
  result.migration_id = declaration.migration_id;
  const repositoryPolicy = bundle.repositoryPolicy?.policy;
  if (spec.signs && repositoryPolicy?.require_signatures && !options.signingKey) {
    const issue: Issue = {
      code: 'POLICY_SIGNATURE_REQUIRED',
      file: bundle.repositoryPolicy?.file,
      pointer: '/require_signatures',
      message: 'the repository policy requires signed receipts: pass --sign-key or --sign-key-env',
      expected: 'a signing key',
    };
    return {
      result: { ...result, issues: [issue], exit_code: ExitCode.InvalidInput, timings: reporter.timings() },
      bundle,
    };
  }

  const startedAt = options.now().toISOString();
  const evidence: RunEvidence = {
    operation: spec.operation,
    store: declaration.type,
    startedAt,
    finishedAt: startedAt,
    checks: [],
    outcome: { status: 'failed', exit_code: 1 },
    details: {},
  };
  const runId = runIdentity(bundle, options, evidence);
  let session: StoreSession | undefined;
  let locked = false;

  const conclude = async (issues: Issue[], status: OutcomeStatus): Promise<LifecycleOutcome> => {
    const done = await reporter.step('write evidence and receipt', () =>
      concludeRun({ spec, bundle, evidence, result, session: locked ? session : undefined, issues, status }),
    );
    return { result: done, evidence, bundle };
  };

  try {
    const connection = resolveConnection(bundle.adapter, declaration, options.env);
    if (!connection.ok) return await conclude(connection.issues, 'failed');
    try {
      session = await reporter.step(`connect ${declaration.type}`, () =>
        bundle.adapter.connect(connection.values, {
          applicationName: `kfm-migrate ${spec.operation} ${declaration.migration_id}`,
          progress: (m, a) => reporter.info(m, a),
        }),
      );
    } catch (error) {
      return await conclude([faultIssue(error)], 'failed');
    }
    evidence.details.metrics = {};
    let lost: AbortSignal | undefined;
    if (spec.lock) {
      const lock = await reporter.step('acquire store lease', () =>
        (session as StoreSession).lock({
          owner: `kfm-migrate ${spec.operation} ${declaration.migration_id}`,
          run_id: runId,
          ttlMs: options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS,
          waitMs: options.lockWaitMs ?? 0,
        }),
      );
      if (!lock.acquired) {
        evidence.checks.push({
          name: 'store_lock',
          rule: 'policy',
          status: 'fail',
          code: 'LOCK_HELD',
          observed: lock.holder,
          message: `another run holds the store lock: ${lock.holder.description}${lock.waited_ms ? ` (waited ${lock.waited_ms} ms)` : ''}`,
        });
        return await conclude([], 'aborted');
      }
      locked = true;
      lost = lock.lost;
      evidence.details.lock = { waited_ms: lock.waited_ms, ...(lock.takeover ? { takeover: lock.takeover } : {}) };
      if (lock.takeover)
        reporter.info(
          `took over the expired lease of ${lock.takeover.previous_owner} (run ${lock.takeover.previous_run ?? '?'}); cleaned: ${lock.takeover.cleaned.join(', ') || 'nothing'}`,
        );
    }

    const storePolicy = await reporter.step('read store policy', () => (session as StoreSession).readPolicy());
    const policy = combinePolicies([
      ...(repositoryPolicy ? [repositoryPolicy] : []),
      ...(storePolicy ? [storePolicy.policy] : []),
    ]);
    evidence.details.policies = {
      ...(bundle.repositoryPolicy ? { repository: bundle.repositoryPolicy.digest } : {}),
      ...(storePolicy ? { store: storePolicy.digest } : {}),
      effective: await cidOfJson(policy),
    };
    const policyIssues = [...timeoutIssues(declaration, policy, bundle.loaded.file, bundle.loaded.locate)];
    if (spec.signs && policy.require_signatures && !options.signingKey)
      policyIssues.push({
        code: 'POLICY_SIGNATURE_REQUIRED',
        pointer: '/require_signatures',
        message: "the store's policy requires signed receipts: pass --sign-key or --sign-key-env",
        expected: 'a signing key',
      });
    if (policyIssues.length) return await conclude(policyIssues, 'aborted');

    if (spec.gated) {
      evidence.checks.push(
        ...governanceGates({
          environment: options.environment,
          ...(options.approval ? { approval: options.approval } : {}),
          declaration,
          entry: bundle.entry,
          bundleDigest: bundle.bundleDigest,
          policy,
        }),
      );
      if (evidence.checks.some((check) => check.status === 'fail')) return await conclude([], 'aborted');
    }

    const ledger = await reporter.step('read ledger', () =>
      (session as StoreSession).ledgerState(declaration.migration_id),
    );
    // Only a run holding the lease records its receipt: only it may name the chain's head.
    if (locked) evidence.previousReceipt = ledger.last_receipt_digest ?? null;
    const run: LiveRun = {
      bundle,
      declaration,
      options,
      evidence,
      result,
      session,
      runId,
      policy,
      ledger,
      protected: mergeProtected(policy.protected, declaration.protected),
      allowed: allowedRules(policy, declaration.migration_id),
      ...(lost ? { lost } : {}),
    };
    const step = await spec.body(run);
    return await conclude(step.issues, step.status);
  } catch (error) {
    return await conclude([faultIssue(error)], 'failed');
  } finally {
    if (locked) await session?.unlock().catch(() => undefined);
    await session?.close().catch(() => undefined);
  }
}

interface Conclusion {
  spec: LifecycleSpec;
  bundle: PreparedBundle;
  evidence: RunEvidence;
  result: RunResult;
  /** The session holding the lease, to record the receipt in the store's chain. */
  session: StoreSession | undefined;
  issues: Issue[];
  status: OutcomeStatus;
}

/** Decides the exit code, writes evidence and receipt, records the chain head and the registry status. */
async function concludeRun(c: Conclusion): Promise<RunResult> {
  const { evidence, result, spec, bundle } = c;
  const { options } = spec;
  const failedCheck = evidence.checks.find((check) => check.status === 'fail');
  const exit = c.issues.length ? exitCodeFor(c.issues) : failedCheck ? ExitCode.CheckFailed : ExitCode.Passed;
  const first = c.issues[0] ?? failedCheck;
  evidence.finishedAt = options.now().toISOString();
  evidence.outcome = {
    status: c.status,
    exit_code: exit,
    ...(first?.code ? { code: first.code } : {}),
    ...(first?.message ? { message: first.message } : {}),
  };
  const written = await writeRun(bundle, options, evidence, { dir: bundle.loaded.bundleDir, latest: spec.latest });
  const recorded: Issue[] = [];
  if (written.ok && c.session && evidence.previousReceipt !== undefined) {
    try {
      await c.session.recordReceipt({
        migration_id: bundle.loaded.declaration.migration_id,
        run_id: written.run.runId,
        bundle_digest: bundle.bundleDigest,
        receipt_digest: written.run.receiptDigest,
      });
    } catch (error) {
      const issue = faultIssue(error);
      recorded.push({
        ...issue,
        message: `the receipt was written but could not be recorded in the store ledger (the receipt chain misses this link): ${issue.message}`,
      });
    }
  }
  const issues = written.ok ? [...c.issues, ...recorded] : [...c.issues, ...written.issues];
  const finalExit =
    written.ok && recorded.length === 0 ? exit : (Math.max(exitCodeFor(issues), ExitCode.CheckFailed) as ExitCode);
  if (written.ok && spec.registry && c.status === spec.registry.on && bundle.migrationsRoot) {
    await appendStatus(bundle.migrationsRoot, bundle.loaded.declaration.migration_id, spec.registry.status, {
      at: evidence.finishedAt,
      run_id: written.run.runId,
      environment: options.environment,
      bundle_digest: bundle.bundleDigest,
    });
  }
  return {
    ...result,
    status: finalExit === ExitCode.Passed ? 'passed' : 'failed',
    exit_code: finalExit,
    outcome: evidence.outcome,
    checks: evidence.checks,
    issues,
    ...(written.ok ? { run_id: written.run.runId, artifacts: written.run.paths } : {}),
    fingerprints: {
      ...(evidence.pre ? { pre: evidence.pre.fingerprints.schema } : {}),
      ...(evidence.post ? { post: evidence.post.fingerprints.schema } : {}),
      ...(evidence.afterRollback ? { after_rollback: evidence.afterRollback.fingerprints.schema } : {}),
    },
    timings: options.reporter.timings(),
  };
}

/** A failing check the body adds, for brevity. */
export function failCheck(
  name: string,
  rule: Check['rule'],
  code: string,
  message: string,
  extra: Partial<Check> = {},
): Check {
  return { name, rule, status: 'fail', code, message, ...extra };
}

/**
 * The rollback script is held to the forward script's scope: it runs when a change went wrong, often
 * without a commit point, and what it writes outside the scope no comparison with PRE would see. Checked
 * before anything runs, with the same preflight: forbidden or protected names, writes outside allowed_*,
 * and writes it cannot attribute (escapes). Rules only a forward script must follow (lint, the commit
 * order of a transactional run) are not its concern.
 */
export async function rollbackScopeChecks(run: LiveRun): Promise<Check[]> {
  if (run.bundle.rollback.length === 0) return [];
  // A rollback runs with nothing observing it (no commit point): held to the rules of a run without one,
  // so a DO block or an opaque call there is refused as it would be in a non-transactional forward run.
  const result = await run.session.preflight(
    run.bundle.rollback,
    { ...run.declaration, transactional: false },
    {
      protected: run.protected,
      allowedRules: run.allowed.rules,
    },
  );
  const failed = result.checks.filter(
    (check) => check.status === 'fail' && (check.code === 'PREFLIGHT_FORBIDDEN' || check.code === 'PREFLIGHT_PARSE'),
  );
  return failed.map((check) => ({
    ...check,
    name: `rollback:${check.name}`,
    message: `rollback script: ${check.message ?? ''}`,
  }));
}
