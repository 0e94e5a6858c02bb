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
  /** Unqualified function name → schemas holding an extension's function of that name. */
  extensionFunctions?: Record<string, string[] | undefined>;
  /** `schema.relation` of every relation an extension owns (`public.spatial_ref_sys`). */
  extensionRelations?: string[];
  /** Names of the built-in functions (in pg_catalog). */
  builtinFunctions?: string[];
  /** `schema.sequence` → `schema.table` that owns it (serial and identity columns). */
  sequenceOwners?: Record<string, string | undefined>;
  /**
   * Why the connection's role can act outside the run's session (superuser, COPY … PROGRAM, server
   * files, dblink, foreign servers), or absent when it cannot. Dynamic SQL run by such a role could
   * commit changes no rollback undoes and no observation of the session sees.
   */
  sessionExit?: string;
  /**
   * With a session exit only: `schema.relation` → the code already attached to it that calls a function
   * preflight cannot read (a trigger, a column default or generated column, a check constraint, an index
   * expression, a rule or view definition, a policy), also through a foreign key that cascades a write to
   * a table with such code, or on one of its partitions or inheritance children. Touching the relation runs
   * that code as the role.
   */
  attachedCode?: Record<string, string | undefined>;
  /**
   * With a session exit only: the same for TRUNCATE … CASCADE, which also empties the tables whose foreign
   * keys reference the relation without a cascading action (their TRUNCATE triggers fire).
   */
  truncateCascadeCode?: Record<string, string | undefined>;
  /** With a session exit only: an enabled event trigger calling a user function (it runs on every DDL). */
  eventTriggerCode?: string;
}

/** Without a live catalog: everything unqualified is in `public`, the server default. */
export const STATIC_CATALOG: NameCatalog = {
  searchPath: [DEFAULT_SCHEMA],
  user: '',
  relations: {},
  opaqueFunctions: {},
};

/** What the connection's role can reach outside its session, as phrases (none: it cannot). */
const SESSION_EXITS = `array_remove(ARRAY[
         CASE WHEN (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN 'is a superuser' END,
         CASE WHEN pg_has_role(current_user, 'pg_execute_server_program', 'MEMBER')
              THEN 'is a member of pg_execute_server_program (COPY … PROGRAM)' END,
         CASE WHEN pg_has_role(current_user, 'pg_write_server_files', 'MEMBER')
              THEN 'is a member of pg_write_server_files' END,
         (SELECT 'may execute ' || p.proname || '() (dblink)' FROM pg_proc p
           WHERE p.proname IN ('dblink_exec', 'dblink', 'dblink_connect')
             AND has_function_privilege(current_user, p.oid, 'EXECUTE') ORDER BY p.proname LIMIT 1),
         (SELECT 'may use foreign server ' || quote_ident(s.srvname) FROM pg_foreign_server s
           WHERE has_server_privilege(current_user, s.oid, 'USAGE') ORDER BY s.srvname LIMIT 1)
       ], NULL)`;

const sessionExitOf = (user: string, exits: string[]): string | undefined =>
  exits.length > 0 ? `role ${user} ${exits[0] === 'is a superuser' ? exits[0] : exits.join(', ')}` : undefined;

/**
 * Only what running DDL as this connection could set off: the role's way out of its session and an
 * event trigger calling a user function (the two loadNameCatalog also reports). One small query, for a
 * caller that runs DDL of its own (creating the ledger) and needs no names.
 */
export async function loadDdlReach(client: ClientBase): Promise<{ sessionExit?: string; eventTriggerCode?: string }> {
  const { rows } = await client.query(
    `SELECT current_user AS "user", ${SESSION_EXITS} AS exits, ${userEventTriggerText()} AS event`,
  );
  const row = rows[0] as { user: string; exits: string[]; event: string | null };
  const sessionExit = sessionExitOf(row.user, row.exits);
  return { ...(sessionExit ? { sessionExit } : {}), ...(row.event ? { eventTriggerCode: row.event } : {}) };
}

