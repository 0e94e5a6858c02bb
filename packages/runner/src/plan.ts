// The dry run: gates, preflight and the PRE baseline, written to plan.json. Nothing is mutated
// and no lock is taken; the predicted touches are checked against the declared scope.
import { ExitCode, exitCodeFor, loadDeclaration, type Check, type Plan } from '@kfm/migration-contracts';
import { writeArtifacts } from '@kfm/receipts';
import { adapterFor } from './adapters.js';
import { readScripts } from './bundle-scripts.js';
import { findMigrationsRoot } from './migrations-registry.js';
import { effectiveProtected, governanceGates, loadPolicy } from './policy.js';
import { faultIssue, resolveConnection, type RunOptions, type RunResult } from './run-context.js';

export async function planBundle(options: RunOptions): Promise<RunResult & { plan?: Plan }> {
  const { reporter } = options;
  const result: RunResult = { command: 'plan', status: 'failed', exit_code: ExitCode.InvalidInput, checks: [], issues: [], fingerprints: {}, touched: {}, metrics: {}, artifacts: [], timings: {} };
  const done = (extra: Partial<RunResult>) => ({ ...result, ...extra, timings: reporter.timings() });
  const loaded = await reporter.step('load declaration', () => loadDeclaration(options.bundle));
  if (!loaded.ok) return done({ issues: loaded.issues });
  const { declaration } = loaded;
  result.migration_id = declaration.migration_id;
  const adapter = adapterFor(declaration.type);
  if (!adapter) return done({ issues: [{ code: 'ARGUMENT_INVALID', file: loaded.file, pointer: '/type', message: `no store adapter registered for type ${declaration.type}` }] });
  const policy = await loadPolicy(await findMigrationsRoot(loaded.bundleDir));
  if (!policy.ok) return done({ issues: policy.issues });
  const protectedDomains = effectiveProtected(policy.policy, declaration);
  const checks: Check[] = governanceGates(declaration, options);
  const connection = resolveConnection(adapter, declaration, options.env);
  if (!connection.ok) return done({ issues: connection.issues, exit_code: exitCodeFor(connection.issues) });
  let session;
  try {
    session = await reporter.step(`connect ${declaration.type}`, () => adapter.connect(connection.values, { applicationName: `kfm-migrate plan ${declaration.migration_id}` }));
  } catch (error) {
    const issues = [faultIssue(error)];
    return done({ issues, exit_code: exitCodeFor(issues) });
  }
  try {
    const forward = await readScripts(loaded, 'forward');
    const preflight = await reporter.step('preflight', () => session.preflight(forward, declaration, protectedDomains));
    checks.push(...preflight.checks);
    const pre = await reporter.step('capture PRE baseline', () => session.captureBaseline({ declaration, protected: protectedDomains, capturedAt: options.now().toISOString() }));
    const status = checks.some((c) => c.status === 'fail') ? 'fail' : 'pass';
    const plan: Plan = {
      kfm_plan_version: 'v1', migration_id: declaration.migration_id, store: declaration.type, status,
      transactional: declaration.transactional !== false,
      pre: { fingerprints: pre.fingerprints, counts: pre.counts },
      statements: preflight.statements,
      predicted: { touched: preflight.predicted },
      checks,
    };
    const written = await reporter.step('write plan.json', () => writeArtifacts(loaded.bundleDir, [{ path: 'plan.json', content: plan }]));
    if (!written.ok) {
      const issues = written.findings.map((f) => ({ code: 'POLICY_SCAN_HIT' as const, file: f.file, line: f.line, message: `${f.rule}: ${f.message}` }));
      return done({ issues, exit_code: ExitCode.CheckFailed, checks });
    }
    return {
      ...done({ status: status === 'pass' ? 'passed' : 'failed', exit_code: status === 'pass' ? ExitCode.Passed : ExitCode.CheckFailed, checks, touched: preflight.predicted, fingerprints: { pre: pre.fingerprints.schema }, artifacts: ['plan.json'] }),
      plan,
    };
  } catch (error) {
    const issues = [faultIssue(error)];
    return done({ issues, exit_code: exitCodeFor(issues) });
  } finally {
    await session.close().catch(() => undefined);
  }
}
