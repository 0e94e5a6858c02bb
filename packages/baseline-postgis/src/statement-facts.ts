// What a parsed statement means for governance: whether it can run inside a transaction, whether it
// destroys data or schema, whether it writes rows, and which schemas and tables it names.
import { NameResolver, STATIC_CATALOG } from './resolve.js';
import type { ParsedStatement } from './statements.js';

export interface NamedObject {
  schema: string;
  table?: string;
  index?: string;
  function?: string;
}

export interface StatementFacts {
  transactional: boolean;
  /** Why it cannot run in a transaction, for the finding's message. */
  nonTransactionalReason?: string;
  destructive: boolean;
  data: boolean;
  objects: NamedObject[];
}

type Node = Record<string, unknown>;

const DATA_NODES = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'CreateTableAsStmt']);

function writesRows(node: string, ast: Node): boolean {
  if (DATA_NODES.has(node)) return true;
  // COPY … TO only reads; SELECT … INTO creates and fills a table.
  if (node === 'CopyStmt') return ast.is_from === true;
  return node === 'SelectStmt' && ast.intoClause !== undefined;
}

/** Statements PostgreSQL refuses inside a transaction block (PostgreSQL 12+ allows ALTER TYPE … ADD VALUE). */
function nonTransactionalReason(node: string, ast: Node): string | undefined {
  switch (node) {
    case 'IndexStmt':
      return ast.concurrent ? 'CREATE INDEX CONCURRENTLY cannot run inside a transaction' : undefined;
    case 'DropStmt':
      return ast.concurrent ? 'DROP INDEX CONCURRENTLY cannot run inside a transaction' : undefined;
    case 'ReindexStmt': {
      const concurrently = asArray(ast.params).some(
        (p) => (p as Node).DefElem && ((p as Node).DefElem as Node).defname === 'concurrently',
      );
      if (concurrently) return 'REINDEX CONCURRENTLY cannot run inside a transaction';
      return ast.kind === 'REINDEX_OBJECT_SYSTEM' || ast.kind === 'REINDEX_OBJECT_DATABASE'
        ? 'REINDEX SYSTEM/DATABASE cannot run inside a transaction'
        : undefined;
    }
    case 'VacuumStmt':
      return ast.is_vacuumcmd ? 'VACUUM cannot run inside a transaction' : undefined;
    case 'CreatedbStmt':
    case 'DropdbStmt':
      return 'CREATE/DROP DATABASE cannot run inside a transaction';
    case 'AlterSystemStmt':
      return 'ALTER SYSTEM cannot run inside a transaction';
    case 'CreateTableSpaceStmt':
    case 'DropTableSpaceStmt':
      return 'CREATE/DROP TABLESPACE cannot run inside a transaction';
    case 'CreateSubscriptionStmt':
    case 'DropSubscriptionStmt':
      return 'CREATE/DROP SUBSCRIPTION cannot run inside a transaction';
    case 'DiscardStmt':
      return ast.target === 'DISCARD_ALL' ? 'DISCARD ALL cannot run inside a transaction' : undefined;
    case 'ClusterStmt':
      return ast.relation ? undefined : 'CLUSTER without a table cannot run inside a transaction';
    case 'TransactionStmt':
      return 'transaction control belongs to the runner, not the script';
    default:
      return undefined;
  }
}

function isDestructive(node: string, ast: Node): boolean {
  switch (node) {
    case 'DropStmt':
    case 'TruncateStmt':
    case 'DropdbStmt':
    case 'DropOwnedStmt':
      return true;
    case 'DeleteStmt':
      return ast.whereClause === undefined;
    case 'AlterTableStmt':
      return asArray(ast.cmds).some(
        (cmd) => ((cmd as Node).AlterTableCmd as Node | undefined)?.subtype === 'AT_DropColumn',
      );
    default:
      return false;
  }
}

export function statementFacts(
  statement: Pick<ParsedStatement, 'node' | 'ast'>,
  resolver: NameResolver = new NameResolver(STATIC_CATALOG),
): StatementFacts {
  const { node, ast } = statement;
  const reason = nonTransactionalReason(node, ast);
  const facts: StatementFacts = {
    transactional: reason === undefined,
    destructive: isDestructive(node, ast),
    data: writesRows(node, ast),
    objects: namedObjects(node, ast, resolver),
  };
  if (reason) facts.nonTransactionalReason = reason;
  return facts;
}