/** A name column narrowed to the query's $1: the names to list (namesIn), or NULL for every name. */
const only = (column: string) => `($1::name[] IS NULL OR ${column} = ANY ($1::name[]))`;

/** A double-quoted identifier starting at `lastIndex` ("" stands for one quote). */
const QUOTED = /"((?:[^"]|"")*)"/y;
const WORD = /[\p{L}\p{M}_][\p{L}\p{M}\p{N}_$]*/gu;

/**
 * Every name a script could make preflight look up, for loadNameCatalog: each word and each double-quoted
 * identifier anywhere in the text (string literals, function bodies and comments included), as written
 * and lower-cased as the server would (the query's `name[]` cast truncates them as the server does). The
 * resolver's names all come from the parsed script, as identifiers or out of string constants
 * (`nextval('s')`, `'t'::regclass`), so they are among these, and a catalog listing only these answers
 * every lookup as the whole catalog would. A quoted identifier is read from every double quote, so a
 * stray one inside a string cannot hide the next. Undefined when the text may spell a name through an
 * escape (`U&"…"`, any backslash): then the whole catalog is read.
 */
export function namesIn(texts: readonly string[]): string[] | undefined {
  const names = new Set<string>();
  const add = (name: string) => {
    names.add(name);
    names.add(name.replace(/[A-Z]+/g, (upper) => upper.toLowerCase()));
    names.add(name.toLowerCase());
  };
  for (const text of texts) {
    if (/\\|u&/i.test(text)) return undefined;
    for (const [word] of text.matchAll(WORD)) add(word);
    for (let at = text.indexOf('"'); at >= 0; at = text.indexOf('"', at + 1)) {
      QUOTED.lastIndex = at;
      const quoted = QUOTED.exec(text)?.[1];
      if (quoted) add(quoted.replace(/""/g, '"'));
    }
  }
  return [...names];
}

/**
 * One round trip: the connection's path, user and what the role can reach outside its session, and the
 * relations, opaque and extension functions and sequence owners — every one in the database, or only
 * those of the given names (namesIn of the scripts): the same answers for the scripts' lookups, at a
 * cost that follows the scripts instead of the database.
 */
export async function loadNameCatalog(client: ClientBase, names?: readonly string[]): Promise<NameCatalog> {
  const { rows } = await client.query(
    `
SELECT current_schemas(false)::text[] AS path, current_user AS "user",
       ${SESSION_EXITS} AS exits,
       (SELECT coalesce(json_object_agg(proname, schemas), '{}'::json) FROM (
          SELECT p.proname, array_agg(DISTINCT n.nspname::text) AS schemas
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
             AND ${only('p.proname')}
           GROUP BY p.proname) AS x) AS extension_functions,
       (SELECT coalesce(json_agg(DISTINCT p.proname), '[]'::json) FROM pg_proc p
         WHERE p.pronamespace = 'pg_catalog'::regnamespace AND ${only('p.proname')}) AS builtin_functions,
       (SELECT coalesce(json_agg(n.nspname || '.' || c.relname ORDER BY 1), '[]'::json)
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
           AND ${only('c.relname')})
         AS extension_relations,
       (SELECT coalesce(json_object_agg(sn.nspname || '.' || s.relname, tn.nspname || '.' || t.relname), '{}'::json)
          FROM pg_depend d
          JOIN pg_class s ON s.oid = d.objid AND s.relkind = 'S'
          JOIN pg_namespace sn ON sn.oid = s.relnamespace
          JOIN pg_class t ON t.oid = d.refobjid
          JOIN pg_namespace tn ON tn.oid = t.relnamespace
         WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
           AND d.deptype IN ('a', 'i') AND ${only('s.relname')}) AS sequence_owners,
       (SELECT coalesce(json_object_agg(relname, schemas), '{}'::json) FROM (
          SELECT c.relname, array_agg(DISTINCT n.nspname::text) AS schemas
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'i', 'I', 'c') AND n.nspname !~ '^pg_(toast|temp)'
             AND ${only('c.relname')}
           GROUP BY c.relname) AS r) AS relations,
       (SELECT coalesce(json_object_agg(proname, schemas), '{}'::json) FROM (
          SELECT p.proname, array_agg(DISTINCT n.nspname::text) AS schemas
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
           WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
             AND ${only('p.proname')}
           GROUP BY p.proname) AS f) AS functions`,
    [names ? [...names] : null],
  );
  const row = rows[0] as {
    path: string[];
    user: string;
    exits: string[];
    relations: Record<string, string[]>;
    functions: Record<string, string[]>;
    extension_functions: Record<string, string[]>;
    extension_relations: string[];
    builtin_functions: string[];
    sequence_owners: Record<string, string>;
  };
  const sessionExit = sessionExitOf(row.user, row.exits);
  const attached = sessionExit ? await loadAttachedCode(client, names) : undefined;
  return {
    searchPath: row.path,
    user: row.user,
    relations: row.relations,
    opaqueFunctions: row.functions,
    extensionFunctions: row.extension_functions,
    extensionRelations: row.extension_relations,
    builtinFunctions: row.builtin_functions,
    sequenceOwners: row.sequence_owners,
    ...(sessionExit ? { sessionExit } : {}),
    ...(attached ? { attachedCode: attached.relations, truncateCascadeCode: attached.truncated } : {}),
    ...(attached?.event ? { eventTriggerCode: attached.event } : {}),
  };
}

