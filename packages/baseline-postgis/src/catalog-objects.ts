// Turns catalog rows into baseline objects: a qualified name, the names it has per scope dimension,
// the digest of its normalized definition, and a few reviewer-facing attributes. Never an OID.
import type { BaselineObject } from '@kfm/migration-contracts';
import { cidOfJsonSync } from '@kfm/receipts';
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
  policies: Row[];
  rules: Row[];
  defaultAcls: Row[];
  eventTriggers: Row[];
  publications: Row[];
  database: Row[];
  roles: Row[];
}

/**
 * Scope dimensions no declaration can allow (they are not in the adapter's vocabulary): a change to the
 * database itself, its event triggers or publications, or to the cluster's roles always fails the scope check.
 */
export const DATABASE_DIMENSION = 'database';
export const CLUSTER_DIMENSION = 'cluster';

type RelationFact = CatalogFacts['relations'][number];

/**
 * Everything one relation contributes to a baseline: its objects (the relation, its columns, indexes,
 * constraints and triggers) and the facts the measures and invariants read. An incremental capture reuses
 * the groups of relations whose change detector did not move.
 */
export interface RelationGroup {
  objects: BaselineObject[];
  relation?: Omit<RelationFact, 'reltuples'>;
  spatialColumns?: string[];
  spatialIndexKeys?: string[][];
}

/** What an incremental capture keeps from the previous one: the relations in order, and unchanged groups. */
export interface Reuse {
  /** Every user relation in RELATIONS_QUERY's order, with its current reltuples. */
  order: readonly { relid: string; reltuples: number }[];
  /** Groups of the relations that did not change (the rows passed in cover every other relation). */
  groups: ReadonlyMap<string, RelationGroup>;
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
  /** The group of every relation in the rows passed in or reused, by OID. */
  groups: Map<string, RelationGroup>;
}

const RELATION_KIND: Record<string, string> = {
  r: 'table',
  p: 'table',
  f: 'table',
  v: 'view',
  m: 'materialized_view',
  S: 'sequence',
};
const RELKIND_LABEL: Record<string, string> = {
  r: 'table',
  p: 'partitioned table',
  f: 'foreign table',
  v: 'view',
  m: 'materialized view',
  S: 'sequence',
};
const CONSTRAINT_LABEL: Record<string, string> = {
  p: 'primary key',
  u: 'unique',
  f: 'foreign key',
  c: 'check',
  x: 'exclusion',
  t: 'constraint trigger',
};
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
  // A plain loop (same keys, same order as entries/filter/fromEntries): this runs twice per object, and the
  // intermediate arrays were a tenth of a capture's client time at 2,000 tables.
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const entry = value[key];
    if (entry !== null && entry !== undefined) result[key] = entry;
  }
  return result;
}

interface ObjectSpec {
  /** The relation the object belongs to (relation-level kinds only). */
  relid?: string;
  kind: string;
  name: string;
  scope: Record<string, string[]>;
  definition: Record<string, unknown>;
  attributes?: Record<string, unknown>;
}

function object(
  kind: string,
  name: string,
  scope: Record<string, string[]>,
  definition: Record<string, unknown>,
  attributes?: Record<string, unknown>,
): ObjectSpec {
  return attributes ? { kind, name, scope, definition, attributes } : { kind, name, scope, definition };
}

/** The relation-level spec of a row: it carries the OID of the relation it belongs to. */
function owned(row: Row, spec: ObjectSpec): ObjectSpec {
  spec.relid = text(row.relid);
  return spec;
}

/**
 * Digests each object as its row is read, so no normalized definition outlives its digest (at 10,000
 * tables the pending definitions were a large part of the capture's heap); synchronous, one at a time.
 */
function digester(objects: BaselineObject[], groupOf: (relid: string) => RelationGroup) {
  return {
    push(spec: ObjectSpec): void {
      const result: BaselineObject = {
        kind: spec.kind,
        name: spec.name,
        scope: spec.scope,
        digest: cidOfJsonSync(compact(spec.definition)),
      };
      if (spec.attributes) result.attributes = compact(spec.attributes);
      objects.push(result);
      if (spec.relid !== undefined) groupOf(spec.relid).objects.push(result);
    },
  };
}

