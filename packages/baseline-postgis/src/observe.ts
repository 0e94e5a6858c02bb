// What a PostgreSQL run's transaction is checked for at its commit point beyond the baseline diff and
// the row counters: sequences this session moved (set back after a refused run), catalog rows written
// or dropped where no baseline looks, the runner's ledger, and a session state discarded under it.
import type { DataChange, Progress } from '@kfm/migration-contracts';
import type { ClientBase } from 'pg';
import { LEDGER_SCHEMA } from './ledger.js';
import { userEventTrigger } from './resolve.js';
import { tableAliases } from './scope.js';

/**
 * Does `currval` answer for this sequence in this session (only after the session's own nextval or
 * setval)? Asked under a savepoint inside a transaction, so a refusal aborts nothing.
 */
async function currvalAnswers(client: ClientBase, sequence: string, transaction: boolean): Promise<boolean> {
  if (transaction) await client.query('SAVEPOINT kfm_currval_probe');
  try {
    await client.query('SELECT currval($1::regclass)', [sequence]);
    if (transaction) await client.query('RELEASE SAVEPOINT kfm_currval_probe');
    return true;
  } catch {
    if (transaction) await client.query('ROLLBACK TO SAVEPOINT kfm_currval_probe');
    return false;
  }
}

/** Where each sequence stands (its last value; null before its first nextval or after a restart). */
export type SequencePositions = Map<
  string,
  { schema: string; name: string; owner?: { schema: string; table: string }; value: string | null }
>;

/**
 * Every readable sequence's position and the table owning it. Sequences are not transactional and keep
 * no per-transaction counter: `setval`, `nextval` or `ALTER SEQUENCE … RESTART` in dynamic SQL would move
 * one unseen, and no rollback moves it back.
 */
export async function sequencePositions(client: ClientBase): Promise<SequencePositions> {
  const { rows } = await client.query(
    `SELECT c.oid::text AS id, n.nspname AS schema, c.relname AS name, tn.nspname AS owner_schema, t.relname AS owner_table,
            pg_sequence_last_value(c.oid)::text AS value
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
            AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
       LEFT JOIN pg_class t ON t.oid = d.refobjid
       LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
      WHERE c.relkind = 'S' AND n.nspname NOT IN ('pg_catalog', 'information_schema', $1)
        AND n.nspname !~ '^pg_(temp|toast)'
        -- CASE keeps the privilege check off other relations (it raises "is not a sequence" on them).
        AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(c.oid, 'SELECT, USAGE') ELSE false END`,
    // The ledger's ids move with the runner's own records (resume points during a batched run).
    [LEDGER_SCHEMA],
  );
  return new Map(
    rows.map((row) => [
      String(row.id),
      {
        schema: String(row.schema),
        name: String(row.name),
        ...(row.owner_table ? { owner: { schema: String(row.owner_schema), table: String(row.owner_table) } } : {}),
        value: row.value === null ? null : String(row.value),
      },
    ]),
  );
}

/**
 * The sequences this run moved, as data changes of the table owning each (or of the sequence itself).
 * Live traffic moves sequences too, so a moved one counts only when this session did it: a restart
 * (no session's nextval leaves a sequence unset), or `currval` answering in this session (it does only
 * after this session's own nextval or setval), asked under a savepoint so a refusal aborts nothing.
 */
export async function sequenceChangesSince(
  client: ClientBase,
  before: SequencePositions,
  after: SequencePositions,
  transaction: boolean,
): Promise<{ changes: DataChange[]; moved: SequenceMove[] }> {
  const changes: DataChange[] = [];
  const moved: SequenceMove[] = [];
  for (const [id, now] of after) {
    const then = before.get(id);
    if (!then || then.value === now.value) continue;
    const ours = now.value === null || (await currvalAnswers(client, id, transaction));
    if (!ours) continue;
    moved.push({ id, name: `${now.schema}.${now.name}`, from: then.value, to: now.value });
    const [schema, table] = now.owner ? [now.owner.schema, now.owner.table] : [now.schema, now.name];
    changes.push({
      object: `${schema}.${table}`,
      kind: now.owner ? 'table' : 'sequence',
      scope: { schemas: [schema], tables: tableAliases(schema, table) },
      counts: { sequence_moved: 1 },
    });
  }
  return { changes, moved };
}

export interface SequenceMove {
  id: string;
  name: string;
  from: string | null;
  to: string | null;
}

/**
 * Puts back the sequences a refused or failed transactional run moved (their moves outlive its
 * ROLLBACK), each only while it still stands where the run left it: a sequence live traffic has moved
 * since is left alone and reported, since setting it back could hand out ids twice.
 */
