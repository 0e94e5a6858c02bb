// Statements that step outside what a migration's scope can describe or what preflight can read.
// Each finding has a stable rule id, so a policy exception (`exceptions[].rules` with an approval
// reference) can allow it for one bundle. Two families:
//   - always refused: objects no declaration scopes (roles, databases, settings, event triggers,
//     publications, extension membership, database-wide default privileges) and channels that commit
//     outside the run's transaction (dblink, foreign servers, user mappings, subscriptions);
//   - refused when the run is not transactional (no commit point, so no observed diff can stop it):
//     role switches, DO blocks, calls to functions or procedures whose body preflight cannot read,
//     and a search_path set from a value preflight cannot read;
//   - refused in every run when the connection's role can act outside its session (a superuser, COPY …
//     PROGRAM, server files, dblink, foreign servers): code preflight cannot read (DO blocks, procedural
//     function bodies, calls of such functions and procedures, role switches). Observation covers only
//     the run's own session; dynamic SQL run by such a role could commit elsewhere, and no rollback of
//     the run's transaction would undo it.
import { functionTableArgument, nameList, walk } from './statement-facts.js';
import type { NameResolver } from './resolve.js';

export type { Escape } from '@kfm/adapter-kit';
import type { Escape } from '@kfm/adapter-kit';

type Node = Record<string, unknown>;

/** Rules that hold in every run, by parse-tree node. */
const ALWAYS: Record<string, [rule: string, what: string]> = {
  CreateRoleStmt: ['cluster-object', 'creates a role (cluster-wide, outside any scope)'],
  AlterRoleStmt: ['cluster-object', 'alters a role (cluster-wide, outside any scope)'],
  AlterRoleSetStmt: ['cluster-object', 'changes a role setting (cluster-wide, outside any scope)'],
  DropRoleStmt: ['cluster-object', 'drops a role (cluster-wide, outside any scope)'],
  GrantRoleStmt: ['cluster-object', 'grants role membership (cluster-wide, outside any scope)'],
  CreateTableSpaceStmt: ['cluster-object', 'creates a tablespace'],
  DropTableSpaceStmt: ['cluster-object', 'drops a tablespace'],
  AlterTableSpaceOptionsStmt: ['cluster-object', 'alters a tablespace'],
  CreatedbStmt: ['cluster-object', 'creates a database'],
  DropdbStmt: ['cluster-object', 'drops a database'],
  AlterDatabaseStmt: ['database-setting', 'alters the database'],
  AlterDatabaseSetStmt: ['database-setting', 'changes a database-wide setting'],
  AlterDatabaseRefreshCollStmt: ['database-setting', 'alters the database'],
  AlterSystemStmt: ['database-setting', 'changes a server setting (ALTER SYSTEM)'],
  CreateEventTrigStmt: ['event-trigger', 'creates an event trigger (database-wide)'],
  AlterEventTrigStmt: ['event-trigger', 'alters an event trigger (database-wide)'],
  CreatePublicationStmt: ['publication', 'creates a publication (data leaves the database)'],
  AlterPublicationStmt: ['publication', 'alters a publication (data leaves the database)'],
  CreateSubscriptionStmt: ['out-of-transaction-channel', 'creates a subscription'],
  CreateForeignServerStmt: [
    'out-of-transaction-channel',
    'creates a foreign server (writes there commit on their own)',
  ],
  CreateUserMappingStmt: ['out-of-transaction-channel', 'creates a user mapping'],
  AlterUserMappingStmt: ['out-of-transaction-channel', 'alters a user mapping'],
  AlterExtensionContentsStmt: [
    'extension-membership',
    'moves an object in or out of an extension (hiding it from the baseline)',
  ],
  CreateCastStmt: ['unobserved-object', 'creates a cast (database-wide, outside every baseline)'],
  CreateAmStmt: ['unobserved-object', 'creates an access method (database-wide, outside every baseline)'],
  CreateFdwStmt: ['unobserved-object', 'creates a foreign-data wrapper (database-wide, outside every baseline)'],
  AlterFdwStmt: ['unobserved-object', 'alters a foreign-data wrapper (database-wide, outside every baseline)'],
  CreatePLangStmt: ['unobserved-object', 'creates a procedural language (database-wide, outside every baseline)'],
  CreateTransformStmt: ['unobserved-object', 'creates a transform (database-wide, outside every baseline)'],
  LoadStmt: ['out-of-transaction-channel', 'loads a shared library into the server process (LOAD)'],
};