/** `geometry(MultiPolygon,4326)` → { type: 'MultiPolygon', srid: 4326 }; a bare geometry is Geometry/0. */
export function spatialType(formatted: string): { family: string; type: string; srid: number } | undefined {
  const match = GEOMETRY_TYPE.exec(formatted);
  if (!match) return undefined;
  return { family: match[1]!, type: match[2] ?? 'Geometry', srid: match[3] ? Number(match[3]) : 0 };
}

/** The order a builder takes sections in: a relation's column list is complete before the relation. */
export const CATALOG_SECTIONS: readonly (keyof CatalogRows)[] = [
  'schemas',
  'columns',
  'relations',
  'indexes',
  'constraints',
  'functions',
  'triggers',
  'types',
  'extensions',
  'policies',
  'rules',
  'defaultAcls',
  'eventTriggers',
  'publications',
  'database',
  'roles',
];

/**
 * Turns catalog rows into objects as they arrive, section by section in CATALOG_SECTIONS' order and each
 * section in as many batches as the reader likes: a row is digested and dropped, so only the objects
 * outlive their rows (at 10,000 tables the rows were most of a capture's heap, and of its GC time).
 */
export interface CatalogBuilder {
  add(section: keyof CatalogRows, rows: readonly Row[]): void;
  /** The relations section's OIDs in the order read (RELATIONS_QUERY's). */
  readonly relids: readonly string[];
  /**
   * The facts. With `reuse`, the relation-level rows covered only the relations that changed; the other
   * relations' groups are taken as they are, so the result equals a full pass.
   */
  finish(): CatalogFacts;
}