/** Where a statement creates its relation (the RangeVar is a new name, not a lookup). */
function creationTarget(node: string, ast: Node): unknown {
  switch (node) {
    case 'CreateStmt':
    case 'CreateSeqStmt':
    case 'CreateForeignTableStmt':
      return ast.relation ?? (ast.base as Node | undefined)?.relation;
    case 'ViewStmt':
      return ast.view;
    case 'CreateTableAsStmt':
      return (ast.into as Node | undefined)?.rel;
    default:
      return undefined;
  }
}

/** Where each of those statements keeps its object's (possibly qualified) name. */
const OBJECT_NAME_FIELDS = [
  'defnames',
  'conversion_name',
  'domainname',
  'typeName',
  'cfgname',
  'dictname',
  'opclassname',
  'opfamilyname',
] as const;

/** The table a write statement targets: always a table, even when a WITH clause reuses its name. */
const WRITE_TARGETS = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);

/**
 * Every schema and relation the statement names, each resolved as the store will: qualified names as
 * written, unqualified ones along the resolver's search_path (new objects in its first schema).
 */
export function namedObjects(
  node: string,
  ast: Node,
  resolver: NameResolver = new NameResolver(STATIC_CATALOG),
): NamedObject[] {
  const found = new Map<string, NamedObject>();
  const add = (object: NamedObject) => found.set(JSON.stringify(object), object);
  const cteNames = new Set<string>();
  collectCteNames(ast, cteNames);
  const created = creationTarget(node, ast);
  const target = WRITE_TARGETS.has(node) ? ast.relation : undefined;
  const relationSchema = (relation: Node | undefined, name: string) =>
    typeof relation?.schemaname === 'string'
      ? relation.schemaname
      : relation !== undefined && relation === created
        ? resolver.creation()
        : resolver.relation(name);
  walk(ast, (value) => {
    if (typeof value.relname === 'string') {
      const qualified = typeof value.schemaname === 'string';
      // An unqualified name that a WITH clause defines is not a table, unless it is the write's target.
      if (!qualified && cteNames.has(value.relname) && value !== target) return;
      add({ schema: relationSchema(value, value.relname), table: value.relname });
    }
  });
  walk(ast, (value) => {
    const call = value.FuncCall as Node | undefined;
    if (!call) return;
    const names = nameList({ List: { items: call.funcname } });
    if (names[names.length - 1] === 'pg_import_system_collations') {
      const schema = literal(asArray(call.args)[0]);
      if (schema !== undefined) add({ schema: regclassName(schema)[0] ?? schema });
    }
    const named = functionTableArgument(call);
    if (!named || named === 'dynamic') return;
    add({ schema: named.schema ?? resolver.relation(named.table), table: named.table });
  });
  // A function, procedure, aggregate or operator named with its arguments (ALTER, RENAME, COMMENT, GRANT,
  // DROP, SET SCHEMA): in its schema as written, else where the name resolves (a built-in: pg_catalog).
  if (node !== 'CreateFunctionStmt')
    walk(node === 'AlterFunctionStmt' ? { ObjectWithArgs: ast.func } : ast, (value) => {
      const target = value.ObjectWithArgs as Node | undefined;
      if (!target) return;
      const names = nameList({ List: { items: target.objname } });
      if (names.length > 1) add({ schema: names[names.length - 2]!, function: names[names.length - 1]! });
      else if (names.length === 1) add({ schema: resolver.functionSchema(names[0]!), function: names[0]! });
    });
  // A sequence a table owns (serial, identity) is that table's: setval on it writes the table's ids.
  for (const object of [...found.values()]) {
    const owner = object.table ? resolver.sequenceOwner(object.schema, object.table) : undefined;
    if (owner) {
      const dot = owner.indexOf('.');
      add({ schema: owner.slice(0, dot), table: owner.slice(dot + 1) });
    }
  }
  const lists = (items: unknown): string[][] => asArray(items).map((item) => nameList(item));
  switch (node) {
    case 'CreateSchemaStmt':
      if (typeof ast.schemaname === 'string') add({ schema: ast.schemaname });
      break;
    case 'DropStmt':
      for (const names of lists(ast.objects)) {
        const [schema, name] = names.length > 1 ? [names[0]!, names[1]!] : [resolver.relation(names[0]!), names[0]!];
        if (ast.removeType === 'OBJECT_SCHEMA') add({ schema: names[0]! });
        else if (
          ['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_SEQUENCE', 'OBJECT_FOREIGN_TABLE'].includes(
            String(ast.removeType),
          )
        )
          add({ schema, table: name });
        else if (ast.removeType === 'OBJECT_INDEX') add({ schema, index: name });
        else if (['OBJECT_TRIGGER', 'OBJECT_RULE', 'OBJECT_POLICY'].includes(String(ast.removeType))) {
          // [schema?, table, object]: the object hangs off a table.
          const relation = names.slice(0, -1);
          add(
            relation.length > 1
              ? { schema: relation[0]!, table: relation[1]! }
              : { schema: resolver.relation(relation[0]!), table: relation[0]! },
          );
        } else if (names.length > 1) add({ schema });
        else if (ast.removeType === 'OBJECT_FUNCTION' || ast.removeType === 'OBJECT_PROCEDURE')
          add({ schema: resolver.creation() });
      }
      break;
    case 'AlterObjectSchemaStmt':
      if (typeof ast.newschema === 'string') add({ schema: ast.newschema });
      // Where the object comes from counts as much as where it goes (a function moved out of the ledger).
      if (ast.objectType === 'OBJECT_SCHEMA') break;
      if (!ast.relation) {
        const names = nameList((ast.object as Node | undefined)?.List ? ast.object : { List: { items: [] } });
        if (names.length > 1) add({ schema: names[names.length - 2]! });
      }
      break;
    case 'GrantStmt':
      // GRANT … ON SCHEMA s, and GRANT … ON ALL TABLES|SEQUENCES|FUNCTIONS IN SCHEMA s.
      if (ast.objtype === 'OBJECT_SCHEMA' || ast.targtype === 'ACL_TARGET_ALL_IN_SCHEMA')
        for (const item of asArray(ast.objects)) for (const schema of nameList(item)) add({ schema });
      break;
    case 'AlterOwnerStmt':
    case 'CommentStmt':
    case 'SecLabelStmt':
      if ((ast.objectType ?? ast.objtype) === 'OBJECT_SCHEMA')
        for (const schema of nameList(ast.object)) add({ schema });
      break;
    case 'RenameStmt':
      if (ast.renameType === 'OBJECT_SCHEMA') {
        if (typeof ast.subname === 'string') add({ schema: ast.subname });
        if (typeof ast.newname === 'string') add({ schema: ast.newname });
      } else if (
        ast.relation &&
        typeof ast.newname === 'string' &&
        ['OBJECT_TABLE', 'OBJECT_VIEW', 'OBJECT_MATVIEW'].includes(String(ast.renameType))
      ) {
        const relation = ast.relation as Node;
        add({ schema: relationSchema(relation, String(relation.relname)), table: ast.newname });
      }
      break;
    case 'IndexStmt':
      if (typeof ast.idxname === 'string') {
        const relation = ast.relation as Node | undefined;
        add({ schema: relationSchema(relation, String(relation?.relname)), index: ast.idxname });
      }
      break;
    case 'AlterDefaultPrivilegesStmt':
      for (const option of asArray(ast.options)) {
        const element = (option as Node).DefElem as Node | undefined;
        if (element?.defname === 'schemas') for (const schema of nameList(element.arg)) add({ schema });
      }
      break;
    // Schema-qualified objects no relation holds: statistics, collations, operators, text search
    // configurations, conversions, domains, types, operator classes: the schema they live in is named.
    case 'CreateStatsStmt':
    case 'DefineStmt':
    case 'CreateConversionStmt':
    case 'CreateDomainStmt':
    case 'CreateEnumStmt':
    case 'CreateRangeStmt':
    case 'AlterTSConfigurationStmt':
    case 'AlterTSDictionaryStmt':
    case 'CreateOpClassStmt':
    case 'CreateOpFamilyStmt':
    case 'AlterEnumStmt':
    case 'AlterDomainStmt': {
      const field = OBJECT_NAME_FIELDS.find((key) => ast[key] !== undefined);
      const names = field ? nameList({ List: { items: ast[field] } }) : [];
      if (names.length > 1) add({ schema: names[names.length - 2]! });
      else if (names.length === 1) add({ schema: resolver.creation() });
      break;
    }
    case 'CreateFunctionStmt': {
      const names = nameList({ List: { items: ast.funcname } });
      add(
        names.length > 1
          ? { schema: names[0]!, function: names[1]! }
          : { schema: resolver.creation(), function: names[0]! },
      );
      break;
    }
    default:
      break;
  }
  return [...found.values()].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

/** Functions that change a relation named by a string argument, and how to find the name. */
const TABLE_ARGUMENT_FUNCTIONS: Record<string, 'regclass' | 'before-srid' | 'column-last' | 'table-last'> = {
  setval: 'regclass',
  nextval: 'regclass',
  pg_get_serial_sequence: 'regclass',
  populate_geometry_columns: 'regclass',
  // PostGIS: ([catalog,] [schema,] table, column, srid, …) and friends; names are used as written.
  addgeometrycolumn: 'before-srid',
  updategeometrysrid: 'before-srid',
  dropgeometrycolumn: 'column-last',
  dropgeometrytable: 'table-last',
};

function literal(arg: unknown): string | undefined {
  const node = arg as Node;
  const value = ((node?.TypeCast as Node | undefined)?.arg as Node | undefined) ?? node;
  const constant = value?.A_Const as Node | undefined;
  const text = (constant?.sval as Node | undefined)?.sval;
  return typeof text === 'string' ? text : undefined;
}

/** `a.b` / `"A".b` as PostgreSQL reads a regclass literal: dots split, unquoted parts fold to lower case. */
function regclassName(text: string): string[] {
  const parts: string[] = [];
  const pattern = /\s*("((?:[^"]|"")*)"|[^."]+)\s*(\.|$)/gy;
  for (let match = pattern.exec(text); match && match[0] !== ''; match = pattern.exec(text)) {
    parts.push(match[2] !== undefined ? match[2].replace(/""/g, '"') : match[1]!.trim().toLowerCase());
  }
  return parts;
}