/**
 * Session settings that change what later statements mean to the server behind preflight's back: how string
 * literals are read (the parser preflight runs reads them as standard_conforming_strings = on), and whether
 * triggers and foreign keys fire at all.
 */
const SESSION_MEANING: Record<string, string> = {
  standard_conforming_strings:
    'changes how the server reads string literals, so later statements would not run as preflight parsed them',
  backslash_quote:
    'changes how the server reads string literals, so later statements would not run as preflight parsed them',
  session_replication_role: "switches triggers (audit ones included) and foreign-key checks off for the run's session",
};

/** Privileges on objects outside every scope, by GRANT/REVOKE object type. */
const GRANT_TARGETS: Record<string, [rule: string, what: string]> = {
  OBJECT_PARAMETER_ACL: ['cluster-object', 'grants or revokes a server parameter (cluster-wide)'],
  OBJECT_TABLESPACE: ['cluster-object', 'grants or revokes on a tablespace (cluster-wide)'],
  OBJECT_DATABASE: ['database-setting', 'grants or revokes on the database'],
  OBJECT_FDW: ['out-of-transaction-channel', 'grants or revokes on a foreign-data wrapper'],
  OBJECT_FOREIGN_SERVER: ['out-of-transaction-channel', 'grants or revokes on a foreign server'],
  OBJECT_LANGUAGE: ['unobserved-object', 'grants or revokes on a procedural language'],
};

/** Large objects live in one database-wide catalog no baseline reads; these create, write or drop them. */
const LARGE_OBJECT_WRITES = new Set([
  'lo_create',
  'lo_creat',
  'lo_from_bytea',
  'lo_put',
  'lo_unlink',
  'lowrite',
  'lo_truncate',
  'lo_truncate64',
]);

const CHANNEL_EXTENSIONS = new Set(['dblink', 'postgres_fdw']);

/** Server functions whose effect is outside the run's transaction: other sessions, files, the server. */
const SERVER_SIDE_EFFECTS = new Set([
  'pg_terminate_backend',
  'pg_cancel_backend',
  'pg_reload_conf',
  'pg_rotate_logfile',
  'pg_switch_wal',
  'pg_create_restore_point',
  'pg_promote',
  'lo_import',
  'lo_export',
  'pg_file_write',
  'pg_file_rename',
  'pg_file_unlink',
  'pg_create_physical_replication_slot',
  'pg_create_logical_replication_slot',
  'pg_copy_physical_replication_slot',
  'pg_copy_logical_replication_slot',
  'pg_drop_replication_slot',
  'pg_replication_slot_advance',
  'pg_replication_origin_create',
  'pg_replication_origin_drop',
  'pg_logical_emit_message',
]);

/** Built-in functions that run a query given as a string: dynamic SQL without a DO block. */
const DYNAMIC_SQL_FUNCTIONS = new Set(['query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema', 'ts_stat']);

/** The settings `set_config` can switch roles with, as SET ROLE and SET SESSION AUTHORIZATION do. */
const ROLE_SETTINGS = new Set(['role', 'session_authorization']);

/** What an aggregate or operator definition calls (CREATE AGGREGATE … SFUNC = f, CREATE OPERATOR … FUNCTION = f). */
const CALLED_DEFINITIONS = new Set([
  'sfunc',
  'finalfunc',
  'combinefunc',
  'serialfunc',
  'deserialfunc',
  'msfunc',
  'minvfunc',
  'mfinalfunc',
  'function',
  'procedure',
]);

/** Comments and security labels on objects outside every scope. */
const SHARED_OBJECTS: Record<string, [rule: string, what: string]> = {
  OBJECT_DATABASE: ['database-setting', 'the database'],
  OBJECT_ROLE: ['cluster-object', 'a role (cluster-wide)'],
  OBJECT_TABLESPACE: ['cluster-object', 'a tablespace (cluster-wide)'],
};

/**
 * What is wrong with this statement, before name-based scope checks. `body` says how far a DO block's or a
 * plpgsql function's body was read (readPlpgsql): `'read'` when every statement in it was (they are checked
 * apart, as the script's own), else why not; a body read whole is not code preflight cannot read.
 */
