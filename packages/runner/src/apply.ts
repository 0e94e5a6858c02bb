// The governed apply: after the shared skeleton (bundle, lease, policy, gates, ledger), refuse what the
// ledger says must not run, preflight, capture PRE, mark a non-transactional run `started`, apply with the
// scope check at the adapter's commit point, and end in COMMIT, or at PRE (proven by a new baseline), or in
// the rollback script verified against PRE.
import { evaluate, renderTouchedCsv, temporalDiff, type TemporalDiff } from '@kfm/diff';
import type { ApplyResult, Baseline, Issue, Observation, ProgressAmount } from '@kfm/migration-contracts';
import { durationMs } from '@kfm/adapter-kit';
import { scanAtCommit, scanPre } from './evidence.js';
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

export async function applyBundle(options: RunOptions): Promise<RunResult> {
  return (await applyRun(options)).result;
}

/** The apply with its evidence (for rehearse). */
export function applyRun(options: RunOptions): Promise<LifecycleOutcome> {
  return runLifecycle({
    command: 'apply',
    operation: 'apply',
    options,
    lock: true,
    latest: true,
    signs: true,
    gated: true,
    registry: { on: 'committed', status: `executed_${options.environment}` },
    body: applyBody,
  });
}

/** A structural diff worth writing: only stores whose baselines carry per-label counts or histograms. */
function temporalOf(pre: Baseline, post: Baseline): TemporalDiff | undefined {
  const temporal = temporalDiff(pre, post);
  return Object.values(temporal).some((section) => Object.keys(section).length > 0) ? temporal : undefined;
}

/** The ledger decides whether this bundle may run at all. */
function ledgerGate(run: LiveRun): boolean {
  const { ledger, evidence, bundle, declaration } = run;
  const bundlePath = bundle.registryPath ?? bundle.loaded.bundleDir;
  const refuse = (code: string, message: string, extra = {}) => {
    evidence.checks.push(failCheck('ledger', 'ledger', code, message, extra));
    return false;
  };
  switch (ledger.state) {
    case 'applied':
      return ledger.bundle_digest !== bundle.bundleDigest
        ? refuse(
            'LEDGER_DRIFT',
            `the bundle changed after it was applied: applied ${ledger.bundle_digest ?? 'unknown'}, now ${bundle.bundleDigest}`,
            { declared: bundle.bundleDigest, observed: ledger.bundle_digest },
          )
        : refuse('LEDGER_ALREADY_APPLIED', `already applied by ${ledger.run_id ?? 'an earlier run'}`);
    case 'started':
      // `apply --resume`: the same bundle, interrupted after a recorded batch, continues from there.
      if (run.options.resume && ledger.resume && ledger.bundle_digest === bundle.bundleDigest) {
        evidence.checks.push({
          name: 'ledger',
          rule: 'ledger',
          status: 'pass',
          message: `resuming run ${ledger.run_id ?? '?'} from ${JSON.stringify(ledger.resume)}`,
        });
        return true;
      }
      return refuse(
        'INCOMPLETE_RUN',
        `run ${ledger.run_id ?? '?'} started ${declaration.migration_id} without transaction and never finished; run \`kfm-migrate rollback ${bundlePath}\`: it runs the rollback script, verifies the store against the recorded PRE and clears the mark`,
      );
    case 'rollback_failed':
      return refuse(
        'ROLLBACK_PENDING',
        `the last rollback of ${declaration.migration_id} (run ${ledger.run_id ?? '?'}) failed; fix the rollback script and run \`kfm-migrate rollback ${bundlePath}\` until it restores PRE, then apply again`,
      );
    default:
      evidence.checks.push({
        name: 'ledger',
        rule: 'ledger',
        status: 'pass',
        message: ledger.state === 'rolled_back' ? 'previously rolled back; applying again' : 'not applied yet',
      });
      return true;
  }
}

