// Running the forward and rollback scripts. Transactional runs keep everything — statements, POST
// baseline, the rows the transaction changed (pg_stat_xact_user_tables: it sees writes from dynamic SQL,
// functions and triggers too), the commit decision and the ledger row — in one transaction, so an abort
// or a failing statement leaves the database exactly at PRE. Non-transactional runs use autocommit and
// leave the rollback script as the safety net.
import {
  commitPoint,
  errorText,
  runStatements,
  statementRuns,
  transactionGroups,
  type LoopFailure,
} from '@kfm/adapter-kit';
import type {
  ApplyRequest,
  ApplyResult,
  DataChange,
  Issue,
  MigrationDeclaration,
  Progress,
  RollbackResult,
  ScriptFile,
} from '@kfm/migration-contracts';
import type { ClientBase } from 'pg';
import { type CaptureCache, capturePostgisBaseline } from './capture.js';
import { batchDirective, planBatch, runBatches, type BatchDirective } from './batch.js';
import { LEDGER_SCHEMA, recordLedgerEntry, recordResumePoint } from './ledger.js';
import { tableAliases } from './scope.js';
import { plantSessionMarker, sequenceChangesSince, sequencePositions, watchTransaction } from './observe.js';
import { statementFacts } from './statement-facts.js';
import { splitScripts, type ParsedStatement } from './statements.js';

export const DEFAULT_LOCK_TIMEOUT = '5s';
export const DEFAULT_STATEMENT_TIMEOUT = '15min';

export interface RunContext {
  client: ClientBase;
  sanitize(message: string): string;
  /** The session's capture cache: POST reads again only what changed since PRE, while the locks are held. */
  cache?: CaptureCache;
}

/** A parsed statement as the kit's run loop sees it. */

type Runnable = ParsedStatement & { kind: string; transactional: boolean; batch?: BatchDirective };

function runnable(
  statements: readonly ParsedStatement[],
  sources: ReadonlyMap<string, string> = new Map(),
): Runnable[] {
  return statements.map((statement) => {
    const directive = batchDirective(sources.get(statement.file) ?? '', statement.line);
    const batch = directive && !('error' in directive) ? directive : undefined;
    return {
      ...statement,
      kind: statement.node,
      // A batched statement commits batch by batch: never part of a transaction.
      transactional: batch ? false : statementFacts(statement).transactional,
      ...(batch ? { batch } : {}),
    };
  });
}

function describe(context: RunContext) {
  return (error: unknown) => {
    const code = (error as { code?: unknown }).code;
    return {
      message: context.sanitize(error instanceof Error ? error.message : String(error)),
      ...(typeof code === 'string' ? { code } : {}),
    };
  };
}

/** How batched statements run in this pass (forward without a transaction only). */
interface Batching {
  request: ApplyRequest;
  /** max_row_backfill, checked before every batch. */
  limit?: number;
  /** Resume point of an interrupted run: this statement, after this key. */
  resume?: { statement: number; key?: string };
}

async function runAll(
  context: RunContext,
  statements: readonly Runnable[],
  label: string,
  progress?: Progress,
  signal?: AbortSignal,
  batching?: Batching,
) {
  let rowsAffected = 0;
  const outcome = await runStatements(
    statements,
    async (statement) => {
      if (statement.batch && batching) {
        const plan = await planBatch(statement, statement.batch);
        const startAfter = batching.resume?.statement === statement.index ? batching.resume.key : undefined;
        const run = await runBatches(context.client, plan, {
          ...(batching.limit !== undefined ? { limit: batching.limit } : {}),
          ...(startAfter !== undefined ? { startAfter } : {}),
          done: rowsAffected,
          ...(progress ? { progress } : {}),
          ...(signal ? { signal } : {}),
          onBatch: (state) =>
            recordResumePoint(context.client, batching.request.ledger, {
              statement: statement.index,
              key: state.lastKey ?? '',
              rows: state.rows,
            }),
        });
        rowsAffected += run.rows;
        if (run.stoppedAtLimit) {
          throw Object.assign(
            new Error(
              `max_row_backfill ${batching.limit} reached after ${rowsAffected} row(s) with rows still to do; stopped before the next batch`,
            ),
            { code: 'LIMIT_EXCEEDED' },
          );
        }
        return;
      }
      const result = await context.client.query(statement.text);
      if (statementFacts(statement).data) rowsAffected += result.rowCount ?? 0;
    },
    { label, describe: describe(context), ...(progress ? { progress } : {}), ...(signal ? { signal } : {}) },
  );
  return { ...outcome, rowsAffected };
}