/**
 * Code attached to a relation through a catalog row that depends on a function, directly or through an
 * operator it uses (pg_depend); `where` narrows the catalog rows.
 */
const dependentCode = (catalog: string, relation: string, what: string, join = '', where = 'true') => `
  SELECT ${relation} AS rel, CASE WHEN d.refclassid = 'pg_operator'::regclass
           THEN (SELECT op.oprcode::oid FROM pg_operator op WHERE op.oid = d.refobjid) ELSE d.refobjid END AS fn,
         ${what} AS via
    FROM ${catalog} o ${join}
    JOIN pg_depend d ON d.classid = '${catalog}'::regclass AND d.objid = o.oid
     AND d.refclassid IN ('pg_proc'::regclass, 'pg_operator'::regclass)
   WHERE ${where}`;

/** A user function: not built in, not an extension's (whose definitions the baseline pins by version). */
const userFunction = (oid: string) => `EXISTS (SELECT 1 FROM pg_proc f JOIN pg_namespace fn ON fn.oid = f.pronamespace
   WHERE f.oid = ${oid} AND fn.nspname NOT IN ('pg_catalog', 'information_schema')
     AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = f.oid AND e.deptype = 'e'))`;

/** An enabled event trigger (alias `e`'s row of pg_event_trigger) whose function is a user function. */
export const userEventTrigger = (alias: string) => `${alias}.evtenabled <> 'D' AND ${userFunction(`${alias}.evtfoid`)}`;

/** The first enabled event trigger (by name) that calls a user function, described; NULL when there is none. */
const userEventTriggerText =
  () => `(SELECT 'event trigger ' || quote_ident(e.evtname) || ' calls ' || quote_ident(fn.nspname) || '.' || quote_ident(f.proname) || '()'
          FROM pg_event_trigger e JOIN pg_proc f ON f.oid = e.evtfoid JOIN pg_namespace fn ON fn.oid = f.pronamespace
         WHERE ${userEventTrigger('e')}
         ORDER BY e.evtname LIMIT 1)`;

/**
 * For each relation, one piece of attached code that calls a user function, found on the relation itself,
 * on a table a foreign key cascades its writes to (ON DELETE/UPDATE CASCADE, SET NULL, SET DEFAULT) or on a
 * partition or inheritance child; the same for TRUNCATE … CASCADE, through every foreign key; and an enabled
 * event trigger calling one, if any.
 */
