// Running forward and rollback Cypher in the order the author wrote it. Neo4j cannot mix schema commands
// and data writes in one transaction, so the script is cut into groups without reordering anything:
// consecutive data statements share one explicit transaction, and each schema command (or batched
// `IN TRANSACTIONS` statement) runs in auto-commit at its position. A transactional declaration has one
// group (preflight refuses anything else), so the POST baseline is captured inside it, `decide` is asked
// and the transaction commits together with the ledger node, or rolls back: the store stays at PRE. In a
// non-transactional run every earlier group is visible when it ends; the commit point is the last group
// (its transaction stays open for the decision when it is a data group), and a refusal leaves the change
// for the rollback script, verified against PRE by the runner.
import {
  commitPoint,
  errorText,
  runStatements,
  statementRuns,
  transactionGroups,
  type StatementGroup,
} from '@kfm/adapter-kit';
import type {
  ApplyRequest,
  ApplyResult,
  Baseline,
  Issue,
  MigrationDeclaration,
  Progress,
  RollbackResult,
  ScriptFile,
  StatementRun,
} from '@kfm/migration-contracts';
import { durationMs } from '@kfm/adapter-kit';
import type { Driver, QueryResult, Session, Transaction } from 'neo4j-driver';
import { captureGraphBaseline } from './capture.js';
import type { GraphScopeOptions } from './scope.js';
import { recordLedgerEntry } from './ledger.js';
import { splitScripts, type ScriptStatement } from './preflight.js';
import { RunMetrics } from './run-metrics.js';

export interface GraphRunContext extends GraphScopeOptions {
  driver: Driver;
  database?: string;
  /** Masks connection values in any text that leaves the adapter. */
  sanitize(message: string): string;
}

/** A statement as the kit's run loop sees it. */
type Runnable = ScriptStatement & { kind: string; transactional: boolean };

function runnable(statements: readonly ScriptStatement[]): Runnable[] {
  return statements.map((statement) => ({
    ...statement,
    kind: statement.facts.kind,
    transactional: statement.facts.transactional,
  }));
}

function openSession(context: GraphRunContext): Session {
  return context.driver.session({
    defaultAccessMode: 'WRITE',
    ...(context.database ? { database: context.database } : {}),
  });
}

function statementIssue(
  code: 'STATEMENT_FAILED' | 'ROLLBACK_FAILED',
  statement: ScriptStatement,
  message: string,
  failureCode?: string,
): Issue {
  return {
    code: failureCode === 'LEASE_LOST' ? 'LEASE_LOST' : code,
    message: `statement ${statement.index + 1} (${statement.facts.kind}) failed: ${message}`,
    file: statement.file,
    line: statement.line,
    column: statement.column,
  };
}

function parseFailure(
  code: 'STATEMENT_FAILED' | 'ROLLBACK_FAILED',
  failure: { file: string; line: number; column: number; message: string },
): Issue {
  return {
    code,
    file: failure.file,
    line: failure.line,
    column: failure.column,
    message: `does not parse: ${failure.message}`,
  };
}

interface GroupRun {
  groups: StatementGroup<Runnable>[];
  metrics: RunMetrics;
  /** Index of the last statement that ran (or was tried), and of the failed one. */
  through: number;
  failed?: number;
}

function runsOf(run: GroupRun): StatementRun[] {
  return statementRuns(
    run.groups,
    run.failed === undefined ? { lastRunIndex: run.through } : { failedIndex: run.failed, lastRunIndex: run.through },
  );
}

