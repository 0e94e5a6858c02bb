// Turns catalog rows into baseline objects: a qualified name, the names it has per scope dimension,
// the digest of its normalized definition, and a few reviewer-facing attributes. Never an OID.
import type { BaselineObject } from '@kfm/migration-contracts';
import { cidOfJson } from '@kfm/receipts';
import { tableAliases } from './scope.js';

export type Row = Record<string, unknown>;

export interface CatalogRows {
  schemas: Row[];
  relations: Row[];
  columns: Row[];
  indexes: Row[];
  constraints: Row[];
  functions: Row[];
  triggers: Row[];
  types: Row[];
  extensions: Row[];
}

/** Facts the measures and invariants need, gathered in the same pass. */
export interface CatalogFacts {
  objects: BaselineObject[];
  /** Tables and materialized views (qualified name → aliases, reltuples). */
  relations: { name: string; schema: string; table: string; aliases: string[]; reltuples: number; relkind: string }[];
  /** Qualified table → its geometry/geography columns. */
  spatialColumns: Map<string, string[]>;
  /** Qualified table → key columns of each GiST/SP-GiST/BRIN index on it. */
  spatialIndexKeys: Map<string, string[][]>;
}

const RELATION_KIND: Record<string, string> = { r: 'table', p: 'table', f: 'table', v: 'view', m: 'materialized_view', S: 'sequence' };
const RELKIND_LABEL: Record<string, string> = { r: 'table', p: 'partitioned table', f: 'foreign table', v: 'view', m: 'materialized view', S: 'sequence' };
const CONSTRAINT_LABEL: Record<string, string> = { p: 'primary key', u: 'unique', f: 'foreign key', c: 'check', x: 'exclusion', t: 'constraint trigger' };
const FUNCTION_LABEL: Record<string, string> = { f: 'function', p: 'procedure', a: 'aggregate', w: 'window' };
const TYPE_LABEL: Record<string, string> = { e: 'enum', d: 'domain', c: 'composite', r: 'range' };
const SPATIAL_METHODS = new Set(['gist', 'spgist', 'brin']);
const GEOMETRY_TYPE = /^(?:[^()]*\.)?"?(geometry|geography)"?(?:\((\w+)(?:,\s*(-?\d+))?\))?$/;

const text = (value: unknown): string => String(value);
/** One shared scope per table: columns, indexes and constraints of a table carry the same names. */
function tableScopes(): (schema: string, table: string) => Record<string, string[]> {
  const scopes = new Map<string, Record<string, string[]>>();
  return (schema, table) => {
    const key = `${schema}\u0000${table}`;
    let scope = scopes.get(key);
    if (!scope) {
      scope = { schemas: [schema], tables: tableAliases(schema, table) };
      scopes.set(key, scope);
    }
    return scope;
  };
}

/** Drops null and undefined so absent facts never differ from missing ones in a digest. */
function compact<T extends Record<string, unknown>>(value: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== null && entry !== undefined));
}

interface ObjectSpec {
  kind: string;
  name: string;
  scope: Record<string, string[]>;
  definition: Record<string, unknown>;
  attributes?: Record<string, unknown>;
}

function object(kind: string, name: string, scope: Record<string, string[]>, definition: Record<string, unknown>, attributes?: Record<string, unknown>): ObjectSpec {
  return attributes ? { kind, name, scope, definition, attributes } : { kind, name, scope, definition };
}

/** Digests one at a time: tens of thousands of concurrent digest promises cost more than they save. */
async function digested(specs: readonly ObjectSpec[]): Promise<BaselineObject[]> {
  const objects: BaselineObject[] = [];
  for (const spec of specs) {
    const result: BaselineObject = { kind: spec.kind, name: spec.name, scope: spec.scope, digest: await cidOfJson(compact(spec.definition)) };
    if (spec.attributes) result.attributes = compact(spec.attributes);
    objects.push(result);
  }
  return objects;
}

/** `geometry(MultiPolygon,4326)` → { type: 'MultiPolygon', srid: 4326 }; a bare geometry is Geometry/0. */
export function spatialType(formatted: string): { family: string; type: string; srid: number } | undefined {
  const match = GEOMETRY_TYPE.exec(formatted);
  if (!match) return undefined;
  return { family: match[1]!, type: match[2] ?? 'Geometry', srid: match[3] ? Number(match[3]) : 0 };
}

