// The catalog queries of a baseline: one per object kind, whatever the number of tables, run with
// search_path = pg_catalog so every definition the server renders is schema-qualified and the
// same for every session. In the object queries $1 is the runner's ledger schema, which no baseline includes.
//
// The three largest (columns, indexes, constraints) are not sorted: a sort makes the server compute the
// whole result before the first FETCH returns, while unsorted the server computes the next batch as the
// client digests the current one (at 10,000 tables the capture took 2.85 s sorted and 2.5 s unsorted,
// warm 2.6 s and 1.6 s). The builder orders what needs an order itself; the baseline is the same.

/** User schemas: not system, not the ledger. */
const userSchema = (alias: string) =>
  `(${alias}.nspname !~ '^pg_' AND ${alias}.nspname <> 'information_schema' AND ${alias}.nspname <> $1)`;

/**
 * An ACL as sorted aclitem texts (grantee=privileges/grantor), or null for the default. The CASE skips the
 * subquery for the (usual) default ACL: the same null, without a sub-plan per row.
 */
const sortedAcl = (column: string) =>
  `CASE WHEN ${column} IS NOT NULL THEN (SELECT array_agg(a::text ORDER BY a::text) FROM unnest(${column}) AS a) END`;

/**
 * A comment, joined rather than read with obj_description/col_description (a SQL function call per row):
 * the same text, as pg_description holds one row per (objoid, classoid, objsubid).
 */
const commentJoin = (alias: string, oid: string, subid: string) =>
  `LEFT JOIN pg_description ${alias} ON ${alias}.objoid = ${oid} AND ${alias}.classoid = 'pg_class'::regclass AND ${alias}.objsubid = ${subid}`;

/** Objects an extension created belong to the extension, represented once by its name and version. */
const notExtensionMember = (catalog: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = '${catalog}'::regclass AND e.objid = ${oid} AND e.deptype = 'e')`;

/**
 * Pins the session settings that shape rendered definitions and row text for this transaction and
 * returns the previous values (read first, in a materialized CTE) plus the server version.
 */
export const PIN_SETTINGS_QUERY = `
WITH previous AS MATERIALIZED (
  SELECT current_setting('search_path') AS search_path, current_setting('TimeZone') AS timezone,
         current_setting('DateStyle') AS datestyle, current_setting('IntervalStyle') AS intervalstyle,
         current_setting('extra_float_digits') AS extra_float_digits, current_setting('jit') AS jit,
         current_setting('cursor_tuple_fraction') AS cursor_tuple_fraction)
SELECT previous.*, current_setting('server_version') AS version,
       set_config('search_path', 'pg_catalog', true), set_config('TimeZone', 'UTC', true),
       set_config('DateStyle', 'ISO, YMD', true), set_config('IntervalStyle', 'postgres', true),
       set_config('extra_float_digits', '1', true),
       -- JIT compiles the big catalog queries for longer than they run (1.0 s of JIT for 0.6 s of
       -- execution at 10,000 tables, measured by npm run bench).
       set_config('jit', 'off', true),
       -- The relation-level queries are read through cursors, all of every one: plan for the whole result
       -- (the default 0.1 favours the first rows, i.e. nested loops over the hash joins these need).
       set_config('cursor_tuple_fraction', '1', true)
FROM previous`;

export const RESTORE_SETTINGS_QUERY = `
SELECT set_config('search_path', $1, true), set_config('TimeZone', $2, true), set_config('DateStyle', $3, true),
       set_config('IntervalStyle', $4, true), set_config('extra_float_digits', $5, true), set_config('jit', $6, true),
       set_config('cursor_tuple_fraction', $7, true)`;

export const SCHEMAS_QUERY = `
SELECT n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner, ${sortedAcl('n.nspacl')} AS acl,
       obj_description(n.oid, 'pg_namespace') AS comment
