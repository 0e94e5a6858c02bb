// PostgreSQL names as the scope checks see them. A table answers to its qualified name
// (`public.parcels`, canonical) and its bare name (`parcels`), so a declaration's `staging_*` matches
// that table in any schema while `allowed_schemas` restricts the schema.
import { matchesAny } from '@kfm/adapter-kit';
import type { ProtectedDomains } from '@kfm/migration-contracts';

export { compareText, firstMatch, matchesAny, sortedUnique } from '@kfm/adapter-kit';

/** Where an unqualified name lands when no search_path says otherwise (the server default). */
export const DEFAULT_SCHEMA = 'public';

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
export function isProtected(
  domains: ProtectedDomains | undefined,
  scope: { schemas?: string[]; tables?: string[] },
): boolean {
  if (!domains) return false;
  return matchesAny(domains.schemas, scope.schemas ?? []) || matchesAny(domains.tables, scope.tables ?? []);
}