export function catalogBuilder(reuse?: Reuse): CatalogBuilder {
  const tableScope = tableScopes();
  const groups = new Map<string, RelationGroup>();
  const groupOf = (relid: string): RelationGroup => {
    let group = groups.get(relid);
    if (!group) {
      group = { objects: [] };
      groups.set(relid, group);
    }
    return group;
  };
  const objects: BaselineObject[] = [];
  const pending = digester(objects, groupOf);
  const reltuples = new Map<string, number>();
  const relids: string[] = [];

  const schemasRow = (row: Row): void =>
    pending.push(
      object(
        'schema',
        text(row.name),
        { schemas: [text(row.name)] },
        { schema: row.name, owner: row.owner, acl: row.acl, comment: row.comment },
        { owner: row.owner },
      ),
    );

  // Columns arrive in no particular order (the query does not sort: see catalog-queries.ts); each table's
  // are put in attribute order when its relation row comes, which is after the whole columns section.
  const columnOrder = new Map<string, { position: number; name: string; spatial: boolean }[]>();
  const columnsRow = (row: Row): void => {
    const [schema, table, name, type] = [text(row.schema), text(row.table), text(row.name), text(row.type)];
    const qualified = `${schema}.${table}`;
    const spatial = row.type_name === 'geometry' || row.type_name === 'geography' ? spatialType(type) : undefined;
    const entry = { position: Number(row.position), name, spatial: spatial !== undefined };
    const order = columnOrder.get(qualified);
    if (order) order.push(entry);
    else columnOrder.set(qualified, [entry]);
    const facts = {
      type,
      not_null: row.not_null,
      default: row.default,
      identity: row.identity || null,
      generated: row.generated || null,
      collation: row.collation,
      acl: row.acl,
      comment: row.comment,
      geometry: spatial ? { type: spatial.type, srid: spatial.srid } : null,
      statistics: row.statistics,
      storage: row.storage,
      options: Array.isArray(row.attribute_options) ? [...(row.attribute_options as string[])].sort() : null,
      compression: row.compression,
    };
    pending.push(
      owned(
        row,
        object('column', `${qualified}.${name}`, tableScope(schema, table), facts, {
          type,
          not_null: row.not_null,
          geometry_type: spatial?.type,
          srid: spatial?.srid,
        }),
      ),
    );
  };

  const relationsRow = (row: Row): void => {
    relids.push(text(row.relid));
    const [schema, name, relkind] = [text(row.schema), text(row.name), text(row.relkind)];
    const qualified = `${schema}.${name}`;
    const columns = (columnOrder.get(qualified) ?? []).sort((a, b) => a.position - b.position);
    const spatialColumns = columns.filter((column) => column.spatial).map((column) => column.name);
    if (spatialColumns.length > 0) groupOf(text(row.relid)).spatialColumns = spatialColumns;
    const kind = RELATION_KIND[relkind] ?? 'table';
    const options = Array.isArray(row.options) ? [...(row.options as string[])].sort() : null;
    if (kind === 'sequence') {
      const ownedBy = row.owner_table
        ? `${text(row.owner_schema)}.${text(row.owner_table)}.${text(row.owner_column)}`
        : null;
      const scope = row.owner_table ? tableScope(text(row.owner_schema), text(row.owner_table)) : { schemas: [schema] };
      const definition = {
        type: row.sequence_type,
        start: row.sequence_start,
        increment: row.sequence_increment,
        min: row.sequence_min,
        max: row.sequence_max,
        cache: row.sequence_cache,
        cycle: row.sequence_cycle,
        owned_by: ownedBy,
        persistence: row.persistence,
        owner: row.owner,
        acl: row.acl,
        comment: row.comment,
      };
      pending.push(
        owned(row, object('sequence', qualified, scope, definition, { type: row.sequence_type, owned_by: ownedBy })),
      );
      return;
    }
    const definition = {
      relkind,
      persistence: row.persistence,
      options,
      row_security: row.row_security,
      force_row_security: row.force_row_security || null,
      replica_identity: row.replica_identity,
      view: row.view_definition,
      partition_key: row.partition_key,
      partition_bound: row.partition_bound,
      parents: row.parents,
      access_method: row.access_method,
      columns: kind === 'view' ? null : columns.map((column) => column.name),
      owner: row.owner,
      acl: row.acl,
      comment: row.comment,
      // DISABLE TRIGGER ALL also disables the internal triggers that enforce foreign keys.
      disabled_internal_triggers: Number(row.disabled_internal_triggers ?? 0) || null,
    };
    // A view answers to the tables it reads too: a view in an allowed schema exposing a protected table touches that table.
    const bases = ((row.base_tables as string[] | null) ?? []).slice().sort();
    const ownScope = tableScope(schema, name);
    const scope =
      bases.length === 0
        ? ownScope
        : {
            schemas: [...new Set([...(ownScope.schemas ?? []), ...bases.map((base) => base.split('.')[0] as string)])],
            tables: [
              ...(ownScope.tables ?? []),
              ...bases.flatMap((base) => tableAliases(base.split('.')[0] as string, base.slice(base.indexOf('.') + 1))),
            ],
          };
    pending.push(
      owned(
        row,
        object(kind, qualified, scope, definition, {
          relkind: RELKIND_LABEL[relkind],
          unlogged: row.persistence === 'u' || null,
          owner: row.owner,
          row_security: row.row_security || null,
        }),
      ),
    );
    if (kind !== 'view' && relkind !== 'f') {
      groupOf(text(row.relid)).relation = {
        name: qualified,
        schema,
        table: name,
        aliases: tableAliases(schema, name),
        relkind,
      };
      reltuples.set(text(row.relid), Number(row.reltuples));
    }
  };

  const indexesRow = (row: Row): void => {
    const [schema, name, tableSchema, table] = [
      text(row.schema),
      text(row.name),
      text(row.table_schema),
      text(row.table),
    ];
    const keys = (row.key_columns as string[] | null) ?? [];
    const method = text(row.method);
    if (SPATIAL_METHODS.has(method) && row.valid) {
      const group = groupOf(text(row.relid));
      if (group.spatialIndexKeys) group.spatialIndexKeys.push(keys);
      else group.spatialIndexKeys = [keys];
    }
    pending.push(
      owned(
        row,
        object(
          'index',
          `${schema}.${name}`,
          tableScope(tableSchema, table),
          {
            definition: row.definition,
            valid: row.valid,
            clustered: row.clustered,
            replica_identity: row.replica_identity,
            statistics: row.statistics,
            comment: row.comment,
          },
          {
            method,
            table: `${tableSchema}.${table}`,
            columns: keys,
            unique: row.unique,
            primary: row.primary,
            valid: row.valid,
            partial: row.partial || null,
          },
        ),
      ),
    );
  };

  const constraintsRow = (row: Row): void => {
    const [schema, table, name] = [text(row.schema), text(row.table), text(row.name)];
    const type = CONSTRAINT_LABEL[text(row.type)] ?? text(row.type);
    pending.push(
      owned(
        row,
        object(
          'constraint',
          `${schema}.${table}.${name}`,
          tableScope(schema, table),
          { type, definition: row.definition, validated: row.validated, comment: row.comment },
          { type, validated: row.validated },
        ),
      ),
    );
  };

  const functionsRow = (row: Row): void => {
    const kind = FUNCTION_LABEL[text(row.kind)] ?? text(row.kind);
    const definition = {
      kind,
      language: row.language,
      definition: row.definition,
      result: row.result,
      aggregate: row.aggregate,
      owner: row.owner,
      acl: row.acl,
      security_definer: row.security_definer || null,
      config: row.config,
      comment: row.comment,
    };
    pending.push(
      object('function', text(row.signature), { schemas: [text(row.schema)] }, definition, {
        kind,
        language: row.language,
        security_definer: row.security_definer || null,
      }),
    );
  };

  const triggersRow = (row: Row): void => {
    const [schema, table, name] = [text(row.schema), text(row.table), text(row.name)];
    pending.push(
      owned(
        row,
        object(
          'trigger',
          `${schema}.${table}.${name}`,
          tableScope(schema, table),
          { definition: row.definition, enabled: row.enabled },
          { enabled: row.enabled !== 'D' },
        ),
      ),
    );
  };

  const typesRow = (row: Row): void => {
    const type = TYPE_LABEL[text(row.type)] ?? text(row.type);
    pending.push(
      object(
        'type',
        `${text(row.schema)}.${text(row.name)}`,
        { schemas: [text(row.schema)] },
        { type, definition: row.definition, owner: row.owner, acl: row.acl },
        { type },
      ),
    );
  };

  const extensionsRow = (row: Row): void => {
    // An extension answers to every schema its member tables live in: ALTER EXTENSION … ADD TABLE cannot hide one.
    const schemas = [
      text(row.schema),
      ...((row.member_schemas as string[] | null) ?? []).filter((s) => s !== row.schema).sort(),
    ];
    pending.push(
      object(
        'extension',
        text(row.name),
        { schemas },
        { version: row.version, schema: row.schema, members: row.members },
        { version: row.version, schema: row.schema },
      ),
    );
  };

  const policiesRow = (row: Row): void => {
    const [schema, table, name] = [text(row.schema), text(row.table), text(row.name)];
    pending.push(
      object(
        'policy',
        `${schema}.${table}.${name}`,
        tableScope(schema, table),
        {
          command: row.command,
          permissive: row.permissive,
          roles: row.roles,
          using: row.using,
          with_check: row.with_check,
        },
        { command: row.command },
      ),
    );
  };

  const rulesRow = (row: Row): void => {
    const [schema, table, name] = [text(row.schema), text(row.table), text(row.name)];
    pending.push(
      object('rule', `${schema}.${table}.${name}`, tableScope(schema, table), {
        definition: row.definition,
        enabled: row.enabled,
      }),
    );
  };

  // The database's own name differs between a database and its copy (a rehearsal's scratch): never part of a digest.
  const database = 'current_database';
  const defaultAclsRow = (row: Row): void => {
    const schema = row.schema === null || row.schema === undefined ? undefined : text(row.schema);
    const scope: Record<string, string[]> = schema ? { schemas: [schema] } : { [DATABASE_DIMENSION]: [database] };
    pending.push(
      object('default_privileges', `${text(row.role)}:${schema ?? '*'}:${text(row.object_type)}`, scope, {
        acl: row.acl,
      }),
    );
  };

  const eventTriggersRow = (row: Row): void => {
    pending.push(
      object(
        'event_trigger',
        text(row.name),
        { [DATABASE_DIMENSION]: [database] },
        { event: row.event, enabled: row.enabled, tags: row.tags, function: row.function, owner: row.owner },
      ),
    );
  };

  const publicationsRow = (row: Row): void => {
    const tables = (row.tables as string[] | null) ?? [];
    pending.push(
      object(
        'publication',
        text(row.name),
        { [DATABASE_DIMENSION]: [database] },
        {
          all_tables: row.all_tables,
          insert: row.insert,
          update: row.update,
          delete: row.delete,
          truncate: row.truncate,
          owner: row.owner,
          tables,
          table_filters: row.table_filters,
        },
      ),
    );
    // Publishing a table is a change to that table: a protected table added to a publication is caught.
    for (const qualified of tables) {
      const at = qualified.indexOf('.');
      pending.push(
        object(
          'publication_table',
          `${text(row.name)}:${qualified}`,
          tableScope(qualified.slice(0, at), qualified.slice(at + 1)),
          { publication: row.name },
        ),
      );
    }
  };

  const databaseRow = (row: Row): void => {
    pending.push(
      object(
        'database',
        database,
        { [DATABASE_DIMENSION]: [database] },
        { owner: row.owner, acl: row.acl, settings: row.settings, role_settings: row.role_settings },
      ),
    );
  };

  const rolesRow = (row: Row): void => {
    pending.push(
      object(
        'role',
        text(row.name),
        { [CLUSTER_DIMENSION]: ['roles'] },
        {
          superuser: row.superuser,
          inherit: row.inherit,
          create_role: row.create_role,
          create_db: row.create_db,
          login: row.login,
          replication: row.replication,
          bypass_rls: row.bypass_rls,
          connection_limit: row.connection_limit,
          member_of: row.member_of,
          settings: row.settings,
        },
        { superuser: row.superuser || null },
      ),
    );
  };

  const handlers: Record<keyof CatalogRows, (row: Row) => void> = {
    schemas: schemasRow,
    columns: columnsRow,
    relations: relationsRow,
    indexes: indexesRow,
    constraints: constraintsRow,
    functions: functionsRow,
    triggers: triggersRow,
    types: typesRow,
    extensions: extensionsRow,
    policies: policiesRow,
    rules: rulesRow,
    defaultAcls: defaultAclsRow,
    eventTriggers: eventTriggersRow,
    publications: publicationsRow,
    database: databaseRow,
    roles: rolesRow,
  };
  let next = 0;
  const add = (section: keyof CatalogRows, rows: readonly Row[]): void => {
    const at = CATALOG_SECTIONS.indexOf(section);
    // Sections out of order would build a relation before its columns: a reader's bug, never silent.
    if (at < next - 1 || at > next) throw new Error(`catalog section ${section} out of order`);
    next = at + 1;
    const handle = handlers[section];
    for (const row of rows) handle(row);
  };

  const finish = (): CatalogFacts => {
    const relations: CatalogFacts['relations'] = [];
    const spatialColumns = new Map<string, string[]>();
    const spatialIndexKeys = new Map<string, string[][]>();
    const gather = (group: RelationGroup | undefined, tuples: number) => {
      const relation = group?.relation;
      if (!relation) return;
      const { name, schema, table, aliases, relkind } = relation;
      relations.push({ name, schema, table, aliases, reltuples: tuples, relkind });
      if (group.spatialColumns) spatialColumns.set(relation.name, group.spatialColumns);
      if (group.spatialIndexKeys) spatialIndexKeys.set(relation.name, group.spatialIndexKeys);
    };
    if (reuse) {
      for (const { relid, reltuples: tuples } of reuse.order) {
        const fresh = groups.get(relid);
        const group = fresh ?? reuse.groups.get(relid);
        if (!fresh && group) {
          groups.set(relid, group);
          for (const object of group.objects) objects.push(object);
        }
        gather(group, fresh ? (reltuples.get(relid) ?? tuples) : tuples);
      }
    } else {
      // RELATIONS_QUERY's order: the relations' facts, and so the measures, come out in it.
      for (const relid of relids) gather(groups.get(relid), reltuples.get(relid) ?? 0);
    }
    objects.sort((a, b) =>
      a.kind !== b.kind ? (a.kind < b.kind ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    return { objects, relations, spatialColumns, spatialIndexKeys, groups };
  };
  return { add, relids, finish };
}