FROM pg_namespace n
WHERE ${userSchema('n')} AND ${notExtensionMember('pg_namespace', 'n.oid')}
ORDER BY 1`;

/**
 * Restricts a relation-level query to the relations whose OIDs are in $2 (an incremental capture
 * refetches only the relations whose change detector moved); empty for a full capture.
 */
export type Only = (alias: string) => string;
const everything: Only = () => '';
export const onlyChanged: Only = (alias) => `AND ${alias}.oid = ANY ($2::oid[])`;

/** Tables, partitioned and foreign tables, views, materialized views and sequences in one pass. */
export const relationsQuery = (only: Only = everything) => `
SELECT c.oid::text AS relid, n.nspname AS schema, c.relname AS name, c.relkind AS relkind, c.relpersistence AS persistence,
       c.reltuples::float8 AS reltuples, c.reloptions::text[] AS options, c.relrowsecurity AS row_security,
       c.relforcerowsecurity AS force_row_security, pg_get_userbyid(c.relowner) AS owner,
       CASE WHEN c.relkind IN ('r', 'p') AND c.relreplident <> 'd' THEN c.relreplident::text END AS replica_identity, ${sortedAcl('c.relacl')} AS acl,
       ds.description AS comment,
       (SELECT count(*)::int FROM pg_trigger it WHERE it.tgrelid = c.oid AND it.tgisinternal AND it.tgenabled = 'D') AS disabled_internal_triggers,
       CASE WHEN c.relkind IN ('v', 'm') THEN (
         SELECT array_agg(DISTINCT (bn.nspname || '.' || bc.relname)::text)
           FROM pg_rewrite rw JOIN pg_depend dp ON dp.classid = 'pg_rewrite'::regclass AND dp.objid = rw.oid AND dp.refclassid = 'pg_class'::regclass
           JOIN pg_class bc ON bc.oid = dp.refobjid JOIN pg_namespace bn ON bn.oid = bc.relnamespace
          WHERE rw.ev_class = c.oid AND bc.oid <> c.oid AND bc.relkind IN ('r', 'p', 'f', 'v', 'm')) END AS base_tables,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END AS view_definition,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
       CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END AS partition_bound,
       (SELECT array_agg((pn.nspname || '.' || pc.relname)::text ORDER BY i.inhseqno)
          FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = pc.relnamespace
         WHERE i.inhrelid = c.oid) AS parents,
       am.amname AS access_method,
       s.seqtypid::regtype::text AS sequence_type, s.seqstart::text AS sequence_start, s.seqincrement::text AS sequence_increment,
       s.seqmin::text AS sequence_min, s.seqmax::text AS sequence_max, s.seqcache::text AS sequence_cache, s.seqcycle AS sequence_cycle,
       owner_n.nspname AS owner_schema, owner_c.relname AS owner_table, owner_a.attname AS owner_column
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_am am ON am.oid = c.relam
${commentJoin('ds', 'c.oid', '0')}
LEFT JOIN pg_sequence s ON s.seqrelid = c.oid
LEFT JOIN pg_depend owner_d ON c.relkind = 'S' AND owner_d.classid = 'pg_class'::regclass AND owner_d.objid = c.oid
     AND owner_d.refclassid = 'pg_class'::regclass AND owner_d.deptype IN ('a', 'i')
LEFT JOIN pg_class owner_c ON owner_c.oid = owner_d.refobjid
LEFT JOIN pg_namespace owner_n ON owner_n.oid = owner_c.relnamespace
LEFT JOIN pg_attribute owner_a ON owner_a.attrelid = owner_d.refobjid AND owner_a.attnum = owner_d.refobjsubid
WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S') AND ${userSchema('n')} AND ${notExtensionMember('pg_class', 'c.oid')}
  ${only('c')}
