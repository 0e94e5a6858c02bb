// The statement run loop and the commit point every adapter shares. Statements run in the order the
// author wrote them (never reordered); consecutive statements that can share a transaction form one
// group, each other statement is a group of its own. At the commit point the POST baseline and the
// run's observations go to `decide`; the adapter commits only on a yes, and never after its lease
// was lost.
import type { ApplyRequest, Baseline, DataChange, Issue, Progress, StatementRun } from '@kfm/migration-contracts';

export interface LoopStatement {
  /** 0-based position across all scripts, in run order. */
  index: number;
  file: string;
  line?: number;
  column?: number;
  /** What it is, for progress and receipts (`IndexStmt`, `create_constraint`, `reindex`). */
  kind: string;
  /** Whether it can run inside an explicit transaction with its neighbours. */
  transactional: boolean;
}

export interface StatementGroup<S extends LoopStatement> {
  /** 0-based group number, in run order. */
  group: number;
  /** True: the statements share one explicit transaction; false: one statement in auto-commit. */
  transaction: boolean;
  statements: S[];
}

/** Consecutive transactional statements share a group; every other statement is a group of its own. Order is kept. */
export function transactionGroups<S extends LoopStatement>(statements: readonly S[]): StatementGroup<S>[] {
  const groups: StatementGroup<S>[] = [];
  for (const statement of statements) {
    const last = groups[groups.length - 1];
    if (last?.transaction && statement.transactional) last.statements.push(statement);
    else groups.push({ group: groups.length, transaction: statement.transactional, statements: [statement] });
  }
  return groups;
}

export interface LoopFailure<S> {
  statement: S;
  message: string;
  /** The store's error code (SQLSTATE, Neo4j status code), when it gave one. */
  code?: string;
}

export interface LoopOptions {
  progress?: Progress;
  /** Prefix of progress lines, e.g. `forward`, `rollback (auto-commit)`. */
  label: string;
  /** Stops before the next statement (lease lost). */
  signal?: AbortSignal;
  /** Turns a thrown error into a safe message (no connection values). */
  describe(error: unknown): { message: string; code?: string };
  /** Total number of statements of the script, for `3/7` in progress (default: this batch's length). */
  total?: number;
}

export interface LoopOutcome<S> {
  completed: number;
  failure?: LoopFailure<S>;
}

/** Runs statements in order, one progress line each; the first failure (or a lost lease) stops the loop. */
export async function runStatements<S extends LoopStatement>(
  statements: readonly S[],
  run: (statement: S) => Promise<void>,
  options: LoopOptions,
): Promise<LoopOutcome<S>> {
  const total = options.total ?? statements.length;
  for (const [position, statement] of statements.entries()) {
    if (options.signal?.aborted)
      return {
        completed: position,
        failure: { statement, message: `not run: ${leaseReason(options.signal)}`, code: 'LEASE_LOST' },
      };
    options.progress?.(
      `${options.label} ${statement.index + 1}/${total} ${statement.file}${statement.line ? `:${statement.line}` : ''} ${statement.kind}`,
    );
    try {
      await run(statement);
    } catch (error) {
      const described = options.describe(error);
      return { completed: position, failure: { statement, ...described } };
    }
  }
  return { completed: statements.length };
}

/** The receipt's record of the statements: every one, in order, with its group and outcome. */
export function statementRuns<S extends LoopStatement>(
  groups: readonly StatementGroup<S>[],
  outcome: { failedIndex?: number; lastRunIndex: number },
): StatementRun[] {
  const runs: StatementRun[] = [];
  for (const group of groups) {
    for (const statement of group.statements) {
      const state =
        statement.index === outcome.failedIndex ? 'failed' : statement.index <= outcome.lastRunIndex ? 'ok' : 'not_run';
      runs.push({
        index: statement.index,
        file: statement.file,
        ...(statement.line ? { line: statement.line } : {}),
        kind: statement.kind,
        group: group.group,
        transactional: group.transaction,
        outcome: state,
      });
    }
  }
  return runs;
}

export function leaseReason(signal: AbortSignal): string {
  const reason = signal.reason;
  return reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'the store lease was lost';
}

export function leaseIssue(signal: AbortSignal): Issue {
  return { code: 'LEASE_LOST', message: `${leaseReason(signal)}; stopped before the commit point` };
}

export type CommitOutcome =
  | { status: 'committed' }
  | { status: 'aborted'; failure?: Issue }
  | { status: 'failed'; failure: Issue };

export interface CommitSteps {
  request: Pick<ApplyRequest, 'decide' | 'signal' | 'progress'>;
  post: Baseline;
  metrics: Record<string, number>;
  data?: DataChange[];
  /** Makes the change visible together with the ledger entry (COMMIT; the alias flip + ledger). */
  commit(): Promise<void>;
  /** Undoes everything not yet visible (ROLLBACK; dropping shadows). */
  abort(): Promise<void>;
  describe(error: unknown): string;
}

/**
 * The commit point: ask `decide` with what the run observed, and commit only on a yes while the lease
 * is still held. A refusal or a lost lease aborts; a commit that fails is a failed run (the adapter
 * says whether the store is at PRE).
 */
export async function commitPoint(steps: CommitSteps): Promise<CommitOutcome> {
  const { request } = steps;
  if (request.signal?.aborted) {
    await steps.abort();
    return { status: 'aborted', failure: leaseIssue(request.signal) };
  }
  const yes = await request.decide({
    post: steps.post,
    metrics: steps.metrics,
    ...(steps.data ? { data: steps.data } : {}),
  });
  if (request.signal?.aborted) {
    await steps.abort();
    return { status: 'aborted', failure: leaseIssue(request.signal) };
  }
  if (!yes) {
    await steps.abort();
    request.progress?.('refused at the commit point: nothing was committed');
    return { status: 'aborted' };
  }
  try {
    await steps.commit();
  } catch (error) {
    return {
      status: 'failed',
      failure: { code: 'STATEMENT_FAILED', message: `commit failed: ${steps.describe(error)}` },
    };
  }
  request.progress?.('committed');
  return { status: 'committed' };
}
