// The script language of a file tree: a JSON manifest of file operations, each located by line so
// findings point at the source. Paths are relative, normalized, inside the tree and outside `.kfm/`
// (the adapter's own lock, ledger and policy).
import path from 'node:path';
import type { Issue, ScriptFile } from '@kfm/migration-contracts';

export type FileOperation =
  | { op: 'write'; path: string; content?: string; base64?: string }
  | { op: 'delete'; path: string }
  | { op: 'move'; from: string; to: string };

export interface LocatedOperation {
  operation: FileOperation;
  file: string;
  line: number;
  /** 0-based across all scripts, in run order. */
  index: number;
  pointer: string;
}

/** The adapter's own directory inside the tree: never baselined, never a migration's to touch. */
export const RESERVED_DIR = '.kfm';

/** A manifest path as the tree will resolve it, or why it is not one. */
export function normalizePath(raw: unknown): { ok: true; path: string } | { ok: false; reason: string } {
  if (typeof raw !== 'string' || raw.length === 0) return { ok: false, reason: 'a non-empty relative path' };
  if (raw.includes('\\') || raw.includes('\0')) return { ok: false, reason: 'a path with / separators and no NUL' };
  if (path.posix.isAbsolute(raw)) return { ok: false, reason: 'a relative path (this one is absolute)' };
  const normalized = path.posix.normalize(raw);
  if (normalized === '.' || normalized.startsWith('../') || normalized === '..')
    return { ok: false, reason: 'a path inside the tree' };
  return { ok: true, path: normalized };
}

export function isReserved(file: string): boolean {
  return file === RESERVED_DIR || file.startsWith(`${RESERVED_DIR}/`);
}

/** Every path an operation names: reads (move's source) and writes. */
export function pathsOf(operation: FileOperation): string[] {
  return operation.op === 'move' ? [operation.from, operation.to] : [operation.path];
}

export function bytesOf(operation: Extract<FileOperation, { op: 'write' }>): Buffer {
  return operation.base64 !== undefined
    ? Buffer.from(operation.base64, 'base64')
    : Buffer.from(operation.content ?? '', 'utf8');
}

/** Lines of each `"op"` key, in order: JSON.parse keeps no positions, the text does. */
function opLines(text: string): number[] {
  const lines: number[] = [];
  const pattern = /"op"\s*:/g;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    lines.push(text.slice(0, match.index).split('\n').length);
  }
  return lines;
}

export function parseManifests(
  scripts: readonly Pick<ScriptFile, 'path' | 'text'>[],
): { ok: true; operations: LocatedOperation[] } | { ok: false; issues: Issue[] } {
  const operations: LocatedOperation[] = [];
  const issues: Issue[] = [];
  for (const script of scripts) {
    let document: unknown;
    try {
      document = JSON.parse(script.text);
    } catch (error) {
      issues.push({
        code: 'SCRIPT_PARSE',
        file: script.path,
        line: 1,
        message: `is not JSON: ${(error as Error).message}`,
      });
      continue;
    }
    const list = (document as { operations?: unknown })?.operations;
    if (!Array.isArray(list)) {
      issues.push({
        code: 'SCRIPT_PARSE',
        file: script.path,
        line: 1,
        pointer: '/operations',
        message: 'expected an object with an "operations" array',
        expected: '{"operations": [...]}',
      });
      continue;
    }
    const lines = opLines(script.text);
    entries: for (const [i, entry] of (list as Record<string, unknown>[]).entries()) {
      const pointer = `/operations/${i}`;
      const line = lines[i] ?? 1;
      const bad = (message: string, expected: string) =>
        issues.push({ code: 'SCRIPT_PARSE', file: script.path, line, pointer, message, expected });
      const op = entry?.op;
      const fields = op === 'move' ? ['from', 'to'] : ['path'];
      if (op !== 'write' && op !== 'delete' && op !== 'move') {
        bad(`unknown operation ${JSON.stringify(op)}`, 'write | delete | move');
        continue;
      }
      const resolved: Record<string, string> = {};
      for (const field of fields) {
        const checked = normalizePath(entry[field]);
        if (!checked.ok) {
          bad(`${field} must be ${checked.reason}`, checked.reason);
          continue entries;
        }
        resolved[field] = checked.path;
      }
      if (op === 'write' && (entry.content === undefined) === (entry.base64 === undefined)) {
        bad('a write needs exactly one of content or base64', 'content | base64');
        continue;
      }
      const operation = (
        op === 'move'
          ? { op, from: resolved.from, to: resolved.to }
          : op === 'delete'
            ? { op, path: resolved.path }
            : {
                op,
                path: resolved.path,
                ...(typeof entry.content === 'string' ? { content: entry.content } : {}),
                ...(typeof entry.base64 === 'string' ? { base64: entry.base64 } : {}),
              }
      ) as FileOperation;
      operations.push({ operation, file: script.path, line, index: operations.length, pointer });
    }
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, operations };
}