/** Runs one group; a transaction group's transaction is returned open when `keepOpen`. */
async function runGroup(
  context: GraphRunContext,
  session: Session,
  group: StatementGroup<Runnable>,
  run: GroupRun,
  options: {
    label: string;
    timeout?: number;
    total: number;
    progress?: Progress;
    signal?: AbortSignal;
    keepOpen: boolean;
  },
): Promise<{ failure?: { statement: Runnable; message: string; code?: string }; transaction?: Transaction }> {
  const describe = (error: unknown) => ({
    message: errorText(error, context.sanitize),
    ...(typeof (error as { code?: unknown }).code === 'string' ? { code: (error as { code: string }).code } : {}),
  });
  const count = (result: QueryResult, index: number) => {
    const facts = group.statements.find((statement) => statement.index === index)?.facts;
    run.metrics.add(
      result.summary.counters.updates(),
      index,
      facts ? { labels: facts.writtenLabels, relationshipTypes: facts.writtenRelationshipTypes } : undefined,
    );
    options.progress?.(`${options.label}: ${run.metrics.describeLast()}`);
  };
  const loop = {
    label: `${options.label} (group ${group.group + 1}, ${group.transaction ? 'transaction' : 'auto-commit'})`,
    describe,
    total: options.total,
    ...(options.progress ? { progress: options.progress } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  };
  if (!group.transaction) {
    const outcome = await runStatements(
      group.statements,
      async (statement) =>
        count(
          await session.run(statement.text, {}, options.timeout ? { timeout: options.timeout } : {}),
          statement.index,
        ),
      loop,
    );
    run.through = group.statements[group.statements.length - 1]?.index ?? run.through;
    if (outcome.failure) run.failed = outcome.failure.statement.index;
    return outcome.failure ? { failure: outcome.failure } : {};
  }
  const transaction = session.beginTransaction(options.timeout ? { timeout: options.timeout } : {});
  const outcome = await runStatements(
    group.statements,
    async (statement) => count(await transaction.run(statement.text), statement.index),
    loop,
  );
  run.through = outcome.failure
    ? outcome.failure.statement.index
    : (group.statements[group.statements.length - 1]?.index ?? run.through);
  if (outcome.failure) {
    run.failed = outcome.failure.statement.index;
    if (transaction.isOpen()) await transaction.rollback().catch(() => undefined);
    return { failure: outcome.failure };
  }
  if (options.keepOpen) return { transaction };
  await transaction.commit();
  return {};
}

export async function applyForward(context: GraphRunContext, request: ApplyRequest): Promise<ApplyResult> {
  const split = splitScripts(request.scripts);
  if (!split.ok)
    return { status: 'failed', atPre: true, metrics: {}, failure: parseFailure('STATEMENT_FAILED', split.failure) };
  const statements = runnable(split.statements);
  const groups = request.transactional ? [{ group: 0, transaction: true, statements }] : transactionGroups(statements);
  const firstSchema = statements.find((statement) => !statement.transactional);
  if (request.transactional && firstSchema) {
    return {
      status: 'failed',
      atPre: true,
      metrics: {},
      failure: statementIssue(
        'STATEMENT_FAILED',
        firstSchema,
        'cannot run inside a transaction; the declaration must say transactional: false',
      ),
    };
  }
  const timeout = durationMs(request.declaration.runner.statement_timeout);
  const run: GroupRun = { groups, metrics: new RunMetrics(), through: -1 };
  const capture = (target: Transaction | Session) =>
    captureGraphBaseline(target, {
      ...request.baseline,
      ...(context.labelPrefix !== undefined ? { labelPrefix: context.labelPrefix } : {}),
    });
  const session = openSession(context);
  let open: Transaction | undefined;
  try {
    for (const [position, group] of groups.entries()) {
      const last = position === groups.length - 1;
      // Before this group, was anything made visible (committed earlier groups that changed something)?
      const result = await runGroup(context, session, group, run, {
        label: 'forward',
        total: statements.length,
        keepOpen: last && group.transaction,
        ...(timeout ? { timeout } : {}),
        ...(request.progress ? { progress: request.progress } : {}),
        ...(request.signal ? { signal: request.signal } : {}),
      });
      if (result.failure) {
        // A failed transaction group rolled back; earlier groups' changes (and a half-done batch) stay.
        const visible =
          run.metrics.updatedBefore(group.statements[0]?.index ?? 0) ||
          (!group.transaction && !result.failure.statement.facts.schema);
        return {
          status: 'failed',
          atPre: !visible,
          metrics: run.metrics.values(),
          statements: runsOf(run),
          failure: statementIssue(
            'STATEMENT_FAILED',
            result.failure.statement,
            result.failure.message,
            result.failure.code,
          ),
        };
      }
      open = result.transaction;
    }
    const visibleBeforeDecision = run.metrics.updatedBefore(
      open ? (groups[groups.length - 1]?.statements[0]?.index ?? 0) : Number.POSITIVE_INFINITY,
    );
    const transaction = open;
    const post: Baseline = transaction ? await capture(transaction) : await capture(session);
    const metrics = run.metrics.values();
    const data = run.metrics.dataChanges();
    const decision = await commitPoint({
      request,
      post,
      metrics,
      data,
      commit: async () => {
        if (transaction) {
          await recordLedgerEntry(transaction, request.ledger);
          await transaction.commit();
        } else await session.executeWrite((tx) => recordLedgerEntry(tx, request.ledger));
      },
      abort: async () => {
        if (transaction?.isOpen()) await transaction.rollback();
      },
      describe: (error) => errorText(error, context.sanitize),
    });
    open = undefined;
    if (decision.status === 'committed')
      return { status: 'committed', atPre: false, post, metrics, data, statements: runsOf(run) };
    // Refused (or lease lost, or the commit failed): the open transaction is rolled back; what earlier groups made visible stays.
    if (visibleBeforeDecision)
      return {
        status: decision.status === 'failed' ? 'failed' : 'applied',
        atPre: false,
        post,
        metrics,
        data,
        statements: runsOf(run),
        ...(decision.failure ? { failure: decision.failure } : {}),
      };
    return {
      status: decision.status,
      atPre: true,
      post,
      metrics,
      data,
      statements: runsOf(run),
      ...(decision.failure ? { failure: decision.failure } : {}),
    };
  } catch (error) {
    // A fault (capture, decide, ledger, connection): nothing may stay half-done.
    if (open?.isOpen()) await open.rollback().catch(() => undefined);
    throw error;
  } finally {
    await session.close();
  }
}

/** Runs the rollback scripts in script order, with the same grouping as forward: nothing is reordered. */
export async function applyRollback(
  context: GraphRunContext,
  scripts: readonly ScriptFile[],
  declaration: MigrationDeclaration,
  progress?: Progress,
): Promise<RollbackResult> {
  const split = splitScripts(scripts);
  if (!split.ok) return { ok: false, failure: parseFailure('ROLLBACK_FAILED', split.failure) };
  const statements = runnable(split.statements);
  const run: GroupRun = { groups: transactionGroups(statements), metrics: new RunMetrics(), through: -1 };
  const timeout = durationMs(declaration.runner.statement_timeout);
  const session = openSession(context);
  try {
    for (const group of run.groups) {
      const result = await runGroup(context, session, group, run, {
        label: 'rollback',
        total: statements.length,
        keepOpen: false,
        ...(timeout ? { timeout } : {}),
        ...(progress ? { progress } : {}),
      });
      if (result.failure)
        return {
          ok: false,
          statements: runsOf(run),
          failure: statementIssue('ROLLBACK_FAILED', result.failure.statement, result.failure.message),
        };
    }
    progress?.(`rollback done: ${run.metrics.describe()}`);
    return { ok: true, statements: runsOf(run) };
  } catch (error) {
    return {
      ok: false,
      statements: runsOf(run),
      failure: { code: 'ROLLBACK_FAILED', message: `rollback failed: ${errorText(error, context.sanitize)}` },
    };
  } finally {
    await session.close();
  }
}
