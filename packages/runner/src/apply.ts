// The governed apply lifecycle, store-agnostic:
// load → gates → connect → lock → ledger → preflight → PRE → apply (decide at the commit point:
// diff, scope, limits, invariants, policy scan) → COMMIT or ABORT (+ rollback + verify) →
// artifacts + receipt → ledger + registry. Expected failures come back as values.
import { evaluate, renderTouchedCsv, temporalDiff } from '@kfm/diff';
import { ExitCode, loadDeclaration, type Baseline, type DiffSummary, type Issue, type LoadedDeclaration, type StoreSession } from '@kfm/migration-contracts';
import { adapterFor, registeredTypes } from './adapters.js';
import { forwardDigest, readScripts } from './bundle-scripts.js';
import { findMigrationsRoot } from './migrations-registry.js';
import { effectiveProtected, governanceGates, loadPolicy } from './policy.js';
import { concludeRun } from './conclude.js';
import { evidenceFiles, runIdentity, scanEvidence, type RunEvidence } from './run-artifacts.js';
import { resolveConnection, withLockedSession, type RunOptions, type RunResult } from './run-context.js';
import { verifyRestored } from './rollback.js';

export async function applyBundle(options: RunOptions): Promise<RunResult> {
  const { reporter } = options;
  const result: RunResult = { command: 'apply', status: 'failed', exit_code: ExitCode.InvalidInput, checks: [], issues: [], fingerprints: {}, touched: {}, metrics: {}, artifacts: [], timings: {} };
  const finish = () => ({ ...result, timings: reporter.timings() });

  const loaded = await reporter.step('load declaration', () => loadDeclaration(options.bundle));
  if (!loaded.ok) return { ...finish(), issues: loaded.issues, exit_code: ExitCode.InvalidInput };
  const { declaration } = loaded;
  const bundle: LoadedDeclaration = loaded;
  result.migration_id = declaration.migration_id;
  const adapter = adapterFor(declaration.type);
  if (!adapter) {
    return { ...finish(), issues: [{ code: 'ARGUMENT_INVALID', file: loaded.file, pointer: '/type', message: `no store adapter registered for type ${declaration.type}`, expected: `one of ${registeredTypes().join(', ')}`, found: declaration.type }] };
  }
  const migrationsRoot = await findMigrationsRoot(loaded.bundleDir);
  const policy = await loadPolicy(migrationsRoot);
  if (!policy.ok) return { ...finish(), issues: policy.issues };
  const protectedDomains = effectiveProtected(policy.policy, declaration);
  const forward = await readScripts(loaded, 'forward');
  const rollback = await readScripts(loaded, 'rollback');
  const digest = await forwardDigest(forward);
  const startedAt = options.now().toISOString();
  const evidence: RunEvidence = { operation: 'apply', store: declaration.type, startedAt, finishedAt: startedAt, forwardDigest: digest, checks: [], outcome: { status: 'failed', exit_code: 1 } };

  // Every execution past this point gets a receipt, pass or fail.
  const conclusion = { loaded, options, evidence, result, migrationsRoot, registry: { on: 'committed' as const, status: `executed_${options.environment}` as const } };
  const conclude = async (issues: Issue[], status: NonNullable<RunResult['outcome']>['status']): Promise<RunResult> => {
    const done = await concludeRun(conclusion, issues, status);
    Object.assign(result, done);
    return done;
  };

  evidence.checks.push(...governanceGates(declaration, options));
  if (evidence.checks.some((c) => c.status === 'fail')) return conclude([], 'aborted');

  const connection = resolveConnection(adapter, declaration, options.env);
  if (!connection.ok) return conclude(connection.issues, 'failed');
  return withLockedSession({ adapter, values: connection.values, owner: `kfm-migrate ${declaration.migration_id}`, reporter, checks: evidence.checks, conclude }, runLocked);

  async function runLocked(session: StoreSession): Promise<RunResult> {
    const ledger = await reporter.step('check ledger', () => session.ledgerState(declaration.migration_id));
    // Only a store that can record receipts keeps a chain; elsewhere the receipt stays unchained.
    if (session.recordReceipt) Object.assign(evidence, { previousReceipt: ledger.last_receipt_digest ?? null, receiptLedger: session });
    if (ledger.state === 'applied') {
      const drift = ledger.forward_digest !== digest;
      evidence.checks.push({
        name: 'ledger', rule: 'ledger', status: 'fail', code: drift ? 'LEDGER_DRIFT' : 'LEDGER_ALREADY_APPLIED',
        declared: digest, observed: ledger.forward_digest,
        message: drift ? `forward script changed after it was applied: applied ${ledger.forward_digest}, now ${digest}` : `already applied by ${ledger.run_id ?? 'an earlier run'}`,
      });
      return conclude([], 'aborted');
    }
    evidence.checks.push({ name: 'ledger', rule: 'ledger', status: 'pass', message: ledger.state === 'rolled_back' ? 'previously rolled back; applying again' : 'not applied yet' });

    const preflight = await reporter.step('preflight', () => session.preflight(forward, declaration, protectedDomains));
    evidence.checks.push(...preflight.checks);
    reporter.info(`${preflight.statements.length} statement(s); predicted touches ${JSON.stringify(preflight.predicted)}`);
    if (preflight.checks.some((c) => c.status === 'fail')) return conclude([], 'aborted');

    const baselineOptions = { declaration, protected: protectedDomains, capturedAt: startedAt };
    evidence.pre = await reporter.step('capture PRE baseline', () => session.captureBaseline(baselineOptions));
    let summary: DiffSummary | undefined;
    const runId = await runIdentity(bundle, options, evidence);
    const applied = await reporter.step('apply forward', () => session.apply({
      declaration, scripts: forward, transactional: declaration.transactional !== false, baseline: { ...baselineOptions, capturedAt: options.now().toISOString() },
      ledger: { migration_id: declaration.migration_id, forward_digest: digest, run_id: runId, status: 'applied' },
      progress: (m) => reporter.info(m),
      decide: async (post: Baseline, metrics: Record<string, number>) => {
        summary = evaluate(declaration, { pre: evidence.pre as Baseline, post, metrics, protected: protectedDomains });
        evidence.post = post;
        evidence.summary = summary;
        evidence.touchedCsv = renderTouchedCsv(summary);
        if (declaration.type === 'graph') evidence.temporal = temporalDiff(evidence.pre as Baseline, post);
        const scan = await scanEvidence(evidenceFiles(evidence));
        summary.checks.push(...scan);
        if (scan.length) summary.status = 'fail';
        reporter.info(`diff: ${summary.changes.length} change(s); ${summary.checks.filter((c) => c.status === 'fail').length} failing check(s)`);
        return summary.status === 'pass';
      },
    }));
    result.metrics = applied.metrics;
    if (summary) {
      evidence.checks.push(...summary.checks);
      result.touched = summary.touched;
    }
    if (applied.status === 'committed') return conclude([], 'committed');
    const issues: Issue[] = applied.failure ? [applied.failure] : [];
    if (applied.atPre) {
      // The store guarantees PRE (transaction rolled back / shadow dropped): prove it.
      const now = await reporter.step('verify store is at PRE', () => session.captureBaseline({ ...baselineOptions, capturedAt: options.now().toISOString() }));
      evidence.afterRollback = now;
      const restored = verifyRestored(evidence.pre, now);
      evidence.checks.push(restored);
      if (restored.status === 'fail') issues.push({ code: 'ROLLBACK_UNVERIFIED', message: restored.message ?? 'store not at PRE' });
      return conclude(issues, applied.status === 'failed' ? 'failed' : 'aborted');
    }
    // Non-transactional: the change is visible; the rollback script is the safety net.
    const rolled = await reporter.step('run rollback', () => session.runRollback(rollback, declaration, (m) => reporter.info(m)));
    if (!rolled.ok) return conclude([...issues, rolled.failure ?? { code: 'ROLLBACK_FAILED', message: 'rollback failed' }], 'rollback_failed');
    const after = await reporter.step('verify rollback restored PRE', () => session.captureBaseline({ ...baselineOptions, capturedAt: options.now().toISOString() }));
    evidence.afterRollback = after;
    const restored = verifyRestored(evidence.pre, after);
    evidence.checks.push(restored);
    if (restored.status === 'fail') return conclude([...issues, { code: 'ROLLBACK_UNVERIFIED', message: restored.message ?? 'fingerprint differs from PRE' }], 'rollback_failed');
    return conclude(issues, 'rolled_back');
  }
}

