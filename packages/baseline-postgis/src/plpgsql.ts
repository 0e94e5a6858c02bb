// PL/pgSQL read as far as it can be: DO blocks and plpgsql function bodies parsed with PostgreSQL's own
// PL/pgSQL grammar (@libpg-query/parser, the same project as the SQL parser), every static statement and
// expression turned back into SQL for the checks a script's own statements get. What cannot be read —
// EXECUTE and its kin, transaction control, a construct this reader does not know — is named, and the
// caller keeps treating the body as opaque.
import type { ParsedStatement } from './statements.js';
import { splitScript } from './statements.js';

export interface PlpgsqlReading {
  /** The body's static statements and expressions as SQL; `file` names the body, `line` is the body's line. */
  statements: ParsedStatement[];
  /** Why the body cannot be read completely, when it cannot (the first reason, with its body line). */
  unreadable?: string;
}

type Node = Record<string, unknown>;

/** Statements in a body that define or run code preflight would have to follow into: not followed. */
const DEFINES_CODE = new Set([
  'CreateFunctionStmt',
  'AlterFunctionStmt',
  'DoStmt',
  'PrepareStmt',
  'ExecuteStmt',
  'CreateTrigStmt',
  'RuleStmt',
  'CreateEventTrigStmt',
  'DefineStmt',
  'CreateCastStmt',
  'CreateOpClassStmt',
]);

/** Statements whose SQL is all in their expressions (walked below); dynamic forms are checked apart. */
const KNOWN_STATEMENTS = new Set([
  'block',
  'assign',
  'if',
  'case',
  'loop',
  'while',
  'fori',
  'fors',
  'forc',
  'foreach_a',
  'exit',
  'return',
  'return_next',
  'return_query',
  'raise',
  'assert',
  'execsql',
  'perform',
  'call',
  'getdiag',
  'open',
  'fetch',
  'close',
]);

type Scan = (query: string) => Promise<{ tokens: { start: number; end: number; text: string; tokenName: string }[] }>;

/**
 * The text a PLpgSQL_expr holds, as a statement the SQL parser takes (by PostgreSQL's RawParseMode), or
 * undefined when it cannot be turned into one. An assignment's target is evaluated too (its subscripts are
 * expressions since PostgreSQL 14), so it is kept: `target := expr` becomes `SELECT target, (expr)`, split
 * at the first `:=` or `=` token outside brackets (the scanner skips strings and comments).
 */
async function asSql(query: string, mode: number, scan: Scan): Promise<string | undefined> {
  if (mode === 0) return query; // a whole statement
  if (mode === 2) return `SELECT ${query}`; // an expression
  if (mode < 3 || mode > 5) return undefined; // a type name
  const bytes = Buffer.from(query, 'utf8');
  let depth = 0;
  for (const token of (await scan(query)).tokens) {
    if (token.text === '(' || token.text === '[') depth++;
    else if (token.text === ')' || token.text === ']') depth--;
    else if (depth === 0 && (token.text === ':=' || token.text === '=')) {
      const target = bytes.subarray(0, token.start).toString('utf8');
      const value = bytes.subarray(token.end).toString('utf8');
      return `SELECT ${target}, (${value})`;
    }
  }
  return undefined;
}

interface Found {
  expressions: { query: string; mode: number; line: number }[];
  unreadable?: string;
}

function walk(value: unknown, line: number, found: Found): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, line, found);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value as Node)) {
    if (key === 'PLpgSQL_expr') {
      const expr = child as { query?: unknown; parseMode?: unknown };
      found.expressions.push({ query: String(expr.query ?? ''), mode: Number(expr.parseMode ?? 0), line });
      continue;
    }
    if (!key.startsWith('PLpgSQL_stmt_')) {
      walk(child, line, found);
      continue;
    }
    const statement = (child ?? {}) as Node;
    const at = typeof statement.lineno === 'number' ? statement.lineno : line;
    const kind = key.slice('PLpgSQL_stmt_'.length);
    let why: string | undefined;
    if (kind === 'dynexecute' || kind === 'dynfors' || statement.dynquery !== undefined)
      why = `EXECUTE at line ${at} of the body runs a query given as a string`;
    else if (kind === 'commit' || kind === 'rollback')
      why = `${kind.toUpperCase()} at line ${at} of the body ends the transaction the run is observed in`;
    else if (!KNOWN_STATEMENTS.has(kind)) why = `a ${kind} statement at line ${at} of the body`;
    if (why && !found.unreadable) found.unreadable = why;
    walk(statement, at, found);
  }
}

/**
 * Reads a DO statement or a CREATE FUNCTION … LANGUAGE plpgsql statement (its text exactly as in the script).
 * `label` names the body in findings (`DO block`, `public.audit()`).
 */
export async function readPlpgsql(text: string, label: string): Promise<PlpgsqlReading> {
  let tree: { plpgsql_funcs?: { PLpgSQL_function?: Node }[] };
  let scan: Scan;
  try {
    // Its WebAssembly loads on first use: only scripts with PL/pgSQL pay for it.
    const parser = await import('@libpg-query/parser');
    scan = parser.scan as unknown as Scan;
    tree = (await parser.parsePlPgSQL(text)) as typeof tree;
  } catch (error) {
    return { statements: [], unreadable: `the body does not parse as PL/pgSQL (${(error as Error).message})` };
  }
  const functions = tree.plpgsql_funcs ?? [];
  if (functions.length !== 1)
    return {
      statements: [],
      unreadable: `the PL/pgSQL parser found ${functions.length} bodies where one was expected`,
    };
  const found: Found = { expressions: [] };
  walk(functions[0]?.PLpgSQL_function ?? {}, 1, found);
  const statements: ParsedStatement[] = [];
  for (const expression of found.expressions) {
    if (expression.mode === 1) continue; // a type name
    const sql = await asSql(expression.query, expression.mode, scan).catch(() => undefined);
    if (sql === undefined)
      return { statements, unreadable: `an expression at line ${expression.line} of the body cannot be read` };
    const parsed = await splitScript(label, sql);
    if (!parsed.ok)
      return {
        statements,
        unreadable: `an expression at line ${expression.line} of the body does not parse (${parsed.failure.message})`,
      };
    for (const inner of parsed.statements) {
      // Code defined inside a body (a function, a DO block, a prepared statement run later) is not followed.
      if (DEFINES_CODE.has(inner.node) && !found.unreadable)
        found.unreadable = `it defines or runs code of its own at line ${expression.line} of the body (${inner.node})`;
      statements.push({ ...inner, line: expression.line });
    }
  }
  return found.unreadable ? { statements, unreadable: found.unreadable } : { statements };
}