/**
 * The relation a function call changes through a string argument (`setval('s', …)`,
 * `UpdateGeometrySRID('public', 'roads', 'geom', 4326)`), `'dynamic'` when that argument is not a
 * literal preflight can read, or undefined for other functions.
 */
export function functionTableArgument(call: Node): { schema?: string; table: string } | 'dynamic' | undefined {
  const names = nameList({ List: { items: call.funcname } });
  const kind = TABLE_ARGUMENT_FUNCTIONS[(names[names.length - 1] ?? '').toLowerCase()];
  if (!kind) return undefined;
  const args = asArray(call.args);
  if (kind === 'regclass') {
    const text = literal(args[0]);
    if (text === undefined) return 'dynamic';
    const parts = regclassName(text);
    if (parts.length === 0) return 'dynamic';
    return parts.length > 1
      ? { schema: parts[parts.length - 2]!, table: parts[parts.length - 1]! }
      : { table: parts[0]! };
  }
  const strings: string[] = [];
  for (const arg of args) {
    const text = literal(arg);
    if (text === undefined) break;
    strings.push(text);
  }
  if (kind === 'before-srid') {
    const srid = (args[strings.length] as Node | undefined)?.A_Const as Node | undefined;
    if (srid?.ival === undefined) return 'dynamic';
  }
  const count = kind === 'before-srid' ? strings.length : args.length;
  if (kind !== 'before-srid' && strings.length < count) return 'dynamic';
  // before-srid/column-last: the table is second to last of the names; table-last: the last.
  const tableAt = kind === 'table-last' ? count - 1 : count - 2;
  if (tableAt < 0 || strings[tableAt] === undefined) return 'dynamic';
  return tableAt > 0 ? { schema: strings[tableAt - 1]!, table: strings[tableAt]! } : { table: strings[tableAt]! };
}

function collectCteNames(value: unknown, into: Set<string>): void {
  walk(value, (node) => {
    if (typeof node.ctename === 'string') into.add(node.ctename);
  });
}

export function walk(value: unknown, visit: (node: Node) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, visit);
  } else if (value !== null && typeof value === 'object') {
    visit(value as Node);
    for (const child of Object.values(value)) walk(child, visit);
  }
}

export function nameList(item: unknown): string[] {
  const node = item as Node;
  if (node.String) return [String((node.String as Node).sval)];
  if (node.List) return asArray((node.List as Node).items).flatMap((entry) => nameList(entry));
  return [];
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