ORDER BY n.nspname, c.relname`;
export const RELATIONS_QUERY = relationsQuery();

/** Columns of tables and materialized views (unsorted: the builder orders each table's by `position`). */
export const columnsQuery = (only: Only = everything) => `
SELECT c.oid::text AS relid, n.nspname AS schema, c.relname AS table, a.attname AS name, a.attnum AS position,
       format_type(a.atttypid, a.atttypmod) AS type, t.typname AS type_name, a.attnotnull AS not_null,
       pg_get_expr(d.adbin, d.adrelid) AS "default", a.attidentity AS identity, a.attgenerated AS generated,
       ${sortedAcl('a.attacl')} AS acl, ds.description AS comment,
       CASE WHEN a.attcollation <> t.typcollation THEN cn.nspname || '.' || co.collname END AS collation,
       -- Planner and storage settings, only where they differ from the default (so older digests hold).
       CASE WHEN a.attstattarget >= 0 THEN a.attstattarget END AS statistics,
       CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END AS storage,
       -- The planner's per-column options (ALTER COLUMN … SET (n_distinct …)); other entries are not settings.
       (SELECT array_agg(o ORDER BY o) FROM unnest(a.attoptions) AS o WHERE o LIKE 'n_distinct%') AS attribute_options,
       NULLIF(a.attcompression::text, '') AS compression
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
${commentJoin('ds', 'a.attrelid', 'a.attnum')}
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f', 'm')
  AND ${userSchema('n')} AND ${notExtensionMember('pg_class', 'c.oid')} ${only('c')}
`;
export const COLUMNS_QUERY = columnsQuery();

export const indexesQuery = (only: Only = everything) => `
SELECT tc.oid::text AS relid, n.nspname AS schema, ic.relname AS name, tn.nspname AS table_schema, tc.relname AS table,
       am.amname AS method, pg_get_indexdef(i.indexrelid) AS definition,
       i.indisunique AS unique, i.indisprimary AS primary, i.indisvalid AS valid,
       (SELECT array_agg(a.attname::text ORDER BY k.ord)
          FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
         WHERE k.ord <= i.indnkeyatts) AS key_columns,
       i.indpred IS NOT NULL AS partial,
       NULLIF(i.indisclustered, false) AS clustered, NULLIF(i.indisreplident, false) AS replica_identity,
       ds.description AS comment,
       (SELECT array_agg(a.attnum::text || '=' || a.attstattarget ORDER BY a.attnum) FROM pg_attribute a
         WHERE a.attrelid = i.indexrelid AND a.attstattarget >= 0) AS statistics
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
${commentJoin('ds', 'ic.oid', '0')}
JOIN pg_namespace n ON n.oid = ic.relnamespace
JOIN pg_class tc ON tc.oid = i.indrelid
JOIN pg_namespace tn ON tn.oid = tc.relnamespace
JOIN pg_am am ON am.oid = ic.relam
WHERE ${userSchema('n')} AND ${notExtensionMember('pg_class', 'tc.oid')} ${only('tc')}
`;
export const INDEXES_QUERY = indexesQuery();

/** Table constraints (NOT NULL lives on the column in PostgreSQL 15). */
export const constraintsQuery = (only: Only = everything) => `
SELECT c.oid::text AS relid, n.nspname AS schema, c.relname AS table, co.conname AS name, co.contype AS type,
       pg_get_constraintdef(co.oid) AS definition, co.convalidated AS validated, ds.description AS comment
