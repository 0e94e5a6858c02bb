// Text and name helpers every adapter needs: a locale-free order (the same on every machine, so
// artifacts are byte-identical everywhere), de-duplication, and name-pattern lookups.
import { matchesNamePattern } from '@kfm/migration-contracts';

/** Code-unit order: the same on every machine, unlike localeCompare. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorted (code-unit order), de-duplicated copy. */
export function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareText);
}

/** Index of the first pattern that any of the names matches, or -1 (to point at the rule that fired). */
export function firstMatch(patterns: readonly string[] | undefined, names: readonly string[]): number {
  if (!patterns) return -1;
  return patterns.findIndex((pattern) => names.some((name) => matchesNamePattern(name, pattern)));
}

export function matchesAny(patterns: readonly string[] | undefined, names: readonly string[]): boolean {
  return firstMatch(patterns, names) >= 0;
}

/** A record with its keys in code-unit order (deterministic JSON). */
export function sortedRecord<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of Object.keys(record).sort(compareText)) out[key] = record[key] as T;
  return out;
}

/** 1-based line and column of a character offset in a text. */
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

/** `30s`, `500ms`, `5min` (the declaration's duration pattern) in milliseconds; undefined when absent or malformed. */
export function durationMs(value: string | undefined): number | undefined {
  const match = value ? /^([0-9]+)(ms|s|min|h)$/.exec(value) : null;
  if (!match) return undefined;
  const amount = Number(match[1]);
  return amount * ({ ms: 1, s: 1000, min: 60_000, h: 3_600_000 } as const)[match[2] as 'ms' | 's' | 'min' | 'h'];
}
