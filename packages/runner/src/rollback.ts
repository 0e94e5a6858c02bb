// The rollback command and rollback verification: run the rollback script, capture a baseline and
// compare its schema fingerprint with the PRE baseline of the applied run. A mismatch is exit 4.
import fs from 'node:fs/promises';
import path from 'node:path';
import { ExitCode, loadArtifact, loadDeclaration, type Baseline, type Check, type Issue, type RunReceipt } from '@kfm/migration-contracts';
import { adapterFor } from './adapters.js';
import { forwardDigest, readScripts } from './bundle-scripts.js';
import { findMigrationsRoot } from './migrations-registry.js';
import { effectiveProtected, loadPolicy } from './policy.js';
import { concludeRun } from './conclude.js';
import { runIdentity, type RunEvidence } from './run-artifacts.js';
import { resolveConnection, withLockedSession, type RunOptions, type RunResult } from './run-context.js';

/** Compares the schema (and protected) fingerprints of two baselines. */
export function verifyRestored(pre: Baseline, after: Baseline): Check {
  const same = pre.fingerprints.schema === after.fingerprints.schema && (pre.fingerprints.protected ?? null) === (after.fingerprints.protected ?? null);
  return {
    name: 'rollback_restored_pre', rule: 'rollback', status: same ? 'pass' : 'fail', ...(same ? {} : { code: 'ROLLBACK_UNVERIFIED' }),
    declared: pre.fingerprints.schema, observed: after.fingerprints.schema,
    message: same ? 'store fingerprint equals PRE' : 'store fingerprint differs from PRE after rollback',
  };
}

/** The PRE baseline of the newest committed apply recorded in the bundle's receipts. */
export async function latestAppliedPre(bundleDir: string): Promise<Baseline | undefined> {
  const runsDir = path.join(bundleDir, 'receipts', 'runs');
  let runs: string[];
  try {
    runs = (await fs.readdir(runsDir)).sort().reverse();
  } catch {
    return undefined;
  }
  for (const run of runs) {
    const receipt = await loadArtifact<RunReceipt>(path.join(runsDir, run, 'run_receipt.json'), 'run_receipt.v1');
    if (!receipt.ok || receipt.value.operation !== 'apply' || receipt.value.outcome?.status !== 'committed') continue;
    const pre = receipt.value.outputs.find((o) => o.path.endsWith('baselines/pre.json'));
    if (!pre) continue;
    const baseline = await loadArtifact<Baseline>(path.join(bundleDir, pre.path), 'baseline.v1');
    if (baseline.ok) return baseline.value;
  }
  return undefined;
}

export async function rollbackBundle(options: RunOptions): Promise<RunResult> {
  const { reporter } = options;
  const result: RunResult = { command: 'rollback', status: 'failed', exit_code: ExitCode.InvalidInput, checks: [], issues: [], fingerprints: {}, touched: {}, metrics: {}, artifacts: [], timings: {} };
  const loaded = await reporter.step('load declaration', () => loadDeclaration(options.bundle));
  if (!loaded.ok) return { ...result, issues: loaded.issues, timings: reporter.timings() };
  const { declaration } = loaded;
  result.migration_id = declaration.migration_id;
  const adapter = adapterFor(declaration.type);
  if (!adapter) return { ...result, issues: [{ code: 'ARGUMENT_INVALID', file: loaded.file, pointer: '/type', message: `no store adapter registered for type ${declaration.type}` }], timings: reporter.timings() };
  if (loaded.rollback.length === 0) {
    return { ...result, issues: [{ code: 'ROLLBACK_ARTIFACT_MISSING', file: loaded.file, pointer: '/artifacts/rollback', message: 'this migration declares no rollback script' }], timings: reporter.timings() };
  }
  const migrationsRoot = await findMigrationsRoot(loaded.bundleDir);
  const policy = await loadPolicy(migrationsRoot);
  if (!policy.ok) return { ...result, issues: policy.issues, timings: reporter.timings() };
  const protectedDomains = effectiveProtected(policy.policy, declaration);
  const forward = await readScripts(loaded, 'forward');
  const rollback = await readScripts(loaded, 'rollback');
  const digest = await forwardDigest(forward);
  const startedAt = options.now().toISOString();
  const evidence: RunEvidence = { operation: 'rollback', store: declaration.type, startedAt, finishedAt: startedAt, forwardDigest: digest, checks: [], outcome: { status: 'failed', exit_code: 1 } };
  const pre = await latestAppliedPre(loaded.bundleDir);

  const conclusion = { loaded, options, evidence, result, migrationsRoot, registry: { on: 'rolled_back' as const, status: 'rolled_back' as const } };
  const conclude = (issues: Issue[], status: NonNullable<RunResult['outcome']>['status']) => concludeRun(conclusion, issues, status);

  const connection = resolveConnection(adapter, declaration, options.env);
  if (!connection.ok) return conclude(connection.issues, 'failed');
  return withLockedSession({ adapter, values: connection.values, owner: `kfm-migrate rollback ${declaration.migration_id}`, reporter, checks: evidence.checks, conclude }, async (session) => {
    const ledger = await session.ledgerState(declaration.migration_id);
    // Only a store that can record receipts keeps a chain; elsewhere the receipt stays unchained.
    if (session.recordReceipt) Object.assign(evidence, { previousReceipt: ledger.last_receipt_digest ?? null, receiptLedger: session });
    if (ledger.state !== 'applied') {
      evidence.checks.push({ name: 'ledger', rule: 'ledger', status: 'fail', code: 'LEDGER_NOT_APPLIED', message: `${declaration.migration_id} is not applied to this store (${ledger.state})` });
      return await conclude([], 'aborted');
    }
    const baselineOptions = { declaration, protected: protectedDomains };
    evidence.post = await reporter.step('capture baseline before rollback', () => session.captureBaseline({ ...baselineOptions, capturedAt: options.now().toISOString() }));
    if (pre) evidence.pre = pre;
    const rolled = await reporter.step('run rollback', () => session.runRollback(rollback, declaration, (m) => reporter.info(m)));
    if (!rolled.ok) return await conclude([rolled.failure ?? { code: 'ROLLBACK_FAILED', message: 'rollback failed' }], 'rollback_failed');
    evidence.afterRollback = await reporter.step('capture baseline after rollback', () => session.captureBaseline({ ...baselineOptions, capturedAt: options.now().toISOString() }));
    if (!pre) {
      evidence.checks.push({ name: 'rollback_restored_pre', rule: 'rollback', status: 'fail', code: 'ROLLBACK_UNVERIFIED', message: 'no PRE baseline of a committed apply in this bundle to verify against' });
      return await conclude([{ code: 'ROLLBACK_UNVERIFIED', message: 'no PRE baseline to verify against' }], 'rollback_failed');
    }
    const restored = verifyRestored(pre, evidence.afterRollback);
    evidence.checks.push(restored);
    if (restored.status === 'fail') return await conclude([{ code: 'ROLLBACK_UNVERIFIED', message: restored.message ?? 'fingerprint differs' }], 'rollback_failed');
    await session.recordLedger({ migration_id: declaration.migration_id, forward_digest: digest, run_id: await runIdentity(loaded, options, evidence), status: 'rolled_back' });
    return await conclude([], 'rolled_back');
  });
}
