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

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