async function loadAttachedCode(
  client: ClientBase,
  names: readonly string[] | undefined,
): Promise<{ relations: Record<string, string>; truncated: Record<string, string>; event?: string }> {
  const { rows } = await client.query(
    `
WITH RECURSIVE code AS (
  SELECT t.tgrelid AS rel, t.tgfoid AS fn, 'trigger ' || quote_ident(t.tgname) AS via
    FROM pg_trigger t WHERE NOT t.tgisinternal
  UNION ALL ${dependentCode('pg_trigger', 'o.tgrelid', "'the WHEN clause of trigger ' || quote_ident(o.tgname)", '', 'NOT o.tgisinternal AND d.refobjid <> o.tgfoid')}
  UNION ALL ${dependentCode('pg_attrdef', 'o.adrelid', "'the default of column ' || quote_ident(a.attname)", 'JOIN pg_attribute a ON a.attrelid = o.adrelid AND a.attnum = o.adnum')}
  UNION ALL ${dependentCode('pg_constraint', 'o.conrelid', "'constraint ' || quote_ident(o.conname)", '', 'o.conrelid <> 0')}
  UNION ALL ${dependentCode('pg_class', 'i.indrelid', "'index ' || quote_ident(o.relname)", 'JOIN pg_index i ON i.indexrelid = o.oid')}
  UNION ALL ${dependentCode('pg_class', 'o.oid', "'the partition key'", '', "o.relkind = 'p'")}
  UNION ALL ${dependentCode('pg_statistic_ext', 'o.stxrelid', "'statistics object ' || quote_ident(o.stxname)")}
  UNION ALL ${dependentCode('pg_rewrite', 'o.ev_class', "CASE WHEN o.rulename = '_RETURN' THEN 'the view definition' ELSE 'rule ' || quote_ident(o.rulename) END")}
  UNION ALL ${dependentCode('pg_policy', 'o.polrelid', "'policy ' || quote_ident(o.polname)")}
  UNION ALL ${dependentCode(
    'pg_constraint',
    'a.attrelid',
    "'the domain check of column ' || quote_ident(a.attname)",
    'JOIN pg_attribute a ON a.atttypid = o.contypid AND a.attnum > 0 AND NOT a.attisdropped',
    'o.contypid <> 0',
  )}
), opaque AS (
  SELECT code.rel, code.via || ' of ' || quote_ident(rn.nspname) || '.' || quote_ident(r.relname)
         || ' calls ' || quote_ident(fn.nspname) || '.' || quote_ident(f.proname) || '()' AS why
    FROM code
    JOIN pg_class r ON r.oid = code.rel JOIN pg_namespace rn ON rn.oid = r.relnamespace
    JOIN pg_proc f ON f.oid = code.fn JOIN pg_namespace fn ON fn.oid = f.pronamespace
   WHERE ${userFunction('code.fn')}
), write_edges (child, parent) AS (
  -- A write to a table reaches a table whose foreign key to it cascades (ON DELETE/UPDATE CASCADE, SET NULL,
  -- SET DEFAULT), and a write to a parent its partitions' and inheritance children's rows (their row triggers).
  SELECT fk.conrelid, fk.confrelid FROM pg_constraint fk
   WHERE fk.contype = 'f' AND (fk.confdeltype IN ('c', 'n', 'd') OR fk.confupdtype IN ('c', 'n', 'd'))
  UNION ALL SELECT i.inhrelid, i.inhparent FROM pg_inherits i
), truncate_edges (child, parent) AS (
  -- TRUNCATE … CASCADE empties every table whose foreign key references the table, whatever its action.
  SELECT fk.conrelid, fk.confrelid FROM pg_constraint fk WHERE fk.contype = 'f'
  UNION ALL SELECT i.inhrelid, i.inhparent FROM pg_inherits i
), reach (rel, why) AS (
  SELECT rel, why FROM opaque
  UNION
  SELECT e.parent, reach.why FROM reach JOIN write_edges e ON e.child = reach.rel
), truncated (rel, why) AS (
  SELECT rel, why FROM opaque
  UNION
  SELECT e.parent, truncated.why FROM truncated JOIN truncate_edges e ON e.child = truncated.rel
)
SELECT (SELECT coalesce(json_object_agg(name, why), '{}'::json) FROM (
          SELECT DISTINCT ON (n.nspname, c.relname) n.nspname || '.' || c.relname AS name, reach.why
            FROM reach JOIN pg_class c ON c.oid = reach.rel JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE ${only('c.relname')}
           ORDER BY n.nspname, c.relname, reach.why) AS x) AS attached,
       (SELECT coalesce(json_object_agg(name, why), '{}'::json) FROM (
          SELECT DISTINCT ON (n.nspname, c.relname) n.nspname || '.' || c.relname AS name, truncated.why
            FROM truncated JOIN pg_class c ON c.oid = truncated.rel JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE ${only('c.relname')}
           ORDER BY n.nspname, c.relname, truncated.why) AS x) AS truncated,
       ${userEventTriggerText()} AS event`,
    [names ? [...names] : null],
  );
  const row = rows[0] as { attached: Record<string, string>; truncated: Record<string, string>; event: string | null };
  return { relations: row.attached, truncated: row.truncated, ...(row.event ? { event: row.event } : {}) };
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

/** One set of built-in names per catalog, shared by every fork of its resolver. */
const BUILTINS = new WeakMap<NameCatalog, Set<string>>();

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

  /** What the role can reach outside the run's session, when it can. */
  get sessionExit(): string | undefined {
    return this.catalog.sessionExit;
  }

  /** An enabled event trigger calling a user function: it runs on every DDL (exit roles only). */
  get eventTriggerCode(): string | undefined {
    return this.catalog.eventTriggerCode;
  }

  /** The code already attached to a relation that calls a function preflight cannot read (exit roles only). */
  attachedCode(schema: string, relation: string, truncateCascade = false): string | undefined {
    const code = truncateCascade ? this.catalog.truncateCascadeCode : this.catalog.attachedCode;
    return code?.[`${schema}.${relation}`];
  }

  /** The schema of the extension function this name reaches, if it reaches one. */
  extensionFunction(names: readonly string[]): string | undefined {
    const holders = this.catalog.extensionFunctions?.[names[names.length - 1]!] ?? [];
    if (names.length > 1) return holders.includes(names[0]!) ? names[0] : undefined;
    return this.path.find((schema) => holders.includes(schema));
  }

  /**
   * The schema an unqualified function name reaches: the first schema on the path holding a user or
   * extension function of that name, else pg_catalog for a built-in, else where it would be created.
   */
  functionSchema(name: string): string {
    const holders = [...(this.catalog.opaqueFunctions[name] ?? []), ...(this.catalog.extensionFunctions?.[name] ?? [])];
    const builtin = this.builtins().has(name);
    if (builtin && !this.path.includes('pg_catalog')) return 'pg_catalog';
    return (
      this.path.find((schema) => holders.includes(schema) || (schema === 'pg_catalog' && builtin)) ?? this.creation()
    );
  }

  private builtins(): Set<string> {
    let set = BUILTINS.get(this.catalog);
    if (!set) BUILTINS.set(this.catalog, (set = new Set(this.catalog.builtinFunctions ?? [])));
    return set;
  }

  /** Does an extension own this relation? */
  extensionRelation(schema: string, name: string): boolean {
    return this.catalog.extensionRelations?.includes(`${schema}.${name}`) ?? false;
  }

  /** The table owning a sequence (serial or identity column), as `schema.table`. */
  sequenceOwner(schema: string, name: string): string | undefined {
    return this.catalog.sequenceOwners?.[`${schema}.${name}`];
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
