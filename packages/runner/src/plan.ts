// The dry run: the shared skeleton without a lease (nothing is changed), then preflight (names resolved
// as the store will, lint), the PRE baseline, and for an applied bundle the drift of what its apply
// touched. The plan goes to plan.json — bound, like all evidence, to its run's receipt.
import { writeArtifacts } from '@kfm/receipts';
import { ExitCode, type Plan } from '@kfm/migration-contracts';
import { driftFrom, latestApplied } from './drift.js';
import { rollbackScopeChecks, runLifecycle, type LiveRun, type Step } from './lifecycle.js';
import { governanceGates } from './registry-gates.js';
import type { RunOptions, RunResult } from './run-context.js';

export async function planBundle(options: RunOptions): Promise<RunResult & { plan?: Plan }> {
  const outcome = await runLifecycle({
    command: 'plan',
    operation: 'plan',
    options,
    lock: false,
    latest: false,
    signs: false,
    gated: false,
    body: planBody,
  });
  const plan = outcome.evidence?.plan;
  if (!plan || !outcome.result.run_id || !outcome.bundle) return outcome.result;
  // The reviewer's copy at the bundle root: the same canonical bytes as the run's own copy.
  const written = await writeArtifacts(outcome.bundle.loaded.bundleDir, [{ path: 'plan.json', content: plan }]);
  if (!written.ok)
    return {
      ...outcome.result,
      status: 'failed',
      exit_code: ExitCode.CheckFailed,
      issues: [...outcome.result.issues, ...written.issues],
    };
  return { ...outcome.result, artifacts: [...outcome.result.artifacts, 'plan.json'].sort(), plan };
}

async function planBody(run: LiveRun): Promise<Step> {
  const { session, declaration, bundle, evidence, options, result } = run;
  const { reporter } = options;
  // What apply would decide, reported, never enforced here: a plan is information.
  const gates = governanceGates({
    environment: options.environment,
    ...(options.approval ? { approval: options.approval } : {}),
    declaration,
    entry: bundle.entry,
    bundleDigest: bundle.bundleDigest,
    policy: run.policy,
  });
  const preflight = await reporter.step('preflight', () =>
    session.preflight(bundle.forward, declaration, {
      protected: run.protected,
      allowedRules: run.allowed.rules,
      ...(run.policy.lint ? { lint: run.policy.lint } : {}),
    }),
  );
  const pre = await reporter.step('capture PRE baseline', () =>
    session.captureBaseline({
      declaration,
      protected: run.protected,
      predicted: preflight.predicted,
      capturedAt: options.now().toISOString(),
      // A plan captures PRE only: nothing on this session would use the change detector's signatures.
      once: true,
      progress: (m, a) => reporter.info(m, a),
    }),
  );
  evidence.pre = pre;
  const checks = [...gates, ...preflight.checks, ...(await rollbackScopeChecks(run))];
  if (run.ledger.state === 'applied') {
    const applied = await latestApplied(bundle.loaded.bundleDir);
    if (applied?.post && applied.summary) {
      const drifted = driftFrom({ post: applied.post, summary: applied.summary }, pre);
      checks.push(
        drifted.length
          ? {
              name: 'drift',
              rule: 'rollback',
              status: 'fail',
              code: 'DRIFT_DETECTED',
              observed: drifted,
              message: `${drifted.length} object(s) the apply touched changed since its POST: a rollback would refuse`,
            }
          : { name: 'drift', rule: 'rollback', status: 'pass', message: 'no drift since the apply' },
      );
    }
  }
  if (preflight.lint?.length) evidence.details.lint = preflight.lint;
  const status = checks.some((check) => check.status === 'fail') ? 'fail' : 'pass';
  evidence.plan = {
    kfm_plan_version: 'v1',
    migration_id: declaration.migration_id,
    store: declaration.type,
    status,
    transactional: declaration.transactional !== false,
    pre: { fingerprints: pre.fingerprints, counts: pre.counts },
    statements: preflight.statements,
    predicted: { touched: preflight.predicted },
    ...(preflight.lint?.length ? { lint: preflight.lint } : {}),
    checks,
  };
  evidence.checks.push(...checks);
  result.touched = preflight.predicted;
  return { issues: [], status: 'planned' };
}