export function statementEscapes(
  node: string,
  ast: Node,
  transactional: boolean,
  resolver: NameResolver,
  createdFunctions: ReadonlySet<string>,
  body?: 'read' | string,
): Escape[] {
  const unread = body === 'read' ? undefined : body ? ` (${body})` : '';
  const escapes: Escape[] = [];
  const always = ALWAYS[node];
  if (always) escapes.push({ rule: always[0], message: always[1] });
  if (node === 'CreateExtensionStmt' && CHANNEL_EXTENSIONS.has(String(ast.extname))) {
    escapes.push({
      rule: 'out-of-transaction-channel',
      message: `creates extension ${String(ast.extname)} (writes through it commit on their own)`,
    });
  }
  // COPY … PROGRAM runs a command on the server; COPY to or from a server file touches its file system.
  if (node === 'CopyStmt' && (ast.is_program === true || typeof ast.filename === 'string')) {
    escapes.push({
      rule: 'out-of-transaction-channel',
      message: ast.is_program
        ? 'runs COPY … PROGRAM, a command on the database server'
        : `runs COPY with a server-side file (${ast.is_from ? 'read' : 'written'} outside the transaction)`,
    });
  }
  if (
    node === 'AlterDefaultPrivilegesStmt' &&
    !(ast.options as Node[] | undefined)?.some((option) => (option.DefElem as Node | undefined)?.defname === 'schemas')
  ) {
    escapes.push({
      rule: 'default-privileges',
      message: 'changes default privileges for the whole database (name a schema with IN SCHEMA)',
    });
  }
  const shared = node === 'CommentStmt' || node === 'SecLabelStmt' ? SHARED_OBJECTS[String(ast.objtype)] : undefined;
  if (shared)
    escapes.push({
      rule: shared[0],
      message: `${node === 'CommentStmt' ? 'comments on' : 'labels'} ${shared[1]}, outside every scope`,
    });
  const meaning = node === 'VariableSetStmt' ? SESSION_MEANING[String(ast.name)] : undefined;
  if (meaning) escapes.push({ rule: 'session-state', message: `sets ${String(ast.name)}: it ${meaning}` });
  if (node === 'VariableSetStmt' && ast.kind === 'VAR_RESET_ALL')
    escapes.push({
      rule: 'session-state',
      message:
        'runs RESET ALL, which puts back the database and role defaults of settings the runner pins (standard_conforming_strings: how later statements are read)',
    });
  if (node === 'DiscardStmt')
    escapes.push({
      rule: 'session-state',
      message: "runs DISCARD, which resets the session state the run's observation reads (the sequences it moved)",
    });
  const grant = node === 'GrantStmt' ? GRANT_TARGETS[String(ast.objtype)] : undefined;
  if (grant) escapes.push({ rule: grant[0], message: grant[1] });
  if (
    ['AlterOwnerStmt', 'GrantStmt', 'CommentStmt', 'SecLabelStmt'].includes(node) &&
    (ast.objectType ?? ast.objtype) === 'OBJECT_LARGEOBJECT'
  )
    escapes.push({ rule: 'unobserved-object', message: 'changes a large object (outside every baseline)' });
  const exit = resolver.sessionExit;
  const leaves = (what: string): Escape => sessionExitEscape(exit, what);
  // Code preflight cannot read: refused without a commit point (by `rule`), and in every run by a role
  // that can leave its session; otherwise the in-transaction observation judges what it did.
  const unreadable = (rule: string, what: string, why: string) => {
    if (!transactional) escapes.push({ rule, message: `${what}, ${why}, with no commit point to stop it` });
    else if (exit) escapes.push(leaves(`${what}, ${why}`));
  };
  if (node === 'AlterFunctionStmt') {
    const name = nameList({ List: { items: (ast.func as Node | undefined)?.objname } }).pop() ?? '';
    const setsPath = ((ast.actions as Node[] | undefined) ?? []).some(
      (action) =>
        ((action.DefElem as Node | undefined)?.arg as Node | undefined)?.VariableSetStmt !== undefined &&
        (((action.DefElem as Node).arg as Node).VariableSetStmt as Node).name === 'search_path',
    );
    if (setsPath && createdFunctions.has(name))
      escapes.push({
        rule: 'dynamic-search-path',
        message: `changes the search_path ${name}() runs with, after preflight read its body with another`,
      });
  }
  const extensionTarget = extensionFunctionTarget(node, ast, resolver);
  if (extensionTarget)
    escapes.push({
      rule: 'extension-member',
      message: `${node === 'CreateFunctionStmt' ? 'defines' : 'changes'} ${extensionTarget}(), a name an extension's function holds in that schema (the baseline sees extension members by name and version only)`,
    });
  if (exit && node === 'CreateFunctionStmt' && unread !== undefined) {
    const language = functionLanguage(ast);
    if (language !== 'sql')
      escapes.push(leaves(`defines a ${language} function whose body preflight cannot read${unread}`));
  }
  // `t.f` calls f(t) when t has no column f (attribute notation): a call by another name.
  walk(ast, (value) => {
    const fields = ((value.ColumnRef as Node | undefined)?.fields as Node[] | undefined) ?? [];
    const last = (fields[fields.length - 1]?.String as Node | undefined)?.sval;
    if (fields.length < 2 || typeof last !== 'string') return;
    if (resolver.opaqueFunction([last], createdFunctions))
      unreadable(
        'opaque-call',
        `may call ${last}() in attribute notation (${fields.map((field) => (field.String as Node | undefined)?.sval ?? '*').join('.')})`,
        'whose body preflight cannot read',
      );
  });
  walk(ast, (value) => {
    const call = value.FuncCall as Node | undefined;
    if (!call) return;
    const names = nameList({ List: { items: call.funcname } });
    const name = names[names.length - 1] ?? '';
    if (!transactional && functionTableArgument(call) === 'dynamic')
      escapes.push({
        rule: 'opaque-call',
        message: `calls ${name}() with a relation name preflight cannot read, with no commit point to stop it`,
      });
    if (DYNAMIC_SQL_FUNCTIONS.has(name)) {
      unreadable('dynamic-sql', `calls ${name}()`, 'which runs a query given as a string');
    }
    if (name === 'set_config') {
      const setting = (((call.args as Node[] | undefined)?.[0]?.A_Const as Node | undefined)?.sval as Node | undefined)
        ?.sval;
      const settingMeaning =
        typeof setting === 'string'
          ? SESSION_MEANING[setting.toLowerCase()]
          : 'may change how the server reads later statements (standard_conforming_strings) or whether triggers fire';
      if (settingMeaning)
        escapes.push({
          rule: 'session-state',
          message: `calls set_config() on ${typeof setting === 'string' ? setting : 'a setting preflight cannot read'}: it ${settingMeaning}`,
        });
      if (typeof setting !== 'string' || ROLE_SETTINGS.has(setting.toLowerCase())) {
        unreadable(
          'role-switch',
          'calls set_config() on the role (or a setting preflight cannot read)',
          'changing privileges under preflight',
        );
      }
    }
    if (LARGE_OBJECT_WRITES.has(name))
      escapes.push({ rule: 'unobserved-object', message: `calls ${name}(): large objects are outside every baseline` });
    if (/^dblink/.test(name))
      escapes.push({ rule: 'out-of-transaction-channel', message: `calls ${name}() (its writes commit on their own)` });
    if (SERVER_SIDE_EFFECTS.has(name))
      escapes.push({ rule: 'out-of-transaction-channel', message: `calls ${name}(), whose effect no rollback undoes` });
    if (resolver.opaqueFunction(names, createdFunctions)) {
      unreadable('opaque-call', `calls ${names.join('.')}()`, 'whose body preflight cannot read');
    }
  });
  // A trigger runs its function on every matching row write, the script's own included: naming an opaque
  // function there is calling it.
  const callees: { names: string[]; as: string }[] = [];
  if (node === 'CreateTrigStmt') callees.push({ names: nameList({ List: { items: ast.funcname } }), as: 'a trigger' });
  if (node === 'DefineStmt' && (ast.kind === 'OBJECT_AGGREGATE' || ast.kind === 'OBJECT_OPERATOR')) {
    for (const option of (ast.definition as Node[] | undefined) ?? []) {
      const element = option.DefElem as Node | undefined;
      if (!element || !CALLED_DEFINITIONS.has(String(element.defname))) continue;
      const arg = element.arg as Node | undefined;
      const names = arg?.TypeName ? nameList({ List: { items: (arg.TypeName as Node).names } }) : nameList(arg);
      callees.push({ names, as: ast.kind === 'OBJECT_AGGREGATE' ? 'part of an aggregate' : 'an operator' });
    }
  }
  for (const { names, as } of callees) {
    if (names.length === 0 || !resolver.opaqueFunction(names, createdFunctions)) continue;
    unreadable('opaque-call', `makes ${names.join('.')}() ${as}`, 'whose body preflight cannot read');
  }
  if (transactional) {
    if (!exit) return escapes;
    if (node === 'DoStmt' && unread !== undefined) escapes.push(leaves(`runs a DO block${unread}`));
    if (node === 'CallStmt')
      escapes.push(
        leaves(
          `calls procedure ${nameList({ List: { items: (ast.funccall as Node | undefined)?.funcname } }).join('.')}`,
        ),
      );
    if (node === 'VariableSetStmt' && (ast.name === 'role' || ast.name === 'session_authorization'))
      escapes.push(leaves(`switches ${ast.name === 'role' ? 'role' : 'session authorization'}`));
    return escapes;
  }
  if (node === 'VariableSetStmt' && (ast.name === 'role' || ast.name === 'session_authorization')) {
    escapes.push({
      rule: 'role-switch',
      message: `switches ${ast.name === 'role' ? 'role' : 'session authorization'}; privileges and name resolution change under preflight`,
    });
  }
  if (node === 'DoStmt' && unread !== undefined)
    escapes.push({
      rule: 'dynamic-sql',
      message: `runs a DO block, whose statements preflight cannot read${unread}`,
    });
  if (node === 'CallStmt') {
    const names = nameList({ List: { items: (ast.funccall as Node | undefined)?.funcname } });
    escapes.push({
      rule: 'opaque-call',
      message: `calls procedure ${names.join('.')}, whose body preflight cannot read`,
    });
  }
  return escapes;
}