FROM pg_constraint co
JOIN pg_class c ON c.oid = co.conrelid
LEFT JOIN pg_description ds ON ds.objoid = co.oid AND ds.classoid = 'pg_constraint'::regclass AND ds.objsubid = 0
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE co.conrelid <> 0 AND ${userSchema('n')} AND ${notExtensionMember('pg_class', 'c.oid')} ${only('c')}
`;
export const CONSTRAINTS_QUERY = constraintsQuery();

/** Functions, procedures and aggregates; the signature is the name, the full definition the digest. */
export const FUNCTIONS_QUERY = `
SELECT n.nspname AS schema, p.oid::regprocedure::text AS signature, p.prokind AS kind, l.lanname AS language,
       CASE WHEN p.prokind <> 'a' THEN pg_get_functiondef(p.oid) END AS definition,
       pg_get_function_result(p.oid) AS result, pg_get_userbyid(p.proowner) AS owner, ${sortedAcl('p.proacl')} AS acl,
       p.prosecdef AS security_definer, p.proconfig AS config, obj_description(p.oid, 'pg_proc') AS comment,
       CASE WHEN p.prokind = 'a' THEN json_build_object(
         'arguments', pg_get_function_arguments(p.oid), 'kind', ag.aggkind, 'transition', ag.aggtransfn::text,
         'final', ag.aggfinalfn::text, 'combine', ag.aggcombinefn::text, 'state_type', ag.aggtranstype::regtype::text,
         'initial', ag.agginitval) END AS aggregate
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_language l ON l.oid = p.prolang
LEFT JOIN pg_aggregate ag ON ag.aggfnoid = p.oid
WHERE ${userSchema('n')} AND ${notExtensionMember('pg_proc', 'p.oid')}
ORDER BY 1, 2`;

export const triggersQuery = (only: Only = everything) => `
SELECT c.oid::text AS relid, n.nspname AS schema, c.relname AS table, t.tgname AS name, pg_get_triggerdef(t.oid) AS definition, t.tgenabled AS enabled
FROM pg_trigger t
JOIN pg_class c ON c.oid = t.tgrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND ${userSchema('n')} AND ${notExtensionMember('pg_class', 'c.oid')} ${only('c')}
ORDER BY n.nspname, c.relname, t.tgname`;
export const TRIGGERS_QUERY = triggersQuery();

/** Enums, domains and free-standing composite types (a table's row type is the table). */
export const TYPES_QUERY = `
SELECT n.nspname AS schema, t.typname AS name, t.typtype AS type, pg_get_userbyid(t.typowner) AS owner, ${sortedAcl('t.typacl')} AS acl,
       CASE t.typtype
         WHEN 'e' THEN (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid)::text
         WHEN 'd' THEN format_type(t.typbasetype, t.typtypmod) || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END
           || coalesce(' DEFAULT ' || t.typdefault, '')
           || coalesce((SELECT ' ' || string_agg(pg_get_constraintdef(dc.oid), ' ' ORDER BY dc.conname) FROM pg_constraint dc WHERE dc.contypid = t.oid), '')
         WHEN 'c' THEN (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
                          FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped)
         WHEN 'r' THEN (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid)
       END AS definition
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_class c ON c.oid = t.typrelid
WHERE t.typtype IN ('e', 'd', 'c', 'r') AND (t.typrelid = 0 OR c.relkind = 'c')
  AND ${userSchema('n')} AND ${notExtensionMember('pg_type', 't.oid')}
ORDER BY 1, 2`;

export const EXTENSIONS_QUERY = `
SELECT e.extname AS name, e.extversion AS version, n.nspname AS schema,
       -- Members are described by what they are, never by OID: ALTER EXTENSION … ADD changes this list.
       (SELECT array_agg(pg_describe_object(d.classid, d.objid, 0) ORDER BY pg_describe_object(d.classid, d.objid, 0))
          FROM pg_depend d WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid AND d.deptype = 'e') AS members,
       (SELECT array_agg(DISTINCT mn.nspname::text)
          FROM pg_depend d JOIN pg_class mc ON d.classid = 'pg_class'::regclass AND mc.oid = d.objid JOIN pg_namespace mn ON mn.oid = mc.relnamespace
         WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid AND d.deptype = 'e') AS member_schemas
FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
ORDER BY 1`;

/** The objects below come back in ONE round trip: a single row with one JSON array per kind. */
export function combinedQuery(parts: Record<string, string>): string {
  const columns = Object.entries(parts).map(
    ([name, sql]) => `(SELECT coalesce(json_agg(q), '[]'::json) FROM (${sql}) AS q) AS "${name}"`,
  );
  return `SELECT ${columns.join(',\n       ')}`;
}

/** Row-level security policies, each on its table. */
export const POLICIES_QUERY = `
SELECT n.nspname AS schema, c.relname AS table, p.polname AS name, p.polcmd AS command, p.polpermissive AS permissive,
       (SELECT array_agg(CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r) END ORDER BY 1) FROM unnest(p.polroles) AS r) AS roles,
       pg_get_expr(p.polqual, p.polrelid) AS using, pg_get_expr(p.polwithcheck, p.polrelid) AS with_check
FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE ${userSchema('n')}
ORDER BY 1, 2, 3`;

/** Rewrite rules other than a view's own _RETURN rule (DO INSTEAD NOTHING on a table is a change to it). */
export const RULES_QUERY = `
SELECT n.nspname AS schema, c.relname AS table, r.rulename AS name, pg_get_ruledef(r.oid) AS definition, r.ev_enabled AS enabled
FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE r.rulename <> '_RETURN' AND ${userSchema('n')}
ORDER BY 1, 2, 3`;

/** Default privileges, per role and schema (global ones have no schema). */
export const DEFAULT_ACLS_QUERY = `
SELECT pg_get_userbyid(d.defaclrole) AS role, n.nspname AS schema, d.defaclobjtype AS object_type, ${sortedAcl('d.defaclacl')} AS acl
FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
WHERE n.nspname IS NULL OR n.nspname <> $1
ORDER BY 1, 2, 3`;

/** Event triggers: database-wide. */
export const EVENT_TRIGGERS_QUERY = `
SELECT e.evtname AS name, e.evtevent AS event, e.evtenabled AS enabled, e.evttags AS tags, e.evtfoid::regprocedure::text AS function, pg_get_userbyid(e.evtowner) AS owner
FROM pg_event_trigger e
ORDER BY 1`;

/** Publications and the tables each publishes. */
export const PUBLICATIONS_QUERY = `
SELECT p.pubname AS name, p.puballtables AS all_tables, p.pubinsert AS "insert", p.pubupdate AS "update", p.pubdelete AS "delete", p.pubtruncate AS "truncate",
       pg_get_userbyid(p.pubowner) AS owner,
       (SELECT array_agg((pn.nspname || '.' || pc.relname)::text ORDER BY 1) FROM pg_publication_rel pr JOIN pg_class pc ON pc.oid = pr.prrelid
          JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE pr.prpubid = p.oid) AS tables,
       -- Column lists and row filters (PostgreSQL 15), only where a table has one.
       (SELECT array_agg((pn.nspname || '.' || pc.relname || ' ' || coalesce(pr.prattrs::text, '*') || ' ' ||
                coalesce(pg_get_expr(pr.prqual, pr.prrelid), 'true'))::text ORDER BY 1)
          FROM pg_publication_rel pr JOIN pg_class pc ON pc.oid = pr.prrelid JOIN pg_namespace pn ON pn.oid = pc.relnamespace
         WHERE pr.prpubid = p.oid AND (pr.prattrs IS NOT NULL OR pr.prqual IS NOT NULL)) AS table_filters
FROM pg_publication p
ORDER BY 1`;

/** The database itself (owner, ACL, per-database settings) and the cluster's roles: outside any migration's scope. */
export const DATABASE_QUERY = `
SELECT current_database() AS name, pg_get_userbyid(d.datdba) AS owner, ${sortedAcl('d.datacl')} AS acl,
       (SELECT array_agg(s ORDER BY s) FROM pg_db_role_setting rs, unnest(rs.setconfig) AS s WHERE rs.setdatabase = d.oid AND rs.setrole = 0) AS settings,
       (SELECT array_agg(pg_get_userbyid(rs.setrole) || ':' || s ORDER BY 1) FROM pg_db_role_setting rs, unnest(rs.setconfig) AS s WHERE rs.setdatabase = d.oid AND rs.setrole <> 0) AS role_settings
