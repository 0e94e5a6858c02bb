// Running the forward and rollback scripts. Transactional runs keep everything — statements, POST
// baseline, the commit decision and the ledger row — in one transaction, so an abort or a failing
// statement leaves the database exactly at PRE. Non-transactional runs use autocommit and leave the
// rollback script as the safety net.
import type { ApplyRequest, ApplyResult, Issue, MigrationDeclaration, Progress, RollbackResult, ScriptFile } from '@kfm/migration-contracts';
import type { ClientBase } from 'pg';
import { capturePostgisBaseline } from './capture.js';
import { recordLedgerEntry } from './ledger.js';
import { statementFacts } from './statement-facts.js';
import { splitScripts, type ParsedStatement } from './statements.js';

export const DEFAULT_LOCK_TIMEOUT = '5s';
export const DEFAULT_STATEMENT_TIMEOUT = '15min';

export interface RunContext {
  client: ClientBase;
  sanitize(message: string): string;
}

interface RunOutcome {
  completed: number;
  rowsAffected: number;
  failure?: { statement: ParsedStatement; message: string };
}

async function runStatements(context: RunContext, statements: readonly ParsedStatement[], progress: Progress | undefined, label: string): Promise<RunOutcome> {
  let rowsAffected = 0;
  for (const [position, statement] of statements.entries()) {
    progress?.(`${label} ${position + 1}/${statements.length} ${statement.file}:${statement.line} ${statement.node}`);
    try {
      const result = await context.client.query(statement.text);
      if (statementFacts(statement).data) rowsAffected += result.rowCount ?? 0;
    } catch (error) {
      return { completed: position, rowsAffected, failure: { statement, message: context.sanitize(error instanceof Error ? error.message : String(error)) } };
    }
  }
  return { completed: statements.length, rowsAffected };
}

/** Session timeouts from the declaration; set_config takes them as values, so nothing is spliced into SQL. */
async function setTimeouts(client: ClientBase, declaration: MigrationDeclaration, local: boolean): Promise<{ lock: string; statement: string }> {
  const { rows } = await client.query(
    `SELECT current_setting('lock_timeout') AS lock, current_setting('statement_timeout') AS statement,
            set_config('lock_timeout', $1, $3), set_config('statement_timeout', $2, $3)`,
    [declaration.runner.lock_timeout ?? DEFAULT_LOCK_TIMEOUT, declaration.runner.statement_timeout ?? DEFAULT_STATEMENT_TIMEOUT, local],
  );
  return rows[0] as { lock: string; statement: string };
}

async function restoreTimeouts(client: ClientBase, previous: { lock: string; statement: string }): Promise<void> {
  // Best effort, from a finally block: a dead connection must not hide the run's own outcome.
  await client.query(`SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)`, [previous.lock, previous.statement]).catch(() => undefined);
}

function statementIssue(code: 'STATEMENT_FAILED' | 'ROLLBACK_FAILED', failure: NonNullable<RunOutcome['failure']>): Issue {
  const { statement, message } = failure;
  return { code, message: `${statement.node} failed: ${message}`, file: statement.file, line: statement.line };
}

function parseIssue(code: 'STATEMENT_FAILED' | 'ROLLBACK_FAILED', failure: { file: string; line: number; column: number; message: string }): Issue {
  return { code, message: `does not parse: ${failure.message}`, file: failure.file, line: failure.line, column: failure.column };
}

export async function applyForward(context: RunContext, request: ApplyRequest): Promise<ApplyResult> {
  const split = await splitScripts(request.scripts);
  if (!split.ok) return { status: 'failed', atPre: true, metrics: {}, failure: parseIssue('STATEMENT_FAILED', split.failure) };
  return request.transactional ? applyInTransaction(context, request, split.statements) : applyAutocommit(context, request, split.statements);
}

