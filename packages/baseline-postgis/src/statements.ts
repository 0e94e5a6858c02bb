// Splits SQL scripts into statements with the real PostgreSQL parser (libpg-query, WASM), keeping
// file and line for every statement so findings and run-time failures point at the source.
import type { ScriptFile } from '@kfm/migration-contracts';

export interface ParsedStatement {
  /** 0-based position across all scripts, in run order. */
  index: number;
  file: string;
  /** 1-based line of the statement's first token (leading comments skipped). */
  line: number;
  /** The statement text exactly as written, sent to the server as is. */
  text: string;
  /** The parse tree node name (e.g. IndexStmt) and its body. */
  node: string;
  ast: Record<string, unknown>;
}

export interface ParseFailure {
  file: string;
  line: number;
  column: number;
  message: string;
}

export type SplitResult = { ok: true; statements: ParsedStatement[] } | { ok: false; failure: ParseFailure };

interface RawStatement {
  stmt: Record<string, Record<string, unknown>>;
  stmt_location?: number;
  stmt_len?: number;
}

/** Parses every script in order; the first script that does not parse stops the split. */
export async function splitScripts(scripts: readonly ScriptFile[]): Promise<SplitResult> {
  const statements: ParsedStatement[] = [];
  for (const script of scripts) {
    const result = await splitScript(script.path, script.text, statements.length);
    if (!result.ok) return result;
    statements.push(...result.statements);
  }
  return { ok: true, statements };
}

export async function splitScript(file: string, text: string, firstIndex = 0): Promise<SplitResult> {
  // The parser refuses an empty input; an empty (or whitespace-only) script simply holds no statement.
  if (text.trim() === '') return { ok: true, statements: [] };
  let tree: { stmts?: RawStatement[] };
  try {
    // The parser (WebAssembly) loads on first use: commands that parse no SQL do not pay for it.
    const { parse } = await import('libpg-query');
    tree = (await parse(text)) as { stmts?: RawStatement[] };
  } catch (error) {
    const details = (error as { sqlDetails?: { cursorPosition?: number } }).sqlDetails;
    // The parser reports a 0-based character position; the statement offsets below are bytes.
    const { line, column } = lineAndColumn(text, details?.cursorPosition ?? 0);
    return { ok: false, failure: { file, line, column, message: (error as Error).message } };
  }
  const bytes = Buffer.from(text, 'utf8');
  const statements: ParsedStatement[] = [];
  for (const raw of tree.stmts ?? []) {
    const start = raw.stmt_location ?? 0;
    // libpg_query leaves stmt_len at 0 for a last statement that runs to the end of the text.
    const end = raw.stmt_len ? start + raw.stmt_len : bytes.length;
    const chunk = bytes.subarray(start, end).toString('utf8');
    const prefix = bytes.subarray(0, start).toString('utf8');
    const node = Object.keys(raw.stmt)[0] ?? 'Unknown';
    statements.push({
      index: firstIndex + statements.length,
      file,
      line: lineAndColumn(text, prefix.length + leadingTrivia(chunk)).line,
      text: chunk.trim(),
      node,
      ast: raw.stmt[node] ?? {},
    });
  }
  return { ok: true, statements };
}

/** 1-based line and column of a character offset. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < Math.min(offset, text.length); i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** Length of the whitespace and comments before a statement's first token. */
function leadingTrivia(chunk: string): number {
  let i = 0;
  for (;;) {
    while (i < chunk.length && /\s/.test(chunk[i]!)) i++;
    if (chunk.startsWith('--', i)) {
      const newline = chunk.indexOf('\n', i);
      i = newline < 0 ? chunk.length : newline + 1;
    } else if (chunk.startsWith('/*', i)) {
      // Block comments nest in PostgreSQL.
      let depth = 0;
      do {
        if (chunk.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (chunk.startsWith('*/', i)) {
          depth--;
          i += 2;
        } else i++;
      } while (depth > 0 && i < chunk.length);
    } else return i;
  }
}

/** The `--` comment lines directly above a statement's first line, nearest first (directives live there). */
export function commentsAbove(source: string, line: number): string[] {
  const lines = source.split('\n');
  const comments: string[] = [];
  for (let i = line - 2; i >= 0; i--) {
    const text = lines[i]?.trim() ?? '';
    if (!text.startsWith('--')) break;
    comments.push(text);
  }
  return comments;
}
