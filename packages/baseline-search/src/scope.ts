// Name helpers for search objects, on top of the one `*` matcher of @kfm/migration-contracts and the
// kit's ordering helpers: index expressions, and the names that belong to the runner.
import { matchesNamePattern } from '@kfm/migration-contracts';

export { compareText, firstMatch, sortedUnique } from '@kfm/adapter-kit';

export function matchesPattern(name: string, pattern: string): boolean {
  return matchesNamePattern(name, pattern);
}

/** A comma-separated index expression (`kfmt-a-*,other`) as patterns. */
export function expressionPatterns(expression: string | undefined): string[] | undefined {
  if (expression === undefined) return undefined;
  return expression
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

/** The runner's own indices start with this (`.kfm-migrations`, test runner indices): no migration may name them. */
export const RESERVED_PREFIX = '.kfm';

export function isReserved(name: string): boolean {
  return name.startsWith(RESERVED_PREFIX);
}