export async function catalogObjects(rows: CatalogRows): Promise<CatalogFacts> {
  const pending: ObjectSpec[] = [];
  const tableScope = tableScopes();
  const relations: CatalogFacts['relations'] = [];
  const spatialColumns = new Map<string, string[]>();
  const spatialIndexKeys = new Map<string, string[][]>();

  for (const row of rows.schemas) pending.push(object('schema', text(row.name), { schemas: [text(row.name)] }, { schema: row.name }));

  const columnOrder = new Map<string, string[]>();
  for (const row of rows.columns) {
    const [schema, table, name, type] = [text(row.schema), text(row.table), text(row.name), text(row.type)];
    const qualified = `${schema}.${table}`;
    const order = columnOrder.get(qualified);
    if (order) order.push(name);
    else columnOrder.set(qualified, [name]);
    const spatial = row.type_name === 'geometry' || row.type_name === 'geography' ? spatialType(type) : undefined;
    if (spatial) spatialColumns.set(qualified, [...(spatialColumns.get(qualified) ?? []), name]);
    const facts = {
      type,
      not_null: row.not_null,
      default: row.default,
      identity: row.identity || null,
      generated: row.generated || null,
      collation: row.collation,
      geometry: spatial ? { type: spatial.type, srid: spatial.srid } : null,
    };
    pending.push(object('column', `${qualified}.${name}`, tableScope(schema, table), facts, { type, not_null: row.not_null, geometry_type: spatial?.type, srid: spatial?.srid }));
  }

  for (const row of rows.relations) {
    const [schema, name, relkind] = [text(row.schema), text(row.name), text(row.relkind)];
    const qualified = `${schema}.${name}`;
    const kind = RELATION_KIND[relkind] ?? 'table';
    const options = Array.isArray(row.options) ? [...(row.options as string[])].sort() : null;
    if (kind === 'sequence') {
      const ownedBy = row.owner_table ? `${text(row.owner_schema)}.${text(row.owner_table)}.${text(row.owner_column)}` : null;
      const scope = row.owner_table ? tableScope(text(row.owner_schema), text(row.owner_table)) : { schemas: [schema] };
      const definition = {
        type: row.sequence_type, start: row.sequence_start, increment: row.sequence_increment, min: row.sequence_min,
        max: row.sequence_max, cache: row.sequence_cache, cycle: row.sequence_cycle, owned_by: ownedBy, persistence: row.persistence,
      };
      pending.push(object('sequence', qualified, scope, definition, { type: row.sequence_type, owned_by: ownedBy }));
      continue;
    }
    const definition = {
      relkind, persistence: row.persistence, options, row_security: row.row_security, view: row.view_definition,
      partition_key: row.partition_key, partition_bound: row.partition_bound, parents: row.parents, access_method: row.access_method,
      columns: kind === 'view' ? null : (columnOrder.get(qualified) ?? []),
    };
    pending.push(object(kind, qualified, tableScope(schema, name), definition, { relkind: RELKIND_LABEL[relkind], unlogged: row.persistence === 'u' || null }));
    if (kind !== 'view' && relkind !== 'f') {
      relations.push({ name: qualified, schema, table: name, aliases: tableAliases(schema, name), reltuples: Number(row.reltuples), relkind });
    }
  }

  for (const row of rows.indexes) {
    const [schema, name, tableSchema, table] = [text(row.schema), text(row.name), text(row.table_schema), text(row.table)];
    const keys = (row.key_columns as string[] | null) ?? [];
    const method = text(row.method);
    if (SPATIAL_METHODS.has(method) && row.valid) {
      const qualifiedTable = `${tableSchema}.${table}`;
      const known = spatialIndexKeys.get(qualifiedTable);
      if (known) known.push(keys);
      else spatialIndexKeys.set(qualifiedTable, [keys]);
    }
    pending.push(
      object('index', `${schema}.${name}`, tableScope(tableSchema, table), { definition: row.definition, valid: row.valid }, {
        method, table: `${tableSchema}.${table}`, columns: keys, unique: row.unique, primary: row.primary, valid: row.valid, partial: row.partial || null,
      }),
    );
  }

  for (const row of rows.constraints) {
    const [schema, table, name] = [text(row.schema), text(row.table), text(row.name)];
    const type = CONSTRAINT_LABEL[text(row.type)] ?? text(row.type);
    pending.push(object('constraint', `${schema}.${table}.${name}`, tableScope(schema, table), { type, definition: row.definition, validated: row.validated }, { type, validated: row.validated }));
  }

  for (const row of rows.functions) {
    const kind = FUNCTION_LABEL[text(row.kind)] ?? text(row.kind);
    const definition = { kind, language: row.language, definition: row.definition, result: row.result, aggregate: row.aggregate };
    pending.push(object('function', text(row.signature), { schemas: [text(row.schema)] }, definition, { kind, language: row.language }));
  }

  for (const row of rows.triggers) {
    const [schema, table, name] = [text(row.schema), text(row.table), text(row.name)];
    pending.push(object('trigger', `${schema}.${table}.${name}`, tableScope(schema, table), { definition: row.definition, enabled: row.enabled }, { enabled: row.enabled !== 'D' }));
  }

  for (const row of rows.types) {
    const type = TYPE_LABEL[text(row.type)] ?? text(row.type);
    pending.push(object('type', `${text(row.schema)}.${text(row.name)}`, { schemas: [text(row.schema)] }, { type, definition: row.definition }, { type }));
  }

  for (const row of rows.extensions) {
    pending.push(object('extension', text(row.name), { schemas: [text(row.schema)] }, { version: row.version, schema: row.schema }, { version: row.version, schema: row.schema }));
  }

  const objects = await digested(pending);
  objects.sort((a, b) => (a.kind !== b.kind ? (a.kind < b.kind ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { objects, relations, spatialColumns, spatialIndexKeys };
}
