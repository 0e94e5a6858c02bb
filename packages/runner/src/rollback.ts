// The rollback command: after the shared skeleton, the ledger must say the bundle is applied, started (a
// crashed non-transactional run) or rollback_failed (a fix is being retried). The drift gate runs first:
// the objects the apply touched must still be as its POST recorded, else nothing is changed (DRIFT) unless
// --accept-drift --approval REF says otherwise (recorded in the receipt). Then the rollback script, a new
// baseline and the comparison with PRE; the ledger records rolled_back or rollback_failed.
import type { Baseline, Issue, ProgressAmount } from '@kfm/migration-contracts';
import { driftFrom, latestApplied } from './drift.js';
import {
  failCheck,
  rollbackScopeChecks,
  runLifecycle,
  type LifecycleOutcome,
  type LiveRun,
  type Step,
} from './lifecycle.js';
import { verifyRestored } from './restore.js';
import type { RunOptions, RunResult } from './run-context.js';

export async function rollbackBundle(options: RunOptions): Promise<RunResult> {
  return (await rollbackRun(options)).result;
}

export function rollbackRun(options: RunOptions): Promise<LifecycleOutcome> {
  return runLifecycle({
    command: 'rollback',
    operation: 'rollback',
    options,
    requireRollback: true,
    lock: true,
    latest: true,
    signs: true,
    gated: false,
    registry: { on: 'rolled_back', status: 'rolled_back' },
    body: rollbackBody,
  });
}

async function rollbackBody(run: LiveRun): Promise<Step> {
  const { session, declaration, bundle, evidence, options, ledger } = run;
  const { reporter } = options;
  if (ledger.state !== 'applied' && ledger.state !== 'started' && ledger.state !== 'rollback_failed') {
    evidence.checks.push(
      failCheck(
        'ledger',
        'ledger',
        'LEDGER_NOT_APPLIED',
        `${declaration.migration_id} is not applied to this store (${ledger.state})`,
      ),
    );
    return { issues: [], status: 'aborted' };
  }
  evidence.checks.push({
    name: 'ledger',
    rule: 'ledger',
    status: 'pass',
    message: `ledger state ${ledger.state} (run ${ledger.run_id ?? '?'})`,
  });
  // The rollback runs unobserved: the same preflight as at apply, before anything runs (a bundle applied
  // by an older release was never checked this way).
  const refusals = await reporter.step('preflight the rollback script', () => rollbackScopeChecks(run));
  if (refusals.length > 0) {
    evidence.checks.push(...refusals);
    return { issues: [], status: 'aborted' };
  }
  const applied = await latestApplied(bundle.loaded.bundleDir);
  const baselineOptions = {
    declaration,
    protected: run.protected,
    ...(options.full ? { full: true } : {}),
    progress: (m: string, a?: ProgressAmount) => reporter.info(m, a),
  };
  // Each capture at the detail of the applied baseline it is compared with: POST before, PRE after.
  const like = (baseline: Baseline | undefined) => (baseline ? { like: baseline } : {});
  const before = await reporter.step('capture baseline before rollback', () =>
    session.captureBaseline({
      ...baselineOptions,
      ...like(applied?.post ?? applied?.pre),
      capturedAt: options.now().toISOString(),
    }),
  );
  evidence.post = before;
  // PRE: the committed apply's baseline; for a crashed non-transactional run, the fingerprint it recorded.
  const pre: Baseline | { fingerprints: { schema: string } } | undefined =
    applied?.pre ?? (ledger.pre_fingerprint ? { fingerprints: { schema: ledger.pre_fingerprint } } : undefined);
  if (applied?.pre) evidence.pre = applied.pre;

  if (ledger.state === 'applied' && applied?.post && applied.summary) {
    const drifted = driftFrom({ post: applied.post, summary: applied.summary }, before);
    if (drifted.length > 0) {
      const listed = drifted
        .slice(0, 10)
        .map((d) => `${d.kind} ${d.name} (POST ${d.expected ?? 'absent'}, now ${d.found ?? 'absent'})`)
        .join('; ');
      if (!options.acceptDrift) {
        evidence.checks.push(
          failCheck(
            'drift',
            'rollback',
            'DRIFT_DETECTED',
            `${drifted.length} object(s) the apply touched changed since its POST: ${listed}${drifted.length > 10 ? ' …' : ''}; nothing was changed. Investigate, or re-run with --accept-drift --approval REF`,
            { observed: drifted },
          ),
        );
        evidence.details.drift = { accepted: false, objects: drifted };
        return { issues: [], status: 'aborted' };
      }
      if (!options.approval)
        return {
          issues: [
            { code: 'ARGUMENT_INVALID', message: '--accept-drift needs --approval REF naming who accepted the drift' },
          ],
          status: 'aborted',
        };
      evidence.details.drift = { accepted: true, approval_ref: options.approval, objects: drifted };
      evidence.checks.push({
        name: 'drift',
        rule: 'rollback',
        status: 'pass',
        observed: drifted,
        message: `${drifted.length} drifted object(s) accepted under ${options.approval}: ${listed}`,
      });
    } else
      evidence.checks.push({
        name: 'drift',
        rule: 'rollback',
        status: 'pass',
        message: 'every object the apply touched is as its POST recorded',
      });
  }

  const entry = {
    migration_id: declaration.migration_id,
    bundle_digest: bundle.bundleDigest,
    run_id: run.runId,
    ...(pre ? { pre_fingerprint: pre.fingerprints.schema } : {}),
  };
  const rolled = await reporter.step('run rollback', () =>
    session.runRollback(bundle.rollback, declaration, (m, a) => reporter.info(m, a)),
  );
  if (rolled.statements) evidence.details.statements = rolled.statements;
  if (!rolled.ok) {
    await session.recordLedger({ ...entry, status: 'rollback_failed' });
    return {
      issues: [rolled.failure ?? { code: 'ROLLBACK_FAILED', message: 'rollback failed' }],
      status: 'rollback_failed',
    };
  }
  const after = await reporter.step('capture baseline after rollback', () =>
    session.captureBaseline({
      ...baselineOptions,
      ...like(applied?.pre ?? applied?.post),
      capturedAt: options.now().toISOString(),
    }),
  );
  evidence.afterRollback = after;
  if (!pre) {
    evidence.checks.push(
      failCheck(
        'rollback_restored_pre',
        'rollback',
        'ROLLBACK_UNVERIFIED',
        'no PRE baseline of a committed apply in this bundle, and no PRE fingerprint in the ledger, to verify against',
      ),
    );
    await session.recordLedger({ ...entry, status: 'rollback_failed' });
    return {
      issues: [{ code: 'ROLLBACK_UNVERIFIED', message: 'no PRE to verify against' }],
      status: 'rollback_failed',
    };
  }
  const restored = verifyRestored(pre, after);
  evidence.checks.push(restored);
  if (restored.status === 'fail') {
    await session.recordLedger({ ...entry, status: 'rollback_failed' });
    const issue: Issue = { code: 'ROLLBACK_UNVERIFIED', message: restored.message ?? 'fingerprint differs' };
    return { issues: [issue], status: 'rollback_failed' };
  }
  await session.recordLedger({ ...entry, status: 'rolled_back' });
  return { issues: [], status: 'rolled_back' };
}
