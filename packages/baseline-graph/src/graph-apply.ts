// Running forward and rollback Cypher. Neo4j cannot mix schema commands and data writes in one
// transaction, so a forward run first executes the non-transactional statements (schema commands,
// `IN TRANSACTIONS` batches) in auto-commit, in script order — only when the declaration says
// `transactional: false` — and then every data statement in ONE explicit transaction. The POST
// baseline is captured inside that transaction (it sees the uncommitted writes), `decide` is asked,
// and the transaction commits together with the ledger node, or rolls back.
import type { ApplyRequest, ApplyResult, Issue, MigrationDeclaration, Progress, RollbackResult, ScriptFile } from '@kfm/migration-contracts';
import type { Driver, QueryResult, Session, Transaction } from 'neo4j-driver';
import { captureGraphBaseline } from './capture.js';
import type { GraphScopeOptions } from './graph-scope.js';
import { recordLedgerEntry } from './ledger.js';
import { splitScripts, type ScriptStatement } from './preflight.js';
import { RunMetrics } from './run-metrics.js';

export interface GraphRunContext extends GraphScopeOptions {
  driver: Driver;
  database?: string;
  /** Masks connection values in any text that leaves the adapter. */
  sanitize(message: string): string;
}

/** `30s`, `500ms`, `5min` (the declaration's pattern) in milliseconds. */
export function timeoutMs(value: string | undefined): number | undefined {
  const match = value ? /^([0-9]+)(ms|s|min)$/.exec(value) : null;
  if (!match) return undefined;
  const amount = Number(match[1]);
  return match[2] === 'ms' ? amount : match[2] === 's' ? amount * 1000 : amount * 60_000;
}

function openSession(context: GraphRunContext): Session {
  return context.driver.session({ defaultAccessMode: 'WRITE', ...(context.database ? { database: context.database } : {}) });
}

function errorText(context: GraphRunContext, error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  // Neo4j messages can quote offending values at length; the code and a bounded excerpt suffice.
  const excerpt = message.length > 400 ? `${message.slice(0, 400)}…` : message;
  return context.sanitize(typeof code === 'string' ? `${code}: ${excerpt}` : excerpt);
}

function statementIssue(code: 'STATEMENT_FAILED' | 'ROLLBACK_FAILED', statement: ScriptStatement, message: string): Issue {
  return { code, message: `statement ${statement.index + 1} (${statement.facts.kind}) failed: ${message}`, file: statement.file, line: statement.line, column: statement.column };
}

type Failure = { statement: ScriptStatement; message: string };

async function runAll(
  context: GraphRunContext,
  run: (statement: ScriptStatement) => Promise<QueryResult>,
  statements: readonly ScriptStatement[],
  metrics: RunMetrics,
  progress: Progress | undefined,
  label: string,
): Promise<Failure | undefined> {
  for (const [position, statement] of statements.entries()) {
    progress?.(`${label} ${position + 1}/${statements.length} ${statement.file}:${statement.line} ${statement.facts.kind}`);
    try {
      const result = await run(statement);
      metrics.add(result.summary.counters.updates());
      progress?.(`${label} ${position + 1}/${statements.length}: ${metrics.describeLast()}`);
    } catch (error) {
      return { statement, message: errorText(context, error) };
    }
  }
  return undefined;
}

export async function applyForward(context: GraphRunContext, request: ApplyRequest): Promise<ApplyResult> {
  const split = splitScripts(request.scripts);
  if (!split.ok) {
    const { file, line, column, message } = split.failure;
    return { status: 'failed', atPre: true, metrics: {}, failure: { code: 'STATEMENT_FAILED', message: `does not parse: ${message}`, file, line, column } };
  }
  const autocommit = split.statements.filter((s) => !s.facts.transactional);
  const transactional = split.statements.filter((s) => s.facts.transactional);
  const metrics = new RunMetrics();
  if (request.transactional && autocommit.length > 0) {
    const first = autocommit[0] as ScriptStatement;
    return { status: 'failed', atPre: true, metrics: metrics.values(), failure: statementIssue('STATEMENT_FAILED', first, 'cannot run inside a transaction; the declaration must say transactional: false') };
  }
  const timeout = timeoutMs(request.declaration.runner.statement_timeout);
  const session = openSession(context);
  try {
    // Schema commands and batches: visible at once; from here on only the rollback script undoes them.
    const autoFailure = await runAll(context, (s) => session.run(s.text, {}, timeout ? { timeout } : {}), autocommit, metrics, request.progress, 'forward (auto-commit)');
    // A no-op such as `CREATE CONSTRAINT … IF NOT EXISTS` for an existing constraint changes
    // nothing; only counted updates mean the store has left PRE (and the rollback must run).
    const changedOutsideTransaction = metrics.updated;
    if (autoFailure) {
      // A failed schema command is atomic; a failed batch may have committed earlier batches.
      const atPre = !metrics.updated && autoFailure.statement.facts.schema;
      return { status: 'failed', atPre, metrics: metrics.values(), failure: statementIssue('STATEMENT_FAILED', autoFailure.statement, autoFailure.message) };
    }
    const transaction = session.beginTransaction(timeout ? { timeout } : {});
    return await inTransaction(context, request, transaction, transactional, metrics, changedOutsideTransaction);
  } finally {
    await session.close();
  }
}

