// Names as PostgreSQL will resolve them. An unqualified relation is the first one found along the
// effective search_path (pg_catalog first unless listed), and a new one lands in the first schema of the
// path. The path starts as the connection's (`current_schemas(false)`) and follows the script's own
// `SET [LOCAL] search_path`, `RESET search_path` and constant `set_config('search_path', …)` calls.
import type { ClientBase } from 'pg';
import { DEFAULT_SCHEMA } from './scope.js';

/** What preflight needs from the live catalog to resolve names; a literal in unit tests. */
export interface NameCatalog {
  /** The connection's effective search_path, `$user` already resolved, implicit schemas left out. */
  searchPath: string[];
  /** The session user (`"$user"` in a path). */
  user: string;
  /** Unqualified relation name → the schemas holding a relation of that name. */
  relations: Record<string, string[] | undefined>;
  /** Unqualified function name → schemas holding a function whose body preflight cannot see
   *  (not built in, not part of an extension). */
  opaqueFunctions: Record<string, string[] | undefined>;
}

/** Without a live catalog: everything unqualified is in `public`, the server default. */
export const STATIC_CATALOG: NameCatalog = {
  searchPath: [DEFAULT_SCHEMA],
  user: '',
  relations: {},
  opaqueFunctions: {},
};

/** One round trip: the connection's path, user, every relation name, every opaque function name. */
export async function loadNameCatalog(client: ClientBase): Promise<NameCatalog> {
  const { rows } = await client.query(`
SELECT current_schemas(false)::text[] AS path, current_user AS "user",
       (SELECT coalesce(json_object_agg(relname, schemas), '{}'::json) FROM (
          SELECT c.relname, array_agg(DISTINCT n.nspname::text) AS schemas
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'i', 'I', 'c') AND n.nspname !~ '^pg_(toast|temp)'
           GROUP BY c.relname) AS r) AS relations,
       (SELECT coalesce(json_object_agg(proname, schemas), '{}'::json) FROM (
          SELECT p.proname, array_agg(DISTINCT n.nspname::text) AS schemas
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
           GROUP BY p.proname) AS f) AS functions`);
  const row = rows[0] as {
    path: string[];
    user: string;
    relations: Record<string, string[]>;
    functions: Record<string, string[]>;
  };
  return { searchPath: row.path, user: row.user, relations: row.relations, opaqueFunctions: row.functions };
}

/** Parse a search_path value as PostgreSQL does: a comma list of possibly quoted identifiers. */
export function parseSearchPath(value: string, user: string): string[] {
  const names: string[] = [];
  for (const raw of value.split(',')) {
    const part = raw.trim();
    if (!part) continue;
    const name =
      part.startsWith('"') && part.endsWith('"') && part.length > 1
        ? part.slice(1, -1).replace(/""/g, '"')
        : part.toLowerCase();
    names.push(name === '$user' ? user : name);
  }
  return names;
}

/** A search_path that follows the script, statement by statement. */
export class NameResolver {
  private path: string[];

  constructor(private readonly catalog: NameCatalog) {
    this.path = [...catalog.searchPath];
  }

  /** The path in effect now (what `SHOW search_path` would list, minus implicit schemas). */
  get searchPath(): readonly string[] {
    return this.path;
  }

  /** A copy that keeps the current path while this one follows the script further. */
  fork(): NameResolver {
    const copy = new NameResolver(this.catalog);
    copy.path = [...this.path];
    return copy;
  }

  setPath(names: readonly string[] | undefined): void {
    this.path = names ? names.filter(Boolean) : [...this.catalog.searchPath];
  }

  /** The schema an unqualified relation name resolves to (or would be created in). */
  relation(name: string): string {
    const holders = this.catalog.relations[name] ?? [];
    if (!this.path.includes('pg_catalog') && holders.includes('pg_catalog')) return 'pg_catalog';
    return this.path.find((schema) => holders.includes(schema)) ?? this.path[0] ?? DEFAULT_SCHEMA;
  }

  /** The schema a new unqualified object is created in. */
  creation(): string {
    return this.path.find((schema) => schema !== 'pg_catalog') ?? DEFAULT_SCHEMA;
  }

  /** Is this function call one whose body preflight cannot read? */
  opaqueFunction(names: readonly string[], createdHere: ReadonlySet<string>): boolean {
    const name = names[names.length - 1]!;
    if (createdHere.has(name)) return true;
    const holders = this.catalog.opaqueFunctions[name] ?? [];
    if (names.length > 1) return holders.includes(names[0]!);
    return this.path.some((schema) => holders.includes(schema));
  }
}
