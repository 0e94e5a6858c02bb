// Batched backfills for busy tables. A forward UPDATE or DELETE preceded by
//   -- kfm-batch: key=<column> size=<n> [pause=<ms>]
// runs in key-ordered batches, each its own transaction (so only in `transactional: false` bundles): the
// statement's own WHERE is kept and extended, through the parse tree, with the next `size` keys after the
// last one done. Progress shows rows done against the planner's estimate; the cumulative rows are checked
// against `max_row_backfill` before every batch, so the limit is never exceeded; the last key done goes to
// the ledger, so `apply --resume` continues from there after a crash.
import type { ClientBase } from 'pg';
import { commentsAbove, type ParsedStatement } from './statements.js';

export interface BatchDirective {
  key: string;
  size: number;
  pauseMs: number;
}

type Node = Record<string, unknown>;

const DIRECTIVE = /^--\s*kfm-batch:\s*(.+)$/;

/** The directive in the comment lines right above a statement; an error names what is wrong with it. */
export function batchDirective(source: string, line: number): BatchDirective | { error: string } | undefined {
  for (const text of commentsAbove(source, line)) {
    const match = DIRECTIVE.exec(text);
    if (!match) continue;
    const fields = Object.fromEntries(
      match[1]!
        .trim()
        .split(/\s+/)
        .map((pair) => pair.split('=') as [string, string]),
    );
    const key = fields.key;
    const size = Number(fields.size);
    const pauseMs = fields.pause === undefined ? 0 : Number(fields.pause);
    if (!key || !/^[a-z_][a-z0-9_]*$/.test(key))
      return { error: 'kfm-batch needs key=<column> (a lower-case column name)' };
    if (!Number.isSafeInteger(size) || size < 1) return { error: 'kfm-batch needs size=<n>, a positive integer' };
    if (!Number.isSafeInteger(pauseMs) || pauseMs < 0)
      return { error: 'kfm-batch pause=<ms> must be a non-negative integer' };
    const unknown = Object.keys(fields).filter((name) => !['key', 'size', 'pause'].includes(name));
    if (unknown.length) return { error: `kfm-batch does not know ${unknown.join(', ')} (key, size, pause)` };
    return { key, size, pauseMs };
  }
  return undefined;
}

/** Why a statement cannot be batched, or undefined when it can. */
export function batchRefusal(statement: Pick<ParsedStatement, 'node' | 'ast'>): string | undefined {
  if (statement.node !== 'UpdateStmt' && statement.node !== 'DeleteStmt')
    return 'kfm-batch applies to an UPDATE or DELETE only';
  if (((statement.ast.returningList as unknown[]) ?? []).length > 0)
    return 'a batched statement cannot have RETURNING (the runner returns the keys)';
  if (statement.ast.withClause) return 'a batched statement cannot have a WITH clause';
  return undefined;
}

export interface BatchPlan {
  directive: BatchDirective;
  table: string;
  /** The statement for the first batch ($1 = limit) and for every later one ($1 = limit, $2 = last key). */
  first: string;
  next: string;
  /** The statement's rows as a SELECT (for the planner's estimate, shown with progress). */
  estimate: string;
  /** Is there a row left after key $1? */
  remaining: string;
}

const column = (name: string): Node => ({ ColumnRef: { fields: [{ String: { sval: name } }] } });
const param = (n: number): Node => ({ ParamRef: { number: n } });
const op = (name: string, left: Node, right: Node): Node => ({
  A_Expr: { kind: 'AEXPR_OP', name: [{ String: { sval: name } }], lexpr: left, rexpr: right },
});
const and = (...args: (Node | undefined)[]): Node | undefined => {
  const present = args.filter((arg): arg is Node => arg !== undefined);
  return present.length === 0
    ? undefined
    : present.length === 1
      ? present[0]
      : { BoolExpr: { boolop: 'AND_EXPR', args: present } };
};

