// Ends every execution the same way, pass or fail: decide the exit code, write the evidence and
// the receipt, append the registry status, and shape the RunResult the CLI prints.
import { ExitCode, exitCodeFor, type Issue, type LoadedDeclaration } from '@kfm/migration-contracts';
import { appendStatus, type RegistryStatus } from './migrations-registry.js';
import { writeRun, type RunEvidence } from './run-artifacts.js';
import { faultIssue, type RunOptions, type RunResult } from './run-context.js';

export interface Conclusion {
  loaded: LoadedDeclaration;
  options: RunOptions;
  evidence: RunEvidence;
  result: RunResult;
  migrationsRoot: string | undefined;
  /** Registry status to append when the run reaches `successStatus`. */
  registry?: { on: NonNullable<RunResult['outcome']>['status']; status: RegistryStatus };
}

export async function concludeRun(c: Conclusion, issues: Issue[], status: NonNullable<RunResult['outcome']>['status']): Promise<RunResult> {
  const { evidence, options, result } = c;
  const exit = issues.length ? exitCodeFor(issues) : evidence.checks.some((check) => check.status === 'fail') ? ExitCode.CheckFailed : ExitCode.Passed;
  const first = issues[0] ?? evidence.checks.find((check) => check.status === 'fail');
  evidence.finishedAt = options.now().toISOString();
  evidence.outcome = { status, exit_code: exit, ...(first?.code ? { code: first.code } : {}), ...(first?.message ? { message: first.message } : {}) };
  const written = await options.reporter.step('write artifacts and receipt', () => writeRun(c.loaded, options, evidence));
  // The receipt is the store chain's new head: record it while the run still holds the store lock.
  const recorded = written.ok ? await recordReceipt(c, written.run.runId, written.run.receiptDigest) : [];
  const allIssues = written.ok ? [...issues, ...recorded] : [...issues, ...written.issues];
  const finalExit = written.ok && recorded.length === 0 ? exit : Math.max(exitCodeFor(allIssues), ExitCode.CheckFailed) as ExitCode;
  if (written.ok && c.registry && status === c.registry.on && c.migrationsRoot) {
    await appendStatus(c.migrationsRoot, c.loaded.declaration.migration_id, c.registry.status, { at: evidence.finishedAt, run_id: written.run.runId, environment: options.environment });
  }
  return {
    ...result,
    status: finalExit === ExitCode.Passed ? 'passed' : 'failed',
    exit_code: finalExit,
    outcome: evidence.outcome,
    checks: evidence.checks,
    issues: allIssues,
    ...(written.ok ? { run_id: written.run.runId, artifacts: written.run.paths } : {}),
    fingerprints: {
      ...(evidence.pre ? { pre: evidence.pre.fingerprints.schema } : {}),
      ...(evidence.post ? { post: evidence.post.fingerprints.schema } : {}),
      ...(evidence.afterRollback ? { after_rollback: evidence.afterRollback.fingerprints.schema } : {}),
    },
    timings: options.reporter.timings(),
  };
}

/** Appends the receipt digest to the store ledger; a failure leaves the chain without this link, so it is reported. */
async function recordReceipt(c: Conclusion, runId: string, receiptDigest: string): Promise<Issue[]> {
  const { evidence } = c;
  if (!evidence.receiptLedger?.recordReceipt || evidence.previousReceipt === undefined) return [];
  try {
    await evidence.receiptLedger.recordReceipt({ migration_id: c.loaded.declaration.migration_id, run_id: runId, forward_digest: evidence.forwardDigest, receipt_digest: receiptDigest });
    return [];
  } catch (error) {
    const issue = faultIssue(error);
    return [{ ...issue, message: `the receipt was written but could not be recorded in the store ledger (the receipt chain misses this link): ${issue.message}` }];
  }
}
