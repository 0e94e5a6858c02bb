// Static analysis of the forward script before the store is touched: parse errors, statements that
// cannot run in a transaction, and statements naming forbidden or protected schemas and tables.
import type {
  Check,
  MigrationDeclaration,
  Policy,
  PlanStatement,
  PreflightResult,
  ProtectedDomains,
  ScriptFile,
} from '@kfm/migration-contracts';
import { escapeCheck } from '@kfm/adapter-kit';
import { attachedCodeEscapes, functionBody, functionLanguage, searchPathChange, statementEscapes } from './escapes.js';
import { batchDirective, batchRefusal } from './batch.js';
import { lintStatements, type TableSize } from './lint.js';
import { LEDGER_SCHEMA } from './ledger.js';
import { NameResolver, parseSearchPath, STATIC_CATALOG, type NameCatalog } from './resolve.js';
import { firstMatch, isProtected, sortedUnique, tableAliases } from './scope.js';
import { asArray, nameList, statementFacts, type NamedObject } from './statement-facts.js';
import { type PlpgsqlReading, readPlpgsql } from './plpgsql.js';
import { type ParsedStatement, splitScript, splitScripts } from './statements.js';

const RULE = 'preflight' as const;
const SYSTEM_SCHEMAS = new Set(['pg_catalog', 'information_schema', 'pg_toast']);
/** Statements that read or write rows and change no definition. */
const ROW_STATEMENTS = new Set(['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'CopyStmt']);

export interface PostgisPreflightOptions {
  /** The live catalog names resolve against; without it unqualified names are in `public`. */
  catalog?: NameCatalog;
  /** Escape rules the policy allows for this bundle (an exception with an approval reference). */
  allowedRules?: readonly string[];
  /** Sizes of existing tables (from the live catalog), for the lock-hazard lint; without it the lint does not run. */
  sizes?: (tables: string[]) => Promise<ReadonlyMap<string, TableSize>>;
  /** The policy's lint settings: threshold and severities. */
  lint?: Policy['lint'];
  /** Lint without a store: sizes are unknown, size-dependent rules fire and say so. */
  lintWithoutSizes?: boolean;
}

/**
 * Every name is resolved the way the server will: unqualified ones along the connection's search_path as
 * the script changes it, against the live catalog. So `parcels` in a script and `public.parcels` in a
 * declaration are the same table, and `SET search_path = governance; … policies` names governance.policies.
 */
export async function preflightPostgis(
  scripts: readonly ScriptFile[],
  declaration: MigrationDeclaration,
  protectedDomains?: ProtectedDomains,
  options: PostgisPreflightOptions = {},
): Promise<PreflightResult> {
  const split = await splitScripts(scripts);
  if (!split.ok) {
    const { file, line, column, message } = split.failure;
    return {
      statements: [],
      checks: [
        {
          name: 'preflight:parse',
          rule: RULE,
          status: 'fail',
          code: 'PREFLIGHT_PARSE',
          message: `${file}:${line}:${column} ${message}`,
        },
      ],
      predicted: { schemas: [], tables: [] },
    };
  }
  const transactionalRun = declaration.transactional !== false;
  const domains = protectedDomains ?? declaration.protected;
  const approval = declaration.approvals.exception_ref;
  const statements: PlanStatement[] = [];
  const findings: Check[] = [];
  const schemas: string[] = [];
  const tables: string[] = [];
  const catalog = options.catalog ?? STATIC_CATALOG;
  const resolver = new NameResolver(catalog);
  const allowed = new Set(options.allowedRules ?? []);
  const createdFunctions = new Set<string>();
  const sources = new Map(scripts.map((script) => [script.path, script.text]));
  const linted: { statement: (typeof split.statements)[number]; resolver: NameResolver }[] = [];

  for (const statement of split.statements) {
    const where = `${statement.file}:${statement.line}`;
    const pathChange = searchPathChange(statement.node, statement.ast, catalog.user, parseSearchPath);
    const reading = await plpgsqlReading(statement, catalog.user);
    const sqlInner = await sqlBody(statement.ast);
    // A function's body resolves names along the path it declares (`SET search_path = …`), if it does.
    const bodyPath = functionPathResolver(statement, resolver, catalog.user);
    const escapes = statementEscapes(
      statement.node,
      statement.ast,
      transactionalRun,
      resolver,
      createdFunctions,
      reading && (reading.unreadable ?? 'read'),
    );
    escapes.push(...sqlBodyEscapes(sqlInner, transactionalRun, bodyPath, createdFunctions));
    if (pathChange && 'escape' in pathChange) {
      if (!transactionalRun) escapes.push(pathChange.escape);
    } else if (pathChange) {
      resolver.setPath(pathChange.path ?? undefined);
    }
    if (statement.node === 'CreateFunctionStmt')
      createdFunctions.add(nameList({ List: { items: statement.ast.funcname } }).pop() ?? '');
    // An aggregate calls its functions; a renamed function is still the one the script may call.
    if (statement.node === 'DefineStmt' && statement.ast.kind === 'OBJECT_AGGREGATE')
      createdFunctions.add(nameList({ List: { items: statement.ast.defnames } }).pop() ?? '');
    if (
      statement.node === 'RenameStmt' &&
      ['OBJECT_FUNCTION', 'OBJECT_PROCEDURE', 'OBJECT_AGGREGATE', 'OBJECT_ROUTINE'].includes(
        String(statement.ast.renameType),
      ) &&
      typeof statement.ast.newname === 'string'
    )
      createdFunctions.add(statement.ast.newname);
    for (const found of escapes) findings.push(escapeCheck(found, where, allowed));
    const directive = batchDirective(sources.get(statement.file) ?? '', statement.line);
    if (directive) {
      const problem = 'error' in directive ? directive.error : batchRefusal(statement);
      if (problem) {
        findings.push({
          name: `preflight:batch:${where}`,
          rule: RULE,
          status: 'fail',
          code: 'PREFLIGHT_PARSE',
          message: `${where} ${problem}`,
        });
      } else if (transactionalRun) {
        findings.push({
          name: `preflight:transactional:${where}`,
          rule: RULE,
          status: 'fail',
          code: 'PREFLIGHT_NON_TRANSACTIONAL',
          pointer: '/transactional',
          observed: 'kfm-batch',
          message: `${where} a batched statement commits batch by batch; declare \`transactional: false\` (the rollback script is then the safety net)`,
        });
      }
    }
    linted.push({ statement, resolver: resolver.fork() });
    const facts = statementFacts(statement, resolver);
    for (const found of attachedCodeEscapes(statement.node, statement.ast, facts.objects, resolver))
      findings.push(escapeCheck(found, where, allowed));
    statements.push({
      index: statement.index,
      file: statement.file,
      line: statement.line,
      kind: statement.node,
      objects: facts.objects.map((object) => ({ ...object })),
      transactional: facts.transactional && !(directive && !('error' in directive)),
      destructive: facts.destructive,
      data: facts.data,
    });
    if (transactionalRun && !facts.transactional) {
      findings.push({
        name: `preflight:transactional:${where}`,
        rule: RULE,
        status: 'fail',
        code: 'PREFLIGHT_NON_TRANSACTIONAL',
        pointer: '/transactional',
        observed: statement.node,
        message: `${where} ${facts.nonTransactionalReason}; declare \`transactional: false\` (the rollback script is then the safety net)`,
      });
    }
    findings.push(...objectFindings(statement.node, facts, where, resolver, declaration, domains, approval, allowed));
    for (const object of facts.objects) {
      schemas.push(object.schema);
      if (object.table) tables.push(`${object.schema}.${object.table}`);
    }
    // What a PL/pgSQL body says statically is judged as if the script said it: a DO block's statements as
    // the script's own (they run now), a function's when it is defined (a trigger function writing a
    // forbidden table is refused before anything fires it).
    for (const inner of reading?.statements ?? []) {
      const innerWhere = `${where} (in ${inner.file}, line ${inner.line} of its body)`;
      const innerFacts = statementFacts(inner, bodyPath);
      const innerEscapes = [
        ...statementEscapes(inner.node, inner.ast, transactionalRun, bodyPath, createdFunctions),
        ...attachedCodeEscapes(inner.node, inner.ast, innerFacts.objects, bodyPath),
      ];
      for (const found of innerEscapes) findings.push(escapeCheck(found, innerWhere, allowed));
      findings.push(
        ...objectFindings(inner.node, innerFacts, innerWhere, bodyPath, declaration, domains, approval, allowed),
      );
      if (statement.node !== 'DoStmt') continue;
      for (const object of innerFacts.objects) {
        schemas.push(object.schema);
        if (object.table) tables.push(`${object.schema}.${object.table}`);
      }
    }
    // A SQL function's string body is SQL preflight can read: what it names is judged as if the script
    // named it (a body writing pg_catalog or a forbidden table is refused when it is defined).
    for (const inner of sqlInner) {
      const innerFacts = statementFacts(inner, bodyPath);
      findings.push(
        ...objectFindings(
          inner.node,
          innerFacts,
          `${where} (in ${inner.file})`,
          bodyPath,
          declaration,
          domains,
          approval,
          allowed,
        ),
      );
    }
  }

  const checks: Check[] = [
    { name: 'preflight:parse', rule: RULE, status: 'pass', message: `${statements.length} statement(s) parsed` },
  ];
  if (!findings.some((check) => check.code === 'PREFLIGHT_NON_TRANSACTIONAL')) {
    checks.push({
      name: 'preflight:transactional',
      rule: RULE,
      status: 'pass',
      message: transactionalRun ? 'every statement can run in one transaction' : 'declared non-transactional',
    });
  }
  if (!findings.some((check) => check.code === 'PREFLIGHT_FORBIDDEN' && check.status === 'fail')) {
    checks.push({
      name: 'preflight:forbidden',
      rule: RULE,
      status: 'pass',
      message: 'no forbidden or unapproved protected name',
    });
  }
  checks.push(...dedupe(findings));
  const predicted = { schemas: sortedUnique(schemas), tables: sortedUnique(tables) };
  if (!options.sizes && !options.lintWithoutSizes) return { statements, checks, predicted };
  const lint = lintStatements(linted, {
    sizes: options.sizes ? await options.sizes(predicted.tables) : new Map(),
    sizesKnown: Boolean(options.sizes),
    sources: new Map(scripts.map((script) => [script.path, script.text])),
    ...(options.lint ? { policy: options.lint } : {}),
    declaration,
    transactional: transactionalRun,
  });
  const blocking = lint.filter((finding) => finding.severity === 'error' && !finding.ignored);
  for (const finding of blocking) {
    checks.push({
      name: `lint:${finding.rule}:${finding.file}:${finding.line}`,
      rule: RULE,
      status: 'fail',
      code: 'LINT_ERROR',
      observed: finding.rule,
      message: `${finding.file}:${finding.line} [${finding.rule}] ${finding.message}${finding.table ? ` (${finding.table}: ~${finding.rows_estimate ?? '?'} rows)` : ''}; fix it, or put \`-- kfm-lint: ignore ${finding.rule} <reason>\` above the statement`,
    });
  }
  if (blocking.length === 0)
    checks.push({ name: 'lint', rule: RULE, status: 'pass', message: `${lint.length} lint finding(s), none blocking` });
  return { statements, checks, predicted, lint };
}

/** What the objects a statement names mean for the scope: forbidden, protected, system, extension-owned. */
function objectFindings(
  node: string,
  facts: ReturnType<typeof statementFacts>,
  where: string,
  resolver: NameResolver,
  declaration: MigrationDeclaration,
  domains: ProtectedDomains | undefined,
  approval: string | undefined,
  allowed: ReadonlySet<string>,
): Check[] {
  const findings: Check[] = [];
  const readOnly = node === 'SelectStmt' && !facts.data;
  for (const object of facts.objects) {
    // Rows of an extension's table are observed like any other; its definition is not (the baseline
    // holds the extension's name and version), so DDL on it — a trigger, a column, an index — is refused.
    if (object.table && !ROW_STATEMENTS.has(node) && resolver.extensionRelation(object.schema, object.table))
      findings.push(
        escapeCheck(
          {
            rule: 'extension-member',
            message: `changes ${object.schema}.${object.table}, a relation an extension owns (the baseline sees extension members by name and version only)`,
          },
          where,
          allowed,
        ),
      );
    findings.push(...scopeFindings(object, where, declaration, domains, approval));
    // The system schemas are outside every baseline: nothing a migration writes there would be observed.
    if (SYSTEM_SCHEMAS.has(object.schema) && !readOnly) {
      findings.push({
        name: `preflight:system:${where}:${object.schema}`,
        rule: RULE,
        status: 'fail',
        code: 'PREFLIGHT_FORBIDDEN',
        observed: object.schema,
        message: `${where} changes ${object.table ? `${object.schema}.${object.table}` : object.schema}: the system schemas are outside every baseline, so no migration may write there`,
      });
    }
  }
  return findings;
}

/**
 * The resolver a function's body runs with: the script's at the definition, unless the function declares
 * its own `SET search_path = …` (then names in the body resolve along that, whoever calls it).
 */
function functionPathResolver(statement: ParsedStatement, resolver: NameResolver, user: string): NameResolver {
  if (statement.node !== 'CreateFunctionStmt') return resolver;
  for (const option of asArray(statement.ast.options)) {
    const element = (option as { DefElem?: { defname?: string; arg?: Record<string, unknown> } }).DefElem;
    const set = element?.defname === 'set' ? (element.arg?.VariableSetStmt as Record<string, unknown>) : undefined;
    if (set?.name !== 'search_path' || set.kind === 'VAR_SET_CURRENT') continue;
    const change = searchPathChange('VariableSetStmt', set, user, parseSearchPath);
    if (!change || 'escape' in change) continue;
    const own = resolver.fork();
    own.setPath(change.path ?? undefined);
    return own;
  }
  return resolver;
}

/**
 * A DO block's or a plpgsql function's body, read (readPlpgsql); undefined for every other statement. A
 * body that changes search_path is not read whole: which names its later statements, and the script's
 * after a DO block, resolve to depends on branches preflight does not follow.
 */
async function plpgsqlReading(statement: ParsedStatement, user: string): Promise<PlpgsqlReading | undefined> {
  let reading: PlpgsqlReading | undefined;
  if (statement.node === 'DoStmt') {
    const language = asArray(statement.ast.args)
      .map((arg) => (arg as { DefElem?: { defname?: string; arg?: unknown } }).DefElem)
      .find((element) => element?.defname === 'language');
    if (language && nameList(language.arg).join('.').toLowerCase() !== 'plpgsql') return undefined;
    reading = await readPlpgsql(statement.text, 'DO block');
  } else if (statement.node === 'CreateFunctionStmt' && functionLanguage(statement.ast) === 'plpgsql')
    reading = await readPlpgsql(statement.text, `${nameList({ List: { items: statement.ast.funcname } }).join('.')}()`);
  if (!reading || reading.unreadable) return reading;
  const setsPath = reading.statements.find((inner) => searchPathChange(inner.node, inner.ast, user, parseSearchPath));
  return setsPath
    ? {
        ...reading,
        unreadable: `it sets search_path at line ${setsPath.line} of the body, so names after it resolve where preflight cannot follow`,
      }
    : reading;
}

/** The statements of a SQL-language function's string body, named `f()` as their file; none otherwise. */
async function sqlBody(ast: Record<string, unknown>) {
  const body = functionBody(ast);
  if (functionLanguage(ast) !== 'sql' || body === undefined) return [];
  const parsed = await splitScript(`${nameList({ List: { items: ast.funcname } }).join('.')}()`, body);
  return parsed.ok ? parsed.statements : [];
}

/**
 * A SQL-language function's string body is SQL preflight can read: what would be refused at the top of
 * the script is refused there too (dblink calls, COPY … PROGRAM, large objects, opaque calls).
 */
function sqlBodyEscapes(
  statements: Awaited<ReturnType<typeof sqlBody>>,
  transactional: boolean,
  resolver: NameResolver,
  createdFunctions: ReadonlySet<string>,
): ReturnType<typeof statementEscapes> {
  return statements.flatMap((inner) =>
    statementEscapes(inner.node, inner.ast, transactional, resolver, createdFunctions).map((found) => ({
      ...found,
      message: `in the body of ${inner.file}: ${found.message}`,
    })),
  );
}

function scopeFindings(
  object: NamedObject,
  where: string,
  declaration: MigrationDeclaration,
  domains: ProtectedDomains | undefined,
  approval: string | undefined,
): Check[] {
  const findings: Check[] = [];
  const aliases = object.table ? tableAliases(object.schema, object.table) : [];
  const label = object.table ? aliases[0]! : object.index ? `${object.schema}.${object.index}` : object.schema;
  if (object.schema === LEDGER_SCHEMA) {
    findings.push({
      name: `preflight:ledger:${where}:${label}`,
      rule: RULE,
      status: 'fail',
      code: 'PREFLIGHT_FORBIDDEN',
      observed: label,
      message: `${where} names ${label} in ${LEDGER_SCHEMA}, the migration ledger; only the runner writes there`,
    });
  }
  const forbiddenSchema = firstMatch(declaration.scope.forbidden_schemas, [object.schema]);
  const forbiddenTable = firstMatch(declaration.scope.forbidden_tables, aliases);
  if (forbiddenSchema >= 0 || forbiddenTable >= 0) {
    const pointer =
      forbiddenTable >= 0 ? `/scope/forbidden_tables/${forbiddenTable}` : `/scope/forbidden_schemas/${forbiddenSchema}`;
    const pattern =
      forbiddenTable >= 0
        ? declaration.scope.forbidden_tables![forbiddenTable]
        : declaration.scope.forbidden_schemas![forbiddenSchema];
    findings.push({
      name: `preflight:forbidden:${where}:${label}`,
      rule: RULE,
      status: 'fail',
      code: 'PREFLIGHT_FORBIDDEN',
      pointer,
      declared: pattern,
      observed: label,
      message: `${where} names ${label}, which the declaration forbids (${pattern})`,
    });
  }
  if (isProtected(domains, { schemas: [object.schema], tables: aliases })) {
    findings.push(
      approval
        ? {
            name: `preflight:protected:${where}:${label}`,
            rule: 'protected',
            status: 'pass',
            observed: label,
            message: `${where} names protected ${label}; approved by ${approval}`,
          }
        : {
            name: `preflight:protected:${where}:${label}`,
            rule: 'protected',
            status: 'fail',
            code: 'PREFLIGHT_FORBIDDEN',
            pointer: '/approvals/exception_ref',
            observed: label,
            message: `${where} names protected ${label} without approvals.exception_ref`,
          },
    );
  }
  return findings;
}

function dedupe(checks: Check[]): Check[] {
  const seen = new Set<string>();
  return checks.filter((check) => !seen.has(check.name) && Boolean(seen.add(check.name)));
}