function sessionExitEscape(exit: string | undefined, what: string): Escape {
  return {
    rule: 'session-exit',
    message: `${what}, and the ${exit}: code preflight cannot read could act outside the run's session (dblink, COPY … PROGRAM), which neither the observed diff nor a rollback covers; run migrations as a role without those rights`,
  };
}

/**
 * Statements that can run code already attached to the relations they name: row writes fire triggers and
 * evaluate defaults, checks and index expressions; reads expand views and apply policies; ALTER TABLE,
 * CLUSTER, VACUUM/ANALYZE, REINDEX and REFRESH rewrite or re-evaluate. (CREATE INDEX, COMMENT, GRANT,
 * DROP … run none of it.)
 */
const RUNS_ATTACHED_CODE = new Set([
  'InsertStmt',
  'UpdateStmt',
  'DeleteStmt',
  'MergeStmt',
  'CopyStmt',
  'TruncateStmt',
  'SelectStmt',
  'CreateTableAsStmt',
  'DeclareCursorStmt',
  'ExplainStmt',
  'AlterTableStmt',
  'ClusterStmt',
  'VacuumStmt',
  'ReindexStmt',
  'RefreshMatViewStmt',
  'PrepareStmt',
]);

/** Statements that fire no event trigger: everything else may (DDL, GRANT, COMMENT, SELECT INTO …). */
const NO_EVENT_TRIGGER = new Set([
  'SelectStmt',
  'InsertStmt',
  'UpdateStmt',
  'DeleteStmt',
  'MergeStmt',
  'CopyStmt',
  'TruncateStmt',
  'VariableSetStmt',
  'VariableShowStmt',
  'ExplainStmt',
  'PrepareStmt',
  'ExecuteStmt',
  'DeallocateStmt',
  'DoStmt',
  'CallStmt',
  'TransactionStmt',
  'VacuumStmt',
  'ClusterStmt',
  'LockStmt',
  'NotifyStmt',
  'DeclareCursorStmt',
  'FetchStmt',
  'ClosePortalStmt',
  'ConstraintsSetStmt',
]);