async function applyInTransaction(context: RunContext, request: ApplyRequest, statements: ParsedStatement[]): Promise<ApplyResult> {
  const { client } = context;
  await client.query('BEGIN');
  try {
    await setTimeouts(client, request.declaration, true);
    const outcome = await runStatements(context, statements, request.progress, 'forward');
    const metrics = { statements: outcome.completed, rows_affected: outcome.rowsAffected };
    if (outcome.failure) {
      await client.query('ROLLBACK');
      return { status: 'failed', atPre: true, metrics, failure: statementIssue('STATEMENT_FAILED', outcome.failure) };
    }
    const post = await capturePostgisBaseline(client, request.baseline);
    if (!(await request.decide(post, metrics))) {
      await client.query('ROLLBACK');
      request.progress?.('aborted at the commit point: nothing was committed');
      return { status: 'aborted', atPre: true, post, metrics };
    }
    await recordLedgerEntry(client, request.ledger);
    try {
      await client.query('COMMIT');
    } catch (error) {
      // Deferred constraints are checked at COMMIT; the server has rolled everything back.
      const message = context.sanitize(error instanceof Error ? error.message : String(error));
      return { status: 'failed', atPre: true, post, metrics, failure: { code: 'STATEMENT_FAILED', message: `COMMIT failed: ${message}` } };
    }
    request.progress?.('committed');
    return { status: 'committed', atPre: false, post, metrics };
  } catch (error) {
    // A fault (capture, decide, ledger, connection): nothing may stay half-done.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

async function applyAutocommit(context: RunContext, request: ApplyRequest, statements: ParsedStatement[]): Promise<ApplyResult> {
  const { client } = context;
  const previous = await setTimeouts(client, request.declaration, false);
  try {
    const outcome = await runStatements(context, statements, request.progress, 'forward (autocommit)');
    const metrics = { statements: outcome.completed, rows_affected: outcome.rowsAffected };
    if (outcome.failure) {
      // Only a first statement that failed inside its own implicit transaction leaves nothing behind;
      // a failed CREATE INDEX CONCURRENTLY, for one, leaves an invalid index.
      const atPre = outcome.completed === 0 && statementFacts(outcome.failure.statement).transactional;
      return { status: 'failed', atPre, metrics, failure: statementIssue('STATEMENT_FAILED', outcome.failure) };
    }
    const post = await capturePostgisBaseline(client, request.baseline);
    if (!(await request.decide(post, metrics))) return { status: 'applied', atPre: false, post, metrics };
    await recordLedgerEntry(client, request.ledger);
    return { status: 'committed', atPre: false, post, metrics };
  } finally {
    await restoreTimeouts(client, previous);
  }
}

/** Runs the rollback scripts: in one transaction when every statement allows it, else in autocommit. */
export async function applyRollback(context: RunContext, scripts: readonly ScriptFile[], declaration: MigrationDeclaration, progress?: Progress): Promise<RollbackResult> {
  const split = await splitScripts(scripts);
  if (!split.ok) return { ok: false, failure: parseIssue('ROLLBACK_FAILED', split.failure) };
  const { client } = context;
  const transactional = split.statements.every((statement) => statementFacts(statement).transactional);
  if (!transactional) {
    const previous = await setTimeouts(client, declaration, false);
    try {
      const outcome = await runStatements(context, split.statements, progress, 'rollback (autocommit)');
      return outcome.failure ? { ok: false, failure: statementIssue('ROLLBACK_FAILED', outcome.failure) } : { ok: true };
    } finally {
      await restoreTimeouts(client, previous);
    }
  }
  await client.query('BEGIN');
  try {
    await setTimeouts(client, declaration, true);
    const outcome = await runStatements(context, split.statements, progress, 'rollback');
    if (outcome.failure) {
      await client.query('ROLLBACK');
      return { ok: false, failure: statementIssue('ROLLBACK_FAILED', outcome.failure) };
    }
    await client.query('COMMIT');
    return { ok: true };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