/** Every statement with its group and whether it ran, for the receipt. */
function runsOf(
  groups: Parameters<typeof statementRuns>[0],
  statements: readonly Runnable[],
  outcome: { completed: number; failure?: LoopFailure<Runnable> },
) {
  const through = outcome.failure ? outcome.failure.statement.index : (statements[statements.length - 1]?.index ?? -1);
  return statementRuns(
    groups,
    outcome.failure ? { failedIndex: through, lastRunIndex: through } : { lastRunIndex: through },
  );
}

/** Session timeouts from the declaration; set_config takes them as values, so nothing is spliced into SQL. */
async function setTimeouts(
  client: ClientBase,
  declaration: MigrationDeclaration,
  local: boolean,
): Promise<{ lock: string; statement: string }> {
  const { rows } = await client.query(
    `SELECT current_setting('lock_timeout') AS lock, current_setting('statement_timeout') AS statement,
            set_config('lock_timeout', $1, $3), set_config('statement_timeout', $2, $3)`,
    [
      declaration.runner.lock_timeout ?? DEFAULT_LOCK_TIMEOUT,
      declaration.runner.statement_timeout ?? DEFAULT_STATEMENT_TIMEOUT,
      local,
    ],
  );
  return rows[0] as { lock: string; statement: string };
}

async function restoreTimeouts(client: ClientBase, previous: { lock: string; statement: string }): Promise<void> {
  // Best effort, from a finally block: a dead connection must not hide the run's own outcome.
  await client
    .query(`SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)`, [
      previous.lock,
      previous.statement,
    ])
    .catch(() => undefined);
}

function statementIssue(
  code: 'STATEMENT_FAILED' | 'ROLLBACK_FAILED' | 'LEASE_LOST',
  failure: LoopFailure<Runnable>,
): Issue {
  const { statement, message } = failure;
  const issueCode =
    failure.code === 'LEASE_LOST' ? 'LEASE_LOST' : failure.code === 'LIMIT_EXCEEDED' ? 'LIMIT_EXCEEDED' : code;
  return {
    code: issueCode,
    message: `${statement.node} failed: ${message}`,
    file: statement.file,
    line: statement.line,
  };
}

function parseIssue(
  code: 'STATEMENT_FAILED' | 'ROLLBACK_FAILED',
  failure: { file: string; line: number; column: number; message: string },
): Issue {
  return {
    code,
    message: `does not parse: ${failure.message}`,
    file: failure.file,
    line: failure.line,
    column: failure.column,
  };
}

type RowCounts = Map<string, { schema: string; table: string; inserted: number; updated: number; deleted: number }>;

/**
 * The session's row counters per table, as the server counts them. `pg_stat_xact_user_tables` counts every
 * insert, update and delete — from the script, from dynamic SQL in DO blocks and functions, and from
 * triggers — so writes the parser could not see are observed. It also still holds counts of the session's
 * earlier transactions until they are flushed (which never happens inside a transaction block), so the
 * run reads it right after BEGIN and again at the commit point, and keeps the difference.
 */
/** Rows of a pg_stat_*_user_tables reading, by table OID. */
function countsByTable(rows: readonly Record<string, unknown>[]): RowCounts {
  return new Map(
    rows.map((row) => [
      String(row.id),
      {
        schema: String(row.schema),
        table: String(row.table),
        inserted: Number(row.inserted),
        updated: Number(row.updated),
        deleted: Number(row.deleted),
      },
    ]),
  );
}

const COUNTER_COLUMNS = `relid::text AS id, schemaname AS schema, relname AS table, n_tup_ins::text AS inserted, n_tup_upd::text AS updated, n_tup_del::text AS deleted`;

