// Data-proportional facts computed INSIDE the database: exact row counts and content digests of
// protected tables. Rows never travel to the client; each chunk of tables is one round trip.
import type { ClientBase } from 'pg';
import { cidOfJson } from '@kfm/receipts';
import { qualifiedIdent } from './scope.js';

export interface TableRef {
  name: string;
  schema: string;
  table: string;
}

/** Tables per UNION ALL query: one round trip per chunk keeps the count bounded for large scopes. */
const CHUNK = 200;

async function perTable<T>(
  client: ClientBase,
  tables: readonly TableRef[],
  select: (from: string, position: number) => string,
  read: (row: Record<string, unknown>) => T,
): Promise<Record<string, T>> {
  const result: Record<string, T> = {};
  for (let start = 0; start < tables.length; start += CHUNK) {
    const chunk = tables.slice(start, start + CHUNK);
    const sql = chunk
      .map((ref, offset) => `(${select(qualifiedIdent(ref.schema, ref.table), offset)})`)
      .join('\nUNION ALL\n');
    const { rows } = await client.query(sql);
    for (const row of rows as Record<string, unknown>[]) {
      const ref = chunk[Number(row.position)];
      if (ref) result[ref.name] = read(row);
    }
  }
  return result;
}

export function exactRowCounts(client: ClientBase, tables: readonly TableRef[]): Promise<Record<string, number>> {
  return perTable(
    client,
    tables,
    (from, position) => `SELECT ${position} AS position, count(*)::text AS rows FROM ${from}`,
    (row) => Number(row.rows),
  );
}

/**
 * An order-independent digest of a protected table's content and identity: the row count and two sums of
 * 64-bit slices of md5(row text), the table's OID (a table dropped and recreated with identical rows is
 * another table: its grants, policies and dependants are gone) and the state of the sequences it owns
 * (`ALTER SEQUENCE … RESTART` is a change). Memory stays constant on the server (no string_agg over
 * millions of rows), and any changed, added or removed row moves it. The capture pins TimeZone, DateStyle
 * and extra_float_digits so row text is the same in every session. OIDs never enter the schema
 * fingerprint, only this content digest, which is compared within one database.
 */
export async function contentDigests(client: ClientBase, tables: readonly TableRef[]): Promise<Record<string, string>> {
  const sums = await perTable(
    client,
    tables,
    (from, position) => {
      const relation = `${client.escapeLiteral(from)}::regclass`;
      return `SELECT ${position} AS position, count(*)::text AS rows,
        coalesce(sum(('x' || substr(h, 1, 16))::bit(64)::bigint::numeric), 0)::text AS high,
        coalesce(sum(('x' || substr(h, 17, 16))::bit(64)::bigint::numeric), 0)::text AS low,
        (${relation})::oid::text AS identity,
        (SELECT coalesce(string_agg(s.schemaname || '.' || s.sequencename || '=' || coalesce(s.last_value::text, 'unused'), ',' ORDER BY s.sequencename), '')
           FROM pg_depend d JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S' JOIN pg_namespace sn ON sn.oid = sc.relnamespace
           JOIN pg_sequences s ON s.schemaname = sn.nspname AND s.sequencename = sc.relname
          WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.refobjid = ${relation} AND d.deptype IN ('a', 'i')) AS sequences
       FROM (SELECT md5(t::text) AS h FROM ${from} AS t) AS hashed`;
    },
    (row) => ({
      rows: String(row.rows),
      high: String(row.high),
      low: String(row.low),
      identity: String(row.identity),
      sequences: String(row.sequences),
    }),
  );
  const digests: Record<string, string> = {};
  for (const [name, value] of Object.entries(sums))
    digests[name] = await cidOfJson({ algorithm: 'md5-row-sum/v2', ...value });
  return digests;
}