async function applyBody(run: LiveRun): Promise<Step> {
  const { session, declaration, bundle, evidence, options, result } = run;
  const { reporter } = options;
  if (!ledgerGate(run)) return { issues: [], status: 'aborted' };

  const preflight = await reporter.step('preflight', () =>
    session.preflight(bundle.forward, declaration, {
      protected: run.protected,
      allowedRules: run.allowed.rules,
      ...(run.policy.lint ? { lint: run.policy.lint } : {}),
    }),
  );
  evidence.checks.push(...preflight.checks);
  const rollbackChecks = await reporter.step('preflight the rollback script', () => rollbackScopeChecks(run));
  evidence.checks.push(...rollbackChecks);
  if (preflight.lint?.length) evidence.details.lint = preflight.lint;
  reporter.info(
    `${preflight.statements.length} statement(s); predicted touches ${JSON.stringify(preflight.predicted)}`,
  );
  if (rollbackChecks.length > 0 || preflight.checks.some((check) => check.status === 'fail'))
    return { issues: [], status: 'aborted' };

  const baselineOptions = {
    declaration,
    protected: run.protected,
    // A store that scopes its baseline's detail looks as closely at what the scripts will touch.
    predicted: preflight.predicted,
    ...(options.full ? { full: true } : {}),
    progress: (m: string, a?: ProgressAmount) => reporter.info(m, a),
  };
  const pre = await reporter.step('capture PRE baseline', () =>
    session.captureBaseline({ ...baselineOptions, capturedAt: evidence.startedAt }),
  );
  evidence.pre = pre;
  // Scanned now, before the forward script takes any lock: the commit point then scans only what changed.
  const preFindings = await scanPre(pre);
  const transactional = declaration.transactional !== false;
  const resuming = Boolean(run.options.resume && run.ledger.state === 'started' && run.ledger.resume);
  const ledgerEntry = { migration_id: declaration.migration_id, bundle_digest: bundle.bundleDigest, run_id: run.runId };
  if (!transactional) {
    // Nothing of a non-transactional run can be taken back by the server: mark it before its first statement.
    // A resumed run keeps the first run's PRE: that is what a rollback must restore.
    await reporter.step('mark the run started in the ledger', () =>
      session.recordLedger({
        ...ledgerEntry,
        status: 'started',
        pre_fingerprint: resuming ? (run.ledger.pre_fingerprint ?? pre.fingerprints.schema) : pre.fingerprints.schema,
        ...(resuming && run.ledger.resume ? { resume: run.ledger.resume } : {}),
      }),
    );
  }

  const decide = async ({ post, metrics, data }: Observation): Promise<boolean> => {
    const summary = evaluate(
      declaration,
      { pre, post, metrics, ...(data ? { data } : {}), protected: run.protected },
      bundle.adapter.vocabulary,
    );
    evidence.post = post;
    evidence.summary = summary;
    evidence.touchedCsv = renderTouchedCsv(summary);
    const temporal = temporalOf(pre, post);
    if (temporal) evidence.temporal = temporal;
    const scan = await scanAtCommit(evidence, preFindings);
    summary.checks.push(...scan);
    if (scan.length) summary.status = 'fail';
    reporter.info(
      `diff: ${summary.changes.length} change(s), ${data?.length ?? 0} object(s) with data changes; ${summary.checks.filter((c) => c.status === 'fail').length} failing check(s)`,
    );
    return summary.status === 'pass';
  };
  // Lock-timeout retries are on by default (5 attempts, 60 s of waiting in all); the policy tunes them.
  const retries = {
    attempts: run.policy.retries?.attempts ?? 5,
    maxWaitMs: (run.policy.retries?.max_wait ? durationMs(run.policy.retries.max_wait) : undefined) ?? 60_000,
  };
  const applied: ApplyResult = await reporter.step('apply forward', () =>
    session.apply({
      declaration,
      scripts: bundle.forward,
      transactional,
      baseline: { ...baselineOptions, capturedAt: options.now().toISOString() },
      // The PRE a rollback must restore travels with the applied row too (a bundle copied without its evidence).
      ledger: {
        ...ledgerEntry,
        status: 'applied',
        pre_fingerprint: resuming ? (run.ledger.pre_fingerprint ?? pre.fingerprints.schema) : pre.fingerprints.schema,
      },
      decide,
      progress: (m, a) => reporter.info(m, a),
      ...(run.lost ? { signal: run.lost } : {}),
      retries,
      ...(resuming && run.ledger.resume ? { resume: run.ledger.resume } : {}),
    }),
  );
  result.metrics = applied.metrics;
  evidence.details.metrics = { ...evidence.details.metrics, ...applied.metrics };
  if (applied.statements) evidence.details.statements = applied.statements;
  if (applied.attempts) evidence.details.attempts = applied.attempts;
  if (applied.data?.length) evidence.details.data_changes = applied.data;
  if (evidence.summary) {
    evidence.checks.push(...evidence.summary.checks);
    result.touched = Object.fromEntries(
      Object.entries(evidence.summary.touched).map(([dimension, names]) => [dimension, names ?? []]),
    );
  }
  if (applied.status === 'committed') return { issues: [], status: 'committed' };

  const issues: Issue[] = applied.failure ? [applied.failure] : [];
  if (applied.atPre) {
    // The adapter says nothing is left (transaction rolled back, shadow dropped): prove it.
    const now = await reporter.step('verify store is at PRE', () =>
      session.captureBaseline({ ...baselineOptions, capturedAt: options.now().toISOString() }),
    );
    evidence.afterRollback = now;
    const restored = verifyRestored(pre, now);
    evidence.checks.push(restored);
    if (!transactional)
      await session.recordLedger({
        ...ledgerEntry,
        status: restored.status === 'pass' ? 'rolled_back' : 'rollback_failed',
        pre_fingerprint: pre.fingerprints.schema,
      });
    if (restored.status === 'fail')
      issues.push({ code: 'ROLLBACK_UNVERIFIED', message: restored.message ?? 'store not at PRE' });
    return { issues, status: applied.status === 'failed' ? 'failed' : 'aborted' };
  }
  // Visible change refused or failed: the rollback script is the safety net, verified against PRE.
  const rolled = await reporter.step('run rollback', () =>
    session.runRollback(bundle.rollback, declaration, (m, a) => reporter.info(m, a)),
  );
  const after = rolled.ok
    ? await reporter.step('verify rollback restored PRE', () =>
        session.captureBaseline({ ...baselineOptions, capturedAt: options.now().toISOString() }),
      )
    : undefined;
  if (after) evidence.afterRollback = after;
  const restored = after ? verifyRestored(pre, after) : undefined;
  if (restored) evidence.checks.push(restored);
  const ok = rolled.ok && restored?.status === 'pass';
  await session.recordLedger({
    ...ledgerEntry,
    status: ok ? 'rolled_back' : 'rollback_failed',
    pre_fingerprint: pre.fingerprints.schema,
  });
  if (!rolled.ok)
    return {
      issues: [...issues, rolled.failure ?? { code: 'ROLLBACK_FAILED', message: 'rollback failed' }],
      status: 'rollback_failed',
    };
  if (!ok)
    return {
      issues: [
        ...issues,
        { code: 'ROLLBACK_UNVERIFIED', message: restored?.message ?? 'fingerprint differs from PRE' },
      ],
      status: 'rollback_failed',
    };
  return { issues, status: 'rolled_back' };
}
