// Name helpers for search objects, on top of the one `*` matcher of @kfm/migration-contracts:
// the index of the matching pattern (for JSON pointers), index expressions and code-unit ordering.
import { matchesNamePattern } from '@kfm/migration-contracts';

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function matchesPattern(name: string, pattern: string): boolean {
  return matchesNamePattern(name, pattern);
}

/** Index of the first pattern any name matches, or -1 (the index makes a JSON pointer). */
export function firstMatch(patterns: readonly string[] | undefined, names: readonly string[]): number {
  if (!patterns) return -1;
  return patterns.findIndex((pattern) => names.some((name) => matchesNamePattern(name, pattern)));
}

/** A comma-separated index expression (`kfmt-a-*,other`) as patterns. */
export function expressionPatterns(expression: string | undefined): string[] | undefined {
  if (expression === undefined) return undefined;
  return expression.split(',').map((part) => part.trim()).filter(Boolean);
}

export function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareText);
}