/**
 * With a role that can leave its session, a statement touching a relation whose attached code calls a
 * function preflight cannot read runs that code as the role: refused like a direct call (a migrator's
 * earlier trigger fired by a superuser's run is the way to escalate).
 */
export function attachedCodeEscapes(
  node: string,
  ast: Node,
  objects: readonly { schema: string; table?: string }[],
  resolver: NameResolver,
): Escape[] {
  const exit = resolver.sessionExit;
  if (!exit) return [];
  const escapes: Escape[] = [];
  const event = resolver.eventTriggerCode;
  // SELECT … INTO a table is CREATE TABLE AS, and fires event triggers as it does (INTO a PL/pgSQL variable
  // is not: the PL/pgSQL grammar takes the INTO off before the statement reaches here).
  const ddl = !NO_EVENT_TRIGGER.has(node) || (node === 'SelectStmt' && ast.intoClause !== undefined);
  if (event && ddl) escapes.push(sessionExitEscape(exit, `runs DDL, and ${event}`));
  if (!RUNS_ATTACHED_CODE.has(node)) return escapes;
  const cascade = node === 'TruncateStmt' && ast.behavior === 'DROP_CASCADE';
  for (const object of objects) {
    const why = object.table ? resolver.attachedCode(object.schema, object.table, cascade) : undefined;
    if (why) escapes.push(sessionExitEscape(exit, `touches ${object.schema}.${object.table}, where ${why}`));
  }
  return escapes;
}