export async function rowCounters(client: ClientBase): Promise<RowCounts> {
  const { rows } = await client.query(
    `SELECT ${COUNTER_COLUMNS}
       FROM pg_stat_xact_user_tables
      WHERE (n_tup_ins + n_tup_upd + n_tup_del) > 0 AND schemaname !~ '^pg_temp_'`,
  );
  return countsByTable(rows);
}

/**
 * Cumulative row counters of every user table in this database (`pg_stat_user_tables`), for runs without
 * a transaction: this session's own pending counts are flushed first (PostgreSQL 15+ reports them when the
 * backend goes idle after pg_stat_force_next_flush), and the stats snapshot is cleared so the read is fresh.
 * Other sessions' writes are in these figures too: the resulting data changes are approximate.
 */
export async function cumulativeRowCounters(client: ClientBase): Promise<RowCounts> {
  await client.query('SELECT pg_stat_force_next_flush()');
  await client.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await client.query(
    `SELECT ${COUNTER_COLUMNS}
       FROM pg_stat_user_tables WHERE schemaname !~ '^pg_temp_' AND schemaname <> $1`,
    // The runner's own ledger rows (the started mark, batch resume points) are not the migration's writes;
    // a script naming kfm_ledger is refused at preflight, and dynamic SQL without a commit point too.
    [LEDGER_SCHEMA],
  );
  return countsByTable(rows);
}

type Storage = Map<string, { schema: string; table: string; filenode: string }>;

/**
 * The storage (relfilenode) of every user table and materialized view. TRUNCATE moves no row counter —
 * it gives the table new, empty storage — and neither does a rewrite (ALTER TABLE … TYPE, CLUSTER,
 * REFRESH MATERIALIZED VIEW): a table whose storage changed during the run was written, whatever the
 * counters say. Temporary and toast tables are left out; a table created during the run is not in the
 * first reading (the baseline diff sees it).
 */
export async function tableStorage(client: ClientBase): Promise<Storage> {
  const { rows } = await client.query(
    `SELECT c.oid::text AS id, n.nspname AS schema, c.relname AS table, c.relfilenode::text AS filenode
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        AND n.nspname !~ '^pg_(temp|toast)'`,
  );
  return new Map(
    rows.map((row) => [
      String(row.id),
      { schema: String(row.schema), table: String(row.table), filenode: String(row.filenode) },
    ]),
  );
}

/** Data changes of tables and of sequences, one entry per object, counts merged. */
function mergeChanges(tables: DataChange[], sequences: DataChange[]): DataChange[] {
  const merged = new Map(tables.map((change) => [change.object, { ...change, counts: { ...change.counts } }]));
  for (const change of sequences) {
    const existing = merged.get(change.object);
    if (existing) existing.counts.sequence_moved = (Number(existing.counts.sequence_moved) || 0) + 1;
    else merged.set(change.object, change);
  }
  return [...merged.values()].sort((a, b) => (a.object < b.object ? -1 : a.object > b.object ? 1 : 0));
}

/**
 * Rows changed between two readings of rowCounters, per table (temporary tables end with the session and are
 * left out); with two readings of tableStorage, a table whose storage was replaced counts `rewritten: 1`.
 */
export function dataChangesSince(
  before: RowCounts,
  after: RowCounts,
  storage?: { before: Storage; after: Storage },
): DataChange[] {
  const changes: DataChange[] = [];
  const rewritten = new Set<string>();
  for (const [id, now] of storage?.after ?? []) {
    const then = storage?.before.get(id);
    if (then && then.filenode !== now.filenode) rewritten.add(id);
  }
  // A rewritten table may have no counter row at all (TRUNCATE counts nothing): zero counts then.
  const tables = new Map(after);
  for (const id of rewritten) {
    const table = storage?.after.get(id);
    if (table && !tables.has(id)) tables.set(id, { ...table, inserted: 0, updated: 0, deleted: 0 });
  }
  for (const [id, now] of tables) {
    const then = before.get(id);
    const counts = {
      deleted: now.deleted - (then?.deleted ?? 0),
      inserted: now.inserted - (then?.inserted ?? 0),
      updated: now.updated - (then?.updated ?? 0),
    };
    const replaced = rewritten.has(id);
    if (counts.deleted + counts.inserted + counts.updated === 0 && !replaced) continue;
    changes.push({
      object: `${now.schema}.${now.table}`,
      kind: 'table',
      scope: { schemas: [now.schema], tables: tableAliases(now.schema, now.table) },
      counts: replaced ? { ...counts, rewritten: 1 } : counts,
    });
  }
  return changes.sort((a, b) => (a.object < b.object ? -1 : a.object > b.object ? 1 : 0));
}