/** Builds the batch statements from the parse tree: WHERE (<own>) AND key IN (next keys after $2, LIMIT $1). */
export async function planBatch(statement: ParsedStatement, directive: BatchDirective): Promise<BatchPlan> {
  const { deparse } = await import('pgsql-deparser');
  const body = structuredClone(statement.ast) as Node;
  const relation = body.relation as Node;
  const table = `${typeof relation.schemaname === 'string' ? `${relation.schemaname}.` : ''}${String(relation.relname)}`;
  const own = body.whereClause as Node | undefined;
  const keys = (after: boolean): Node => ({
    SubLink: {
      subLinkType: 'ANY_SUBLINK',
      testexpr: column(directive.key),
      operName: [{ String: { sval: '=' } }],
      subselect: {
        SelectStmt: {
          targetList: [{ ResTarget: { val: column(directive.key) } }],
          fromClause: [{ RangeVar: { ...relation, alias: undefined } }],
          whereClause: and(structuredClone(own), after ? op('>', column(directive.key), param(2)) : undefined),
          sortClause: [
            { SortBy: { node: column(directive.key), sortby_dir: 'SORTBY_ASC', sortby_nulls: 'SORTBY_NULLS_DEFAULT' } },
          ],
          limitCount: param(1),
          limitOption: 'LIMIT_OPTION_COUNT',
          op: 'SETOP_NONE',
        },
      },
    },
  });
  const variant = async (after: boolean) => {
    const copy = structuredClone(body);
    copy.whereClause = and(structuredClone(own), keys(after));
    copy.returningList = [{ ResTarget: { val: column(directive.key) } }];
    return deparse({ [statement.node]: copy } as never);
  };
  const estimate = await deparse({
    SelectStmt: {
      targetList: [{ ResTarget: { val: { A_Const: { ival: { ival: 1 } } } } }],
      fromClause: [{ RangeVar: relation }],
      whereClause: own,
      limitOption: 'LIMIT_OPTION_DEFAULT',
      op: 'SETOP_NONE',
    },
  } as never);
  const remaining = await deparse({
    SelectStmt: {
      targetList: [{ ResTarget: { val: column(directive.key) } }],
      fromClause: [{ RangeVar: relation }],
      whereClause: and(structuredClone(own), op('>', column(directive.key), param(1))),
      limitCount: { A_Const: { ival: { ival: 1 } } },
      limitOption: 'LIMIT_OPTION_COUNT',
      op: 'SETOP_NONE',
    },
  } as never);
  return { directive, table, first: await variant(false), next: await variant(true), estimate, remaining };
}

export interface BatchProgress {
  rows: number;
  lastKey?: string;
  batches: number;
}

export interface BatchRun extends BatchProgress {
  /** Set when the next batch could exceed `limit` with rows still to do: the run stops there. */
  stoppedAtLimit?: boolean;
}

/** Runs the batches in autocommit, each its own transaction; `onBatch` runs after each commit. */
export async function runBatches(
  client: ClientBase,
  plan: BatchPlan,
  options: {
    limit?: number;
    startAfter?: string;
    /** Rows already done (by earlier statements or a run being resumed), counted against the limit. */
    done?: number;
    progress?: (message: string, amount?: { done: number; total?: number; unit?: string }) => void;
    signal?: AbortSignal;
    onBatch?: (state: BatchProgress) => Promise<void>;
  },
): Promise<BatchRun> {
  const explained = await client.query(`EXPLAIN (FORMAT JSON) ${plan.estimate}`);
  const total = Math.round(
    Number(
      (explained.rows[0] as { 'QUERY PLAN': { Plan: { 'Plan Rows': number } }[] })['QUERY PLAN'][0]?.Plan[
        'Plan Rows'
      ] ?? 0,
    ),
  );
  const state: BatchProgress = {
    rows: 0,
    batches: 0,
    ...(options.startAfter !== undefined ? { lastKey: options.startAfter } : {}),
  };
  const already = options.done ?? 0;
  for (;;) {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('the store lease was lost');
    let size = plan.directive.size;
    if (options.limit !== undefined) {
      const allowance = options.limit - already - state.rows;
      if (allowance <= 0) {
        // The limit is used up: stop if anything is left to do (the next batch would exceed it).
        const left =
          state.lastKey === undefined
            ? await client.query(`SELECT 1 FROM (${plan.estimate}) AS remaining LIMIT 1`)
            : await client.query(plan.remaining, [state.lastKey]);
        return { ...state, ...((left.rowCount ?? 0) > 0 ? { stoppedAtLimit: true } : {}) };
      }
      size = Math.min(size, allowance);
    }
    const result = await client.query(
      state.lastKey === undefined ? plan.first : plan.next,
      state.lastKey === undefined ? [size] : [size, state.lastKey],
    );
    const keys = (result.rows as Record<string, unknown>[]).map((row) => row[plan.directive.key]);
    if (keys.length === 0) return state;
    state.rows += result.rowCount ?? keys.length;
    state.batches += 1;
    state.lastKey = String(keys.reduce((max, key) => (compareKeys(key, max) > 0 ? key : max)));
    options.progress?.(
      `batch ${state.batches} of ${plan.table}: ${state.rows} row(s), last ${plan.directive.key} ${state.lastKey}`,
      { done: already + state.rows, total: Math.max(total, already + state.rows), unit: 'rows' },
    );
    await options.onBatch?.(state);
    if (plan.directive.pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, plan.directive.pauseMs));
  }
}

function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  const [x, y] = [String(a), String(b)];
  // Integer keys come back as strings for bigint: compare them as numbers when both are.
  if (/^-?\d+$/.test(x) && /^-?\d+$/.test(y)) return BigInt(x) < BigInt(y) ? -1 : BigInt(x) > BigInt(y) ? 1 : 0;
  return x < y ? -1 : x > y ? 1 : 0;
}