async function restoreSequences(
  client: ClientBase,
  moved: readonly SequenceMove[],
  progress?: Progress,
): Promise<string[]> {
  const left: string[] = [];
  for (const move of moved) {
    try {
      const { rows } = await client.query(
        `SELECT CASE WHEN $2::text IS NULL
                     THEN setval($1::oid, (SELECT seqstart FROM pg_sequence WHERE seqrelid = $1::oid), false)
                     ELSE setval($1::oid, $2::bigint, true) END AS restored
          WHERE pg_sequence_last_value($1::oid)::text IS NOT DISTINCT FROM $3::text`,
        [move.id, move.from, move.to],
      );
      if (rows.length === 0) left.push(move.name);
      else progress?.(`restored sequence ${move.name} to ${move.from ?? 'its start'}`);
    } catch {
      left.push(move.name);
    }
  }
  return left;
}

/**
 * Catalogs no baseline reads, with how to name a row: `name` (SQL over alias t), `schema` (its namespace,
 * or absent: database-wide, outside every scope), `table` (the relation it is on, when it has one).
 */
const UNOBSERVED_CATALOGS: { catalog: string; name: string; schema?: string; table?: string; member?: boolean }[] = [
  { catalog: 'pg_largeobject_metadata', name: "'large object ' || t.oid" },
  { catalog: 'pg_statistic_ext', name: 't.stxname', schema: 't.stxnamespace', table: 't.stxrelid', member: true },
  { catalog: 'pg_collation', name: 't.collname', schema: 't.collnamespace', member: true },
  { catalog: 'pg_operator', name: 't.oprname', schema: 't.oprnamespace', member: true },
  { catalog: 'pg_opclass', name: 't.opcname', schema: 't.opcnamespace', member: true },
  { catalog: 'pg_opfamily', name: 't.opfname', schema: 't.opfnamespace', member: true },
  { catalog: 'pg_ts_config', name: 't.cfgname', schema: 't.cfgnamespace', member: true },
  { catalog: 'pg_ts_dict', name: 't.dictname', schema: 't.dictnamespace', member: true },
  { catalog: 'pg_ts_parser', name: 't.prsname', schema: 't.prsnamespace', member: true },
  { catalog: 'pg_ts_template', name: 't.tmplname', schema: 't.tmplnamespace', member: true },
  { catalog: 'pg_conversion', name: 't.conname', schema: 't.connamespace', member: true },
  {
    catalog: 'pg_cast',
    name: "format_type(t.castsource, NULL) || ' AS ' || format_type(t.casttarget, NULL)",
    member: true,
  },
  { catalog: 'pg_am', name: 't.amname', member: true },
  { catalog: 'pg_transform', name: 'format_type(t.trftype, NULL)', member: true },
  { catalog: 'pg_language', name: 't.lanname', member: true },
  { catalog: 'pg_foreign_data_wrapper', name: 't.fdwname', member: true },
  { catalog: 'pg_foreign_server', name: 't.srvname', member: true },
  { catalog: 'pg_database', name: "'database ' || t.datname" },
  { catalog: 'pg_shdescription', name: "'comment on ' || t.classoid::regclass || ' ' || t.objoid" },
  { catalog: 'pg_tablespace', name: 't.spcname' },
];

/**
 * Rows this transaction wrote in catalogs no baseline reads: a row visible here whose inserting
 * transaction is still in progress can only be this transaction's (or one of its subtransactions'), since
 * no other session's uncommitted rows are visible. Extension members are left out (CREATE EXTENSION).
 * Each is a data change of its schema (or of the database, outside every scope).
 */