export async function applyForward(context: RunContext, request: ApplyRequest): Promise<ApplyResult> {
  const split = await splitScripts(request.scripts);
  if (!split.ok)
    return { status: 'failed', atPre: true, metrics: {}, failure: parseIssue('STATEMENT_FAILED', split.failure) };
  const statements = runnable(split.statements, new Map(request.scripts.map((script) => [script.path, script.text])));
  return request.transactional
    ? withLockRetries(context, request, () => applyInTransaction(context, request, statements))
    : applyAutocommit(context, request, statements);
}

const LOCK_NOT_AVAILABLE = '55P03';

/** Who holds a granted lock on the tables a statement names (the session that made it time out). */
async function blockersOf(context: RunContext, statement: Runnable): Promise<string | undefined> {
  const tables = statementFacts(statement)
    .objects.filter((object) => object.table)
    .map((object) => `${object.schema}.${object.table}`);
  if (tables.length === 0) return undefined;
  const { rows } = await context.client.query(
    `SELECT DISTINCT a.pid, a.application_name, a.query_start
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.granted AND l.pid <> pg_backend_pid() AND l.relation = ANY (SELECT to_regclass(t)::oid FROM unnest($1::text[]) AS t)
      ORDER BY a.pid`,
    [tables],
  );
  if (rows.length === 0) return undefined;
  return rows
    .map(
      (row: { pid: number; application_name: string; query_start: Date | null }) =>
        `pid ${row.pid} (application_name "${row.application_name}", query started ${row.query_start?.toISOString() ?? 'unknown'})`,
    )
    .join(', ');
}

/**
 * A transactional run that fails on lock_timeout has committed nothing: roll back and run the whole
 * transaction again, with exponential backoff and full jitter, up to the policy's attempts and total
 * wait. Each attempt is reported (and recorded in the receipt); the last failure names the blocker.
 */
async function withLockRetries(
  context: RunContext,
  request: ApplyRequest,
  attemptOnce: () => Promise<ApplyResult & { blockedAt?: Runnable }>,
): Promise<ApplyResult> {
  const maxAttempts = Math.max(1, request.retries?.attempts ?? 1);
  const maxWaitMs = request.retries?.maxWaitMs ?? 0;
  const attempts: NonNullable<ApplyResult['attempts']> = [];
  let waitedTotal = 0;
  let waitedBefore = 0;
  for (let attempt = 1; ; attempt++) {
    const { blockedAt, ...result } = await attemptOnce();
    if (!blockedAt) {
      if (attempts.length === 0) return result;
      attempts.push({ attempt, waited_ms: waitedBefore, outcome: result.status });
      return { ...result, attempts };
    }
    const blocker = await blockersOf(context, blockedAt).catch(() => undefined);
    attempts.push({
      attempt,
      waited_ms: waitedBefore,
      outcome: 'lock_not_available',
      code: 'LOCK_NOT_AVAILABLE',
      ...(blocker ? { blocker } : {}),
    });
    const failure = {
      ...result.failure!,
      code: 'LOCK_NOT_AVAILABLE' as const,
      message: `${result.failure?.message ?? 'lock not available'}${blocker ? `; blocked by ${blocker}` : ''} (attempt ${attempt} of ${maxAttempts})`,
    };
    const budget = maxWaitMs - waitedTotal;
    if (attempt >= maxAttempts || budget <= 0 || request.signal?.aborted) return { ...result, failure, attempts };
    const delay = Math.min(budget, Math.round(Math.random() * Math.min(10_000, 250 * 2 ** attempt)));
    request.progress?.(
      `lock not available${blocker ? ` (held by ${blocker})` : ''}; attempt ${attempt + 1} of ${maxAttempts} in ${delay} ms`,
    );
    await new Promise((resolve) => setTimeout(resolve, delay));
    waitedTotal += delay;
    waitedBefore = delay;
  }
}