/** The language a CREATE FUNCTION/PROCEDURE declares (`sql` for a parsed `BEGIN ATOMIC` body). */
export function functionLanguage(ast: Node): string {
  if (ast.sql_body !== undefined) return 'sql';
  for (const option of (ast.options as Node[] | undefined) ?? []) {
    const element = option.DefElem as Node | undefined;
    if (element?.defname === 'language') return nameList(element.arg).join('.').toLowerCase() || 'sql';
  }
  return 'sql';
}

/** A string function body (`AS '…'`), when the statement has one. */
export function functionBody(ast: Node): string | undefined {
  for (const option of (ast.options as Node[] | undefined) ?? []) {
    const element = option.DefElem as Node | undefined;
    if (element?.defname === 'as') return nameList(element.arg)[0];
  }
  return undefined;
}

/**
 * The extension function a statement defines or changes: CREATE [OR REPLACE] FUNCTION with the name an
 * extension's function has in that schema (a replacement, or an overload calls may resolve to), and
 * ALTER/RENAME/OWNER/SCHEMA/GRANT/COMMENT/DROP naming one.
 */
function extensionFunctionTarget(node: string, ast: Node, resolver: NameResolver): string | undefined {
  if (node === 'CreateFunctionStmt') {
    const names = nameList({ List: { items: ast.funcname } });
    const qualified = names.length > 1 ? names : [resolver.creation(), ...names];
    const schema = resolver.extensionFunction(qualified);
    return schema ? qualified.join('.') : undefined;
  }
  let found: string | undefined;
  walk(node === 'AlterFunctionStmt' ? { ObjectWithArgs: ast.func } : ast, (value) => {
    const target = value.ObjectWithArgs as Node | undefined;
    if (!target || found) return;
    const names = nameList({ List: { items: target.objname } });
    const schema = names.length > 0 ? resolver.extensionFunction(names) : undefined;
    if (schema) found = `${schema}.${names[names.length - 1]}`;
  });
  return found;
}

/**
 * Follow search_path changes. Returns the new path when the statement sets it, `null` when it resets it,
 * `undefined` when it leaves it alone, or an escape when the value cannot be read from the script.
 */
export function searchPathChange(
  node: string,
  ast: Node,
  user: string,
  parse: (value: string, user: string) => string[],
): { path: string[] | null } | { escape: Escape } | undefined {
  if (node === 'VariableSetStmt' && ast.name === 'search_path') {
    if (ast.kind === 'VAR_SET_VALUE') {
      const values = ((ast.args as Node[] | undefined) ?? []).map(
        (arg) => ((arg.A_Const as Node | undefined)?.sval as Node | undefined)?.sval,
      );
      if (values.some((value) => typeof value !== 'string'))
        return {
          escape: { rule: 'dynamic-search-path', message: 'sets search_path to a value preflight cannot read' },
        };
      return { path: values.flatMap((value) => parse(`"${String(value).replace(/"/g, '""')}"`, user)) };
    }
    return { path: null };
  }
  if (node === 'VariableSetStmt' && ast.kind === 'VAR_RESET_ALL') return { path: null };
  let change: { path: string[] | null } | { escape: Escape } | undefined;
  walk(ast, (value) => {
    const call = value.FuncCall as Node | undefined;
    if (!call) return;
    const names = nameList({ List: { items: call.funcname } });
    if (names[names.length - 1] !== 'set_config') return;
    const [setting, newValue] = ((call.args as Node[] | undefined) ?? []).map(
      (arg) => ((arg.A_Const as Node | undefined)?.sval as Node | undefined)?.sval,
    );
    if (typeof setting !== 'string')
      change = {
        escape: {
          rule: 'dynamic-search-path',
          message: 'calls set_config() with a setting name preflight cannot read',
        },
      };
    else if (setting.toLowerCase() !== 'search_path') return;
    else if (typeof newValue !== 'string')
      change = {
        escape: { rule: 'dynamic-search-path', message: 'sets search_path to a value preflight cannot read' },
      };
    else change = { path: parse(newValue, user) };
  });
  return change;
}