async function unobservedCatalogWrites(client: ClientBase): Promise<DataChange[]> {
  const { rows: readable } = await client.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c
      WHERE c.relnamespace = 'pg_catalog'::regnamespace AND c.relname = ANY ($1::text[]) AND has_table_privilege(c.oid, 'SELECT')`,
    [UNOBSERVED_CATALOGS.map((entry) => entry.catalog)],
  );
  const allowed = new Set(readable.map((row) => row.name));
  const parts = UNOBSERVED_CATALOGS.filter((entry) => allowed.has(entry.catalog)).map(
    (entry) => `SELECT '${entry.catalog}' AS catalog, ${entry.name} AS name,
        ${entry.schema ? `(SELECT nspname FROM pg_namespace WHERE oid = ${entry.schema})` : 'NULL'} AS schema,
        ${entry.table ? `(SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ${entry.table})` : 'NULL'} AS "table"
      FROM pg_catalog.${entry.catalog} t, x
     WHERE t.xmin::text::bigint + x.epoch <= x.next AND t.xmin::text::bigint >= 3
       AND txid_status(t.xmin::text::bigint + x.epoch) = 'in progress'
       ${entry.member ? `AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${entry.catalog}'::regclass AND d.objid = t.oid AND d.deptype = 'e')` : ''}`,
  );
  if (parts.length === 0) return [];
  // The 64-bit form of a row's 32-bit xmin: this epoch's, unless that would be past the next xid.
  const { rows } = await client.query<{ catalog: string; name: string; schema: string | null; table: string | null }>(
    `WITH x AS MATERIALIZED (
       SELECT txid_snapshot_xmax(txid_current_snapshot()) AS next,
              txid_current() - txid_current() % 4294967296 AS epoch)
     ${parts.join('\nUNION ALL\n')}
     ORDER BY 1, 2`,
  );
  return rows.map((row) => {
    const at = row.table?.indexOf('.') ?? -1;
    const scope: Record<string, string[]> = row.table
      ? { schemas: [row.table.slice(0, at)], tables: tableAliases(row.table.slice(0, at), row.table.slice(at + 1)) }
      : row.schema
        ? { schemas: [row.schema] }
        : { database: ['current_database'] };
    return {
      object: `${row.catalog}:${row.schema ? `${row.schema}.` : ''}${row.name}`,
      kind: 'catalog',
      scope,
      counts: { written: 1 },
    };
  });
}

/**
 * The runner's ledger as the run must leave it for the runner: its relations with their privileges,
 * row security and options, their triggers, rules and policies, its functions (the append-only guard)
 * and the position of its sequences. No baseline reads the ledger schema, and the ledger row is written
 * after the commit decision, so a trigger planted on it by dynamic SQL would fire unjudged.
 */
async function ledgerSignature(client: ClientBase): Promise<string> {
  const { rows } = await client.query(
    `SELECT md5(concat_ws('|',
       (SELECT n.nspacl::text FROM pg_namespace n WHERE n.nspname = $1),
       (SELECT string_agg(concat_ws(':', c.relname, c.relkind, c.relacl::text, c.relrowsecurity, c.relforcerowsecurity,
                 c.reloptions::text, c.relreplident, CASE WHEN c.relkind = 'S' THEN pg_sequence_last_value(c.oid)::text END), ','
                 ORDER BY c.relname)
          FROM pg_class c WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1)),
       (SELECT string_agg(concat_ws(':', t.tgrelid::regclass, t.tgname, t.tgfoid::regprocedure, t.tgenabled, t.tgtype), ','
                 ORDER BY 1)
          FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1)),
       (SELECT string_agg(concat_ws(':', r.ev_class::regclass, r.rulename, r.ev_enabled), ',' ORDER BY 1)
          FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1)),
       (SELECT string_agg(concat_ws(':', p.polrelid::regclass, p.polname, p.polcmd, p.polpermissive), ',' ORDER BY 1)
          FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1)),
       (SELECT string_agg(concat_ws(':', p.oid::regprocedure, md5(p.prosrc), p.proacl::text, p.prosecdef, p.proconfig::text), ','
                 ORDER BY 1)
          FROM pg_proc p WHERE p.pronamespace = (SELECT oid FROM pg_namespace WHERE nspname = $1))
     )) AS signature`,
    [LEDGER_SCHEMA],
  );
  return String(rows[0]?.signature ?? '');
}

/** The data change a ledger changed by the script is: outside every scope. */
const LEDGER_CHANGED: DataChange = {
  object: `${LEDGER_SCHEMA} (the runner's ledger)`,
  kind: 'ledger',
  scope: { database: ['current_database'] },
  counts: { changed: 1 },
};

const MARKER = 'pg_temp.kfm_session_marker';

/**
 * Sequence moves are attributed by `currval`, which `DISCARD SEQUENCES` (or `DISCARD ALL`) in dynamic SQL
 * would erase. A sequence the runner advanced at the start is the witness: when it no longer answers at
 * the commit point, the session's state was discarded. Usually a temporary sequence of the runner's; while
 * an enabled event trigger calls a user function, creating one would be DDL that runs that function with
 * the runner's role (a superuser's, possibly, and a function a migrator owns), so the ledger's own sequence
 * is advanced instead (no DDL; a gap in the ledger's numbering). Undefined when neither can be used (then
 * only the static DISCARD rule stands).
 */
