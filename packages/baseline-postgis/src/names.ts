// Name patterns and PostgreSQL name forms shared by capture and preflight.
// A table answers to its qualified name (`public.parcels`, canonical) and its bare name (`parcels`),
// so a declaration's `staging_*` matches that table in any schema while `allowed_schemas` restricts
// the schema. In scripts, an unqualified name means `public` (the default search_path).
import { matchesNamePattern, type ProtectedDomains } from '@kfm/migration-contracts';

export const DEFAULT_SCHEMA = 'public';

export function matchesAny(patterns: readonly string[] | undefined, names: readonly string[]): boolean {
  if (!patterns || patterns.length === 0) return false;
  return patterns.some((pattern) => names.some((name) => matchesNamePattern(name, pattern)));
}

/** The first pattern that matches any of the names, for pointing at the rule that fired. */
export function firstMatch(patterns: readonly string[] | undefined, names: readonly string[]): number {
  if (!patterns) return -1;
  return patterns.findIndex((pattern) => names.some((name) => matchesNamePattern(name, pattern)));
}

/** The names a table answers to: qualified first (canonical), then bare. */
export function tableAliases(schema: string, table: string): string[] {
  return [`${schema}.${table}`, table];
}

/** SQL identifier quoting (names come from the catalog or the parser, never from free text). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function qualifiedIdent(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/** Do the protected domains name this schema or (any alias of) this table? */
export function isProtected(domains: ProtectedDomains | undefined, scope: { schemas?: string[]; tables?: string[] }): boolean {
  if (!domains) return false;
  return matchesAny(domains.schemas, scope.schemas ?? []) || matchesAny(domains.tables, scope.tables ?? []);
}

/** Sorted, de-duplicated copy (code-unit order, never locale order, so output is the same everywhere). */
export function sortedUnique(values: Iterable<string>): string[] {
  return [...new Set(values)].sort(compareText);
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