async function applyInTransaction(
  context: RunContext,
  request: ApplyRequest,
  statements: Runnable[],
): Promise<ApplyResult & { blockedAt?: Runnable }> {
  const { client } = context;
  const groups = [{ group: 0, transaction: true, statements }];
  const marker = await plantSessionMarker(client);
  await client.query('BEGIN');
  const lockedAt = performance.now();
  try {
    const countersAtBegin = await rowCounters(client);
    const storageAtBegin = await tableStorage(client);
    const watch = await watchTransaction(client, marker);
    // Sequence moves outlive ROLLBACK: after one, put back what this session moved (currval still answers).
    const rollBack = async (): Promise<boolean> => {
      if (client.getTransactionStatus() !== 'I') await client.query('ROLLBACK');
      return watch.restore(request.progress);
    };
    await setTimeouts(client, request.declaration, true);
    const outcome = await runAll(context, statements, 'forward', request.progress, request.signal);
    const runs = runsOf(groups, statements, outcome);
    const metrics: Record<string, number> = { statements: outcome.completed, rows_affected: outcome.rowsAffected };
    if (outcome.failure) {
      const atPre = await rollBack();
      return {
        status: 'failed',
        atPre,
        metrics,
        statements: runs,
        failure: statementIssue('STATEMENT_FAILED', outcome.failure),
        ...(outcome.failure.code === LOCK_NOT_AVAILABLE ? { blockedAt: outcome.failure.statement } : {}),
      };
    }
    // Writes into the runner's own ledger are observed like any other (no migration may touch it).
    const data = mergeChanges(
      dataChangesSince(countersAtBegin, await rowCounters(client), {
        before: storageAtBegin,
        after: await tableStorage(client),
      }),
      await watch.changes(),
    );
    const captureStart = performance.now();
    const post = await capturePostgisBaseline(client, request.baseline, context.cache);
    metrics.post_capture_ms = Math.round(performance.now() - captureStart);
    const decision = await commitPoint({
      request,
      post,
      metrics,
      data,
      commit: async () => {
        await recordLedgerEntry(client, request.ledger);
        await client.query('COMMIT');
        metrics.lock_held_ms = Math.round(performance.now() - lockedAt);
      },
      abort: async () => void (await client.query('ROLLBACK')),
      describe: (error) => errorText(error, context.sanitize),
    });
    if (decision.status === 'committed')
      return { status: 'committed', atPre: false, post, metrics, data, statements: runs };
    // A refused, lease-lost or failed commit: the server rolled everything back (deferred constraints fail at COMMIT).
    const atPre = await rollBack().catch(() => false);
    return {
      status: decision.status,
      atPre,
      post,
      metrics,
      data,
      statements: runs,
      ...(decision.failure ? { failure: decision.failure } : {}),
    };
  } catch (error) {
    // A fault (capture, decide, ledger, connection): nothing may stay half-done.
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

async function applyAutocommit(
  context: RunContext,
  request: ApplyRequest,
  statements: Runnable[],
): Promise<ApplyResult> {
  const { client } = context;
  const groups = transactionGroups(statements.map((statement) => ({ ...statement, transactional: false })));
  const previous = await setTimeouts(client, request.declaration, false);
  try {
    const countersBefore = await cumulativeRowCounters(client);
    const storageBefore = await tableStorage(client);
    const sequencesBefore = await sequencePositions(client);
    // Resuming: statements before the interrupted one completed in the earlier run.
    const resume =
      request.resume && typeof request.resume.statement === 'number'
        ? {
            statement: request.resume.statement,
            ...(request.resume.key !== undefined && request.resume.key !== ''
              ? { key: String(request.resume.key) }
              : {}),
          }
        : undefined;
    const limit = request.declaration.limits?.max_row_backfill;
    const outcome = await runAll(
      context,
      resume ? statements.filter((statement) => statement.index >= resume.statement) : statements,
      'forward (autocommit)',
      request.progress,
      request.signal,
      { request, ...(typeof limit === 'number' ? { limit } : {}), ...(resume ? { resume } : {}) },
    );
    const runs = runsOf(groups, statements, outcome);
    const metrics = { statements: outcome.completed, rows_affected: outcome.rowsAffected };
    if (outcome.failure) {
      // Only a first statement that failed inside its own implicit transaction leaves nothing behind;
      // a failed CREATE INDEX CONCURRENTLY, for one, leaves an invalid index.
      // (A batched statement commits batch by batch: never at PRE once it has started.)
      const atPre = outcome.completed === 0 && outcome.failure.statement.transactional;
      return {
        status: 'failed',
        atPre,
        metrics,
        statements: runs,
        failure: statementIssue('STATEMENT_FAILED', outcome.failure),
      };
    }
    // Without a transaction there is no exact per-run counter: cumulative deltas, marked approximate.
    const data = mergeChanges(
      dataChangesSince(countersBefore, await cumulativeRowCounters(client), {
        before: storageBefore,
        after: await tableStorage(client),
      }),
      (await sequenceChangesSince(client, sequencesBefore, await sequencePositions(client), false)).changes,
    ).map((change) => ({
      ...change,
      approximate: true,
    }));
    const post = await capturePostgisBaseline(client, request.baseline, context.cache);
    const decision = await commitPoint({
      request,
      post,
      metrics,
      data,
      commit: () => recordLedgerEntry(client, request.ledger),
      abort: async () => undefined,
      describe: (error) => errorText(error, context.sanitize),
    });
    if (decision.status === 'committed')
      return { status: 'committed', atPre: false, post, metrics, data, statements: runs };
    // Everything ran in autocommit: the change is visible, the rollback script is the safety net.
    return {
      status: 'applied',
      atPre: false,
      post,
      metrics,
      data,
      statements: runs,
      ...(decision.failure ? { failure: decision.failure } : {}),
    };
  } finally {
    await restoreTimeouts(client, previous);
  }
}

/** Runs the rollback scripts: in one transaction when every statement allows it, else in autocommit. */
export async function applyRollback(
  context: RunContext,
  scripts: readonly ScriptFile[],
  declaration: MigrationDeclaration,
  progress?: Progress,
): Promise<RollbackResult> {
  const split = await splitScripts(scripts);
  if (!split.ok) return { ok: false, failure: parseIssue('ROLLBACK_FAILED', split.failure) };
  const statements = runnable(split.statements);
  const { client } = context;
  const transactional = statements.every((statement) => statement.transactional);
  const groups = transactional
    ? [{ group: 0, transaction: true, statements }]
    : transactionGroups(statements.map((statement) => ({ ...statement, transactional: false })));
  if (!transactional) {
    const previous = await setTimeouts(client, declaration, false);
    try {
      const outcome = await runAll(context, statements, 'rollback (autocommit)', progress);
      return outcome.failure
        ? {
            ok: false,
            statements: runsOf(groups, statements, outcome),
            failure: statementIssue('ROLLBACK_FAILED', outcome.failure),
          }
        : { ok: true, statements: runsOf(groups, statements, outcome) };
    } finally {
      await restoreTimeouts(client, previous);
    }
  }
  await client.query('BEGIN');
  try {
    await setTimeouts(client, declaration, true);
    const outcome = await runAll(context, statements, 'rollback', progress);
    if (outcome.failure) {
      await client.query('ROLLBACK');
      return {
        ok: false,
        statements: runsOf(groups, statements, outcome),
        failure: statementIssue('ROLLBACK_FAILED', outcome.failure),
      };
    }
    await client.query('COMMIT');
    return { ok: true, statements: runsOf(groups, statements, outcome) };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