export async function plantSessionMarker(client: ClientBase): Promise<string | undefined> {
  // Outside the run's transaction, so it outlives a ROLLBACK (nextval is not transactional either).
  try {
    const { rows } = await client.query<{ evented: boolean; ledger: string | null }>(
      `SELECT EXISTS (SELECT 1 FROM pg_event_trigger e WHERE ${userEventTrigger('e')}) AS evented,
              pg_get_serial_sequence('${LEDGER_SCHEMA}.applied', 'seq') AS ledger`,
    );
    const [row] = rows;
    if (row?.evented) {
      if (!row.ledger) return undefined;
      await client.query('SELECT nextval($1::regclass)', [row.ledger]);
      return row.ledger;
    }
    await client.query(`CREATE TEMP SEQUENCE IF NOT EXISTS kfm_session_marker`);
    await client.query(`SELECT nextval('${MARKER}')`);
    return MARKER;
  } catch {
    return undefined;
  }
}

async function sessionMarkerLost(client: ClientBase, marker: string, transaction: boolean): Promise<boolean> {
  return !(await currvalAnswers(client, marker, transaction));
}

/** The data change a discarded session state is: outside every scope, so the run is refused. */
const DISCARDED: DataChange = {
  object: 'session state (DISCARD)',
  kind: 'session',
  scope: { database: ['current_database'] },
  counts: { discarded: 1 },
};

/** Catalogs whose rows a script could delete unseen (rows it wrote are caught by their xmin). */
const COUNTED_CATALOGS = UNOBSERVED_CATALOGS.filter((entry) => entry.member);

/**
 * How many rows each of those catalogs holds, per schema where it has one (extension members left
 * out): a count that fell between the start and the commit point is an object the script dropped.
 */
async function unobservedCounts(client: ClientBase): Promise<Map<string, number>> {
  const parts = COUNTED_CATALOGS.map(
    (entry) => `SELECT '${entry.catalog}' AS catalog,
        ${entry.schema ? `(SELECT nspname FROM pg_namespace WHERE oid = ${entry.schema})` : 'NULL'} AS schema, count(*)::int AS rows
      FROM pg_catalog.${entry.catalog} t
     WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${entry.catalog}'::regclass AND d.objid = t.oid AND d.deptype = 'e')
     GROUP BY 2`,
  );
  const { rows } = await client.query<{ catalog: string; schema: string | null; rows: number }>(
    parts.join('\nUNION ALL\n'),
  );
  return new Map(rows.map((row) => [`${row.catalog}\u0000${row.schema ?? ''}`, row.rows]));
}

/** Catalog rows gone since `before`: a data change of their schema, or of the database. */
function removedSince(before: Map<string, number>, after: Map<string, number>): DataChange[] {
  const changes: DataChange[] = [];
  for (const [key, count] of before) {
    const now = after.get(key) ?? 0;
    if (now >= count) continue;
    const [catalog, schema] = key.split('\u0000') as [string, string];
    changes.push({
      object: `${catalog}:${schema ? `${schema}.` : ''}(${count - now} removed)`,
      kind: 'catalog',
      scope: schema ? { schemas: [schema] } : { database: ['current_database'] },
      counts: { removed: count - now },
    });
  }
  return changes;
}

/** Readings taken when the run's transaction begins, to compare at its commit point. */
export interface TransactionWatch {
  /** The data changes the transaction made that only these readings show. */
  changes(): Promise<DataChange[]>;
  /** After ROLLBACK: set back the sequences this session moved; false when PRE cannot be claimed. */
  restore(progress?: Progress): Promise<boolean>;
}

/** Call right after BEGIN; `marker` is what plantSessionMarker (before BEGIN) planted, if anything. */
export async function watchTransaction(client: ClientBase, marker: string | undefined): Promise<TransactionWatch> {
  const sequences = await sequencePositions(client);
  const ledger = await ledgerSignature(client);
  const catalogs = await unobservedCounts(client);
  return {
    async changes() {
      return [
        ...(marker && (await sessionMarkerLost(client, marker, true)) ? [DISCARDED] : []),
        ...((await ledgerSignature(client)) !== ledger ? [LEDGER_CHANGED] : []),
        ...removedSince(catalogs, await unobservedCounts(client)),
        ...(await sequenceChangesSince(client, sequences, await sequencePositions(client), true)).changes,
        ...(await unobservedCatalogWrites(client)),
      ];
    },
    async restore(progress) {
      if (marker && (await sessionMarkerLost(client, marker, false))) {
        progress?.(
          "the script discarded the session's sequence state: sequences it moved cannot be told from live traffic's, and none was set back",
        );
        return false;
      }
      const { moved } = await sequenceChangesSince(client, sequences, await sequencePositions(client), false);
      const left = await restoreSequences(client, moved, progress);
      for (const name of left)
        progress?.(`sequence ${name} moved in this run and has moved again since; it was not set back`);
      return left.length === 0;
    },
  };
}