async function inTransaction(
  context: GraphRunContext,
  request: ApplyRequest,
  transaction: Transaction,
  statements: readonly ScriptStatement[],
  metrics: RunMetrics,
  changedOutsideTransaction: boolean,
): Promise<ApplyResult> {
  // After auto-commit statements ran, an abort leaves them in place: the runner must roll back.
  const notAtPre = { status: 'applied' as const, atPre: false };
  try {
    const failure = await runAll(context, (s) => transaction.run(s.text), statements, metrics, request.progress, 'forward');
    if (failure) {
      await transaction.rollback();
      return { status: 'failed', atPre: !changedOutsideTransaction, metrics: metrics.values(), failure: statementIssue('STATEMENT_FAILED', failure.statement, failure.message) };
    }
    const post = await captureGraphBaseline(transaction, { ...request.baseline, ...(context.labelPrefix !== undefined ? { labelPrefix: context.labelPrefix } : {}) });
    const values = metrics.values();
    if (!(await request.decide(post, values))) {
      await transaction.rollback();
      request.progress?.(changedOutsideTransaction ? 'refused at the commit point: data rolled back, auto-commit statements remain (rollback needed)' : 'aborted at the commit point: nothing was committed');
      return changedOutsideTransaction ? { ...notAtPre, post, metrics: values } : { status: 'aborted', atPre: true, post, metrics: values };
    }
    await recordLedgerEntry(transaction, request.ledger);
    try {
      await transaction.commit();
    } catch (error) {
      const message = errorText(context, error);
      return { status: 'failed', atPre: !changedOutsideTransaction, post, metrics: values, failure: { code: 'STATEMENT_FAILED', message: `COMMIT failed: ${message}` } };
    }
    request.progress?.('committed');
    return { status: 'committed', atPre: false, post, metrics: values };
  } catch (error) {
    // A fault (capture, decide, ledger, connection): nothing may stay half-done.
    if (transaction.isOpen()) await transaction.rollback().catch(() => undefined);
    throw error;
  }
}

/**
 * Runs the rollback scripts in script order: auto-commit statements one by one, and each run of
 * consecutive data statements in one transaction (so a failing group leaves nothing half-done).
 */
export async function applyRollback(context: GraphRunContext, scripts: readonly ScriptFile[], declaration: MigrationDeclaration, progress?: Progress): Promise<RollbackResult> {
  const split = splitScripts(scripts);
  if (!split.ok) {
    const { file, line, column, message } = split.failure;
    return { ok: false, failure: { code: 'ROLLBACK_FAILED', message: `does not parse: ${message}`, file, line, column } };
  }
  const timeout = timeoutMs(declaration.runner.statement_timeout);
  const config = timeout ? { timeout } : {};
  const metrics = new RunMetrics();
  const session = openSession(context);
  try {
    const groups: ScriptStatement[][] = [];
    for (const statement of split.statements) {
      const last = groups[groups.length - 1];
      if (last && statement.facts.transactional && last[0]?.facts.transactional) last.push(statement);
      else groups.push([statement]);
    }
    for (const group of groups) {
      if (!group[0]?.facts.transactional) {
        const failure = await runAll(context, (s) => session.run(s.text, {}, config), group, metrics, progress, 'rollback (auto-commit)');
        if (failure) return { ok: false, failure: statementIssue('ROLLBACK_FAILED', failure.statement, failure.message) };
        continue;
      }
      const transaction = session.beginTransaction(config);
      const failure = await runAll(context, (s) => transaction.run(s.text), group, metrics, progress, 'rollback');
      if (failure) {
        await transaction.rollback().catch(() => undefined);
        return { ok: false, failure: statementIssue('ROLLBACK_FAILED', failure.statement, failure.message) };
      }
      try {
        await transaction.commit();
      } catch (error) {
        return { ok: false, failure: { code: 'ROLLBACK_FAILED', message: `COMMIT failed: ${errorText(context, error)}` } };
      }
    }
    progress?.(`rollback done: ${metrics.describe()}`);
    return { ok: true };
  } finally {
    await session.close();
  }
}