FROM pg_database d WHERE d.datname = current_database()`;

export const ROLES_QUERY = `
SELECT r.rolname AS name, r.rolsuper AS superuser, r.rolinherit AS inherit, r.rolcreaterole AS create_role, r.rolcreatedb AS create_db,
       r.rolcanlogin AS login, r.rolreplication AS replication, r.rolbypassrls AS bypass_rls, r.rolconnlimit AS connection_limit,
       (SELECT array_agg(g.rolname::text ORDER BY g.rolname) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid) AS member_of,
       -- The role's own settings in every database (ALTER ROLE … SET), cluster-wide.
       (SELECT array_agg(s ORDER BY s) FROM pg_db_role_setting rs, unnest(rs.setconfig) AS s WHERE rs.setrole = r.oid AND rs.setdatabase = 0) AS settings
FROM pg_roles r
WHERE r.rolname !~ '^pg_'
ORDER BY 1`;

/**
 * The change detector of an incremental capture (never part of a baseline). One row:
 *
 * - `relids`, `signatures`, `reltuples`: every user relation (the relation-level queries' rows all belong
 *   to one), in RELATIONS_QUERY's order, with a sum of 64-bit hashes over the versions (xmin) of every
 *   catalog row the relation-level queries read for it — pg_class (the relation and its indexes), its
 *   namespace, pg_attribute, pg_attrdef, pg_index (with its state flags, whatever way they are written),
 *   pg_constraint, pg_trigger (internal ones too), pg_rewrite, pg_description, pg_inherits,
 *   pg_partitioned_table, pg_sequence — and every pg_depend row of the relation and its sub-objects
 *   (extension membership, owned sequences, the tables a view reads), plus the version of each object those
 *   rows reference: another relation's own sum (its name and column names are rendered into foreign keys,
 *   views, defaults, parents), a type, function, collation, operator, operator class, namespace… with its
 *   namespace. A reference into a catalog not listed here gets a fresh random version: always refetched.
 *   Every MVCC write gives a row a new xmin, so an unchanged signature means unchanged rows. A sum (not an
 *   XOR) so that a duplicated row never cancels out; order-free, so no sort.
 * - `global`: what renders into many relations without a pg_depend row of theirs — role names (owners,
 *   ACLs), the built-in (pinned) types, functions and namespaces, every operator, operator class and
 *   family, collation and access method. When it moves, the capture is a full one.
 */
export const SIGNATURES_QUERY = `
WITH rel AS MATERIALIZED (
  SELECT c.oid, c.xmin AS cx, c.reltuples::float8 AS reltuples, n.nspname, c.relname, n.xmin AS nx
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S') AND ${userSchema('n')}
),
owned AS MATERIALIZED (
  SELECT r.oid AS rel, 'pg_class'::regclass::oid AS classid, r.oid AS objid FROM rel r
  UNION ALL SELECT i.indrelid, 'pg_class'::regclass::oid, i.indexrelid FROM pg_index i JOIN rel r ON r.oid = i.indrelid
  UNION ALL SELECT d.adrelid, 'pg_attrdef'::regclass::oid, d.oid FROM pg_attrdef d JOIN rel r ON r.oid = d.adrelid
  UNION ALL SELECT co.conrelid, 'pg_constraint'::regclass::oid, co.oid FROM pg_constraint co JOIN rel r ON r.oid = co.conrelid
  UNION ALL SELECT t.tgrelid, 'pg_trigger'::regclass::oid, t.oid FROM pg_trigger t JOIN rel r ON r.oid = t.tgrelid
  UNION ALL SELECT w.ev_class, 'pg_rewrite'::regclass::oid, w.oid FROM pg_rewrite w JOIN rel r ON r.oid = w.ev_class
),
dep AS MATERIALIZED (
  SELECT o.rel, d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid, d.refobjsubid, d.deptype
  FROM pg_depend d JOIN owned o ON o.classid = d.classid AND o.objid = d.objid
  WHERE d.classid IN ('pg_class'::regclass, 'pg_attrdef'::regclass, 'pg_constraint'::regclass, 'pg_trigger'::regclass, 'pg_rewrite'::regclass)
),
own_parts AS (
  SELECT r.oid AS rel, hash_record_extended(ROW(1, r.cx, r.nx), 0) AS h FROM rel r
  UNION ALL SELECT a.attrelid, hash_record_extended(ROW(2, a.attnum, a.xmin), 0) FROM pg_attribute a JOIN rel r ON r.oid = a.attrelid WHERE a.attnum > 0
  UNION ALL SELECT d.adrelid, hash_record_extended(ROW(3, d.adnum, d.xmin), 0) FROM pg_attrdef d JOIN rel r ON r.oid = d.adrelid
  UNION ALL SELECT i.indrelid, hash_record_extended(ROW(4, i.indexrelid, i.xmin, ic.xmin, i.indisvalid, i.indisready, i.indislive), 0)
    FROM pg_index i JOIN rel r ON r.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid
  UNION ALL SELECT co.conrelid, hash_record_extended(ROW(5, co.oid, co.xmin), 0) FROM pg_constraint co JOIN rel r ON r.oid = co.conrelid
  UNION ALL SELECT t.tgrelid, hash_record_extended(ROW(6, t.oid, t.xmin, t.tgenabled), 0) FROM pg_trigger t JOIN rel r ON r.oid = t.tgrelid
  UNION ALL SELECT w.ev_class, hash_record_extended(ROW(7, w.oid, w.xmin, w.ev_enabled), 0) FROM pg_rewrite w JOIN rel r ON r.oid = w.ev_class
  UNION ALL SELECT ds.objoid, hash_record_extended(ROW(8, ds.objsubid, ds.xmin), 0) FROM pg_description ds JOIN rel r ON r.oid = ds.objoid
    WHERE ds.classoid = 'pg_class'::regclass
  UNION ALL SELECT o.rel, hash_record_extended(ROW(14, o.classid, o.objid, ds.xmin), 0) FROM pg_description ds
    JOIN owned o ON o.objid = ds.objoid AND o.classid = ds.classoid AND o.classid IN ('pg_class'::regclass, 'pg_constraint'::regclass)
   WHERE o.objid <> o.rel AND ds.objsubid = 0
  UNION ALL SELECT h.inhrelid, hash_record_extended(ROW(9, h.inhparent, h.inhseqno, h.xmin), 0) FROM pg_inherits h JOIN rel r ON r.oid = h.inhrelid
  UNION ALL SELECT p.partrelid, hash_record_extended(ROW(10, p.xmin), 0) FROM pg_partitioned_table p JOIN rel r ON r.oid = p.partrelid
  UNION ALL SELECT s.seqrelid, hash_record_extended(ROW(11, s.xmin), 0) FROM pg_sequence s JOIN rel r ON r.oid = s.seqrelid
  UNION ALL SELECT d.rel, hash_record_extended(ROW(12, d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid, d.refobjsubid, d.deptype), 0)
    FROM dep d
),
own AS MATERIALIZED (
  SELECT rel, sum(h::numeric) AS signature FROM own_parts GROUP BY rel
),
refs AS MATERIALIZED (
  SELECT DISTINCT d.rel, d.refclassid, d.refobjid FROM dep d
   WHERE NOT (d.refclassid = 'pg_class'::regclass AND d.refobjid = d.rel)
),
-- Each referenced constraint with its owner's signature, resolved once for the whole set. Joined per
-- reference inside ref_parts instead, the planner (which estimates every CTE at 200 rows) probed all of
-- own for each reference: 25,000 × 10,000 rows, 12 s at 10,000 tables.
con_sig AS MATERIALIZED (
  SELECT co.oid AS con, co.xmin AS cx, co.conrelid, xk.signature
    FROM (SELECT DISTINCT refobjid FROM refs WHERE refclassid = 'pg_constraint'::regclass) AS f
    JOIN pg_constraint co ON co.oid = f.refobjid
    LEFT JOIN own xk ON xk.rel = co.conrelid
),
ref_parts AS (
  SELECT f.rel, hash_record_extended(ROW(13, f.refclassid, f.refobjid, coalesce(CASE f.refclassid
      WHEN 'pg_class'::regclass THEN coalesce(xc.signature::text,
        (SELECT c.xmin || '.' || n.xmin FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = f.refobjid))
      WHEN 'pg_constraint'::regclass THEN co.cx || '.' || coalesce(co.signature::text, '')
      WHEN 'pg_type'::regclass THEN (SELECT t.xmin || '.' || n.xmin || '.' || coalesce(e.xmin::text, '') FROM pg_type t
        JOIN pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_type e ON e.oid = t.typelem WHERE t.oid = f.refobjid)
      WHEN 'pg_proc'::regclass THEN (SELECT p.xmin || '.' || n.xmin FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.oid = f.refobjid)
      WHEN 'pg_collation'::regclass THEN (SELECT o.xmin || '.' || n.xmin FROM pg_collation o JOIN pg_namespace n ON n.oid = o.collnamespace WHERE o.oid = f.refobjid)
      WHEN 'pg_operator'::regclass THEN (SELECT o.xmin || '.' || n.xmin FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE o.oid = f.refobjid)
      WHEN 'pg_opclass'::regclass THEN (SELECT o.xmin || '.' || n.xmin FROM pg_opclass o JOIN pg_namespace n ON n.oid = o.opcnamespace WHERE o.oid = f.refobjid)
      WHEN 'pg_opfamily'::regclass THEN (SELECT o.xmin || '.' || n.xmin FROM pg_opfamily o JOIN pg_namespace n ON n.oid = o.opfnamespace WHERE o.oid = f.refobjid)
      WHEN 'pg_namespace'::regclass THEN (SELECT n.xmin::text FROM pg_namespace n WHERE n.oid = f.refobjid)
      WHEN 'pg_extension'::regclass THEN (SELECT e.xmin::text FROM pg_extension e WHERE e.oid = f.refobjid)
    END, gen_random_uuid()::text)), 0) AS h
  FROM refs f
  LEFT JOIN own xc ON f.refclassid = 'pg_class'::regclass AND xc.rel = f.refobjid
  LEFT JOIN con_sig co ON f.refclassid = 'pg_constraint'::regclass AND co.con = f.refobjid
  -- A relation's own constraints (an index's) are among its own rows already.
  WHERE co.conrelid IS DISTINCT FROM f.rel
),
signed AS (
  SELECT rel, sum(part) AS signature
  FROM (SELECT rel, signature AS part FROM own UNION ALL SELECT rel, h::numeric FROM ref_parts) AS p GROUP BY rel
)
SELECT array_agg(r.oid::text ORDER BY r.nspname, r.relname) AS relids,
       array_agg(s.signature::text ORDER BY r.nspname, r.relname) AS signatures,
       array_agg(r.reltuples ORDER BY r.nspname, r.relname) AS reltuples,
       md5(concat_ws(';',
         (SELECT string_agg(r.oid || ':' || r.rolname, ',' ORDER BY r.oid) FROM pg_roles r),
         (SELECT sum(hash_record_extended(ROW(t.oid, t.xmin), 0)::numeric) FROM pg_type t WHERE t.oid < 16384),
         (SELECT sum(hash_record_extended(ROW(p.oid, p.xmin), 0)::numeric) FROM pg_proc p WHERE p.oid < 16384),
         (SELECT sum(hash_record_extended(ROW(n.oid, n.xmin), 0)::numeric) FROM pg_namespace n WHERE n.oid < 16384),
         (SELECT sum(hash_record_extended(ROW(o.oid, o.xmin), 0)::numeric) FROM pg_operator o),
         (SELECT sum(hash_record_extended(ROW(o.oid, o.xmin), 0)::numeric) FROM pg_opclass o),
         (SELECT sum(hash_record_extended(ROW(o.oid, o.xmin), 0)::numeric) FROM pg_opfamily o),
         (SELECT sum(hash_record_extended(ROW(o.oid, o.xmin), 0)::numeric) FROM pg_collation o),
         (SELECT sum(hash_record_extended(ROW(o.oid, o.xmin), 0)::numeric) FROM pg_am o))) AS global
FROM rel r JOIN signed s ON s.rel = r.oid`;
