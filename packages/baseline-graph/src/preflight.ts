// Static analysis of the forward Cypher before the store is touched: parse errors, administration
// commands, schema or batched statements in a transactional declaration, and statements naming a
// forbidden or protected label or relationship type. Names come from tokens (strings and comments
// never count); the POST diff still enforces scope for whatever a script does at run time.
import type {
  Check,
  MigrationDeclaration,
  PlanStatement,
  PreflightOptions,
  PreflightResult,
  ScriptFile,
} from '@kfm/migration-contracts';
import { escapeCheck } from '@kfm/adapter-kit';
import { splitCypher } from './cypher-split.js';
import { compareText, firstMatching, isReserved, RESERVED_PREFIX } from './scope.js';
import { statementFacts, type StatementFacts } from './statement-facts.js';

const RULE = 'preflight' as const;

export interface ScriptStatement {
  file: string;
  index: number;
  line: number;
  column: number;
  text: string;
  facts: StatementFacts;
}

export type ScriptSplit =
  | { ok: true; statements: ScriptStatement[] }
  | { ok: false; failure: { file: string; line: number; column: number; message: string } };

/** Every statement of the scripts in order, numbered across files. */
export function splitScripts(scripts: readonly Pick<ScriptFile, 'path' | 'text'>[]): ScriptSplit {
  const statements: ScriptStatement[] = [];
  for (const script of scripts) {
    const split = splitCypher(script.text);
    if (split.error) return { ok: false, failure: { file: script.path, ...split.error } };
    for (const statement of split.statements) {
      statements.push({
        file: script.path,
        index: statements.length,
        line: statement.line,
        column: statement.column,
        text: statement.text,
        facts: statementFacts(statement),
      });
    }
  }
  return { ok: true, statements };
}

function unique(names: Iterable<string>): string[] {
  return [...new Set(names)].sort(compareText);
}

function planStatement(statement: ScriptStatement): PlanStatement {
  const { facts } = statement;
  const objects = [
    ...facts.labels.map((name) => ({ labels: name })),
    ...facts.relationshipTypes.map((name) => ({ relationship_types: name })),
    ...(facts.schemaName ? [{ [facts.kind.endsWith('constraint') ? 'constraint' : 'index']: facts.schemaName }] : []),
  ];
  return {
    index: statement.index,
    file: statement.file,
    line: statement.line,
    kind: facts.kind,
    objects,
    transactional: facts.transactional,
    destructive: facts.destructive,
    data: facts.data,
  };
}

/**
 * Statements whose writes preflight cannot attribute to the declared scope. Unbound write targets and
 * dynamic labels are refused in every run (the baseline only hashes what labels and types scope);
 * without a commit point, batched writes, LOAD CSV and procedure calls are refused too.
 */
/** Procedures known to only read (lower-cased): the catalog, server info, index waits and full-text queries. */
const READ_ONLY_PROCEDURES = new Set([
  'db.labels',
  'db.relationshiptypes',
  'db.propertykeys',
  'db.schema.visualization',
  'db.schema.nodetypeproperties',
  'db.schema.reltypeproperties',
  'db.awaitindex',
  'db.awaitindexes',
  'db.info',
  'db.ping',
  'dbms.components',
  'db.index.fulltext.querynodes',
  'db.index.fulltext.queryrelationships',
]);

function escapesOf(facts: StatementFacts, transactional: boolean): { rule: string; message: string }[] {
  const escapes: { rule: string; message: string }[] = [];
  if (facts.data && facts.unboundWrites.length > 0)
    escapes.push({
      rule: 'unlabeled-write',
      message: `writes through ${facts.unboundWrites.join(', ')}, which no label or relationship type in the statement binds`,
    });
  if (facts.dynamicNames && facts.data)
    escapes.push({
      rule: 'dynamic-label',
      message: 'writes with a dynamic label or relationship type that cannot be checked before the run',
    });
  // A procedure's writes are not in the statement: only known read-only ones pass, in every run.
  const writing = facts.procedures.filter((name) => !READ_ONLY_PROCEDURES.has(name));
  if (transactional) {
    if (writing.length > 0)
      escapes.push({
        rule: 'procedure-call',
        message: `calls ${writing.join(', ')}, whose writes preflight cannot read`,
      });
    return escapes;
  }
  if (facts.batched)
    escapes.push({
      rule: 'batched-write',
      message: 'commits in batches (CALL { … } IN TRANSACTIONS) with no commit point to stop it',
    });
  if (facts.loadCsv) escapes.push({ rule: 'load-csv', message: 'reads LOAD CSV input the baseline never sees' });
  if (facts.procedures.length > 0)
    escapes.push({
      rule: 'procedure-call',
      message: `calls ${facts.procedures.join(', ')}, whose writes preflight cannot read`,
    });
  return escapes;
}

export function preflightGraph(
  scripts: readonly ScriptFile[],
  declaration: MigrationDeclaration,
  options: PreflightOptions = {},
): PreflightResult {
  const protectedDomains = options.protected;
  const split = splitScripts(scripts);
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
      predicted: { labels: [], relationship_types: [] },
    };
  }
  const transactionalRun = declaration.transactional !== false;
  const forbiddenLabels = declaration.scope.forbidden_labels ?? [];
  const forbiddenTypes = declaration.scope.forbidden_relationship_types ?? [];
  const protectedLabels = unique(
    [...(protectedDomains?.labels ?? []), ...(declaration.protected?.labels ?? [])].map((entry) => entry.label),
  );
  const approval = declaration.approvals.exception_ref;
  const allowed = new Set(options.allowedRules ?? []);
  const findings: Check[] = [];
  const labels: string[] = [];
  const types: string[] = [];

  for (const statement of split.statements) {
    const { facts } = statement;
    const where = `${statement.file}:${statement.line}`;
    if (facts.data || facts.schema) {
      labels.push(...facts.labels);
      types.push(...facts.relationshipTypes);
    }
    if (facts.kind === 'admin') {
      findings.push({
        name: `preflight:admin:${where}`,
        rule: RULE,
        status: 'fail',
        code: 'PREFLIGHT_FORBIDDEN',
        observed: facts.kind,
        message: `${where} an administration command (databases, users, roles, privileges) is not a migration`,
      });
    }
    if (transactionalRun && !facts.transactional && facts.kind !== 'admin') {
      const why = facts.schema
        ? 'a schema command cannot share a transaction with data writes'
        : 'this statement commits on its own (batched or autocommit procedure)';
      findings.push({
        name: `preflight:transactional:${where}`,
        rule: RULE,
        status: 'fail',
        code: 'PREFLIGHT_NON_TRANSACTIONAL',
        pointer: '/transactional',
        observed: facts.kind,
        message: `${where} ${why}; declare \`transactional: false\` (the rollback script is then the safety net)`,
      });
    }
    const named = [
      ...facts.labels.map((name) => ({ dimension: 'labels', name, pattern: firstMatching(name, forbiddenLabels) })),
      ...facts.relationshipTypes.map((name) => ({
        dimension: 'relationship_types',
        name,
        pattern: firstMatching(name, forbiddenTypes),
      })),
    ];
    // The runner's own records (KfmLock, KfmLedger, KfmPolicy) are out of every migration's reach.
    for (const name of [...facts.labels, ...facts.relationshipTypes].filter(isReserved)) {
      findings.push({
        name: `preflight:reserved:${where}:${name}`,
        rule: RULE,
        status: 'fail',
        code: 'PREFLIGHT_FORBIDDEN',
        observed: name,
        message: `${where} names ${name}: ${RESERVED_PREFIX}* labels and types hold the runner's lock, ledger and policy, which no migration may touch`,
      });
    }
    for (const hit of named.filter((entry) => entry.pattern !== undefined)) {
      findings.push({
        name: `preflight:forbidden:${where}:${hit.name}`,
        rule: RULE,
        status: 'fail',
        code: 'PREFLIGHT_FORBIDDEN',
        pointer: `/scope/forbidden_${hit.dimension}`,
        declared: hit.pattern,
        observed: hit.name,
        message: `${where} names ${hit.dimension === 'labels' ? 'label' : 'relationship type'} ${hit.name}, forbidden by ${hit.pattern}`,
      });
    }
    // Writes only where the declaration allows them. Neo4j reports no per-label write counts, so a value
    // written on a label outside allowed_labels would change no key, count or degree the baselines see:
    // what a statement may write is read from its patterns and refused before anything runs.
    for (const [dimension, names] of [
      ['labels', facts.writtenLabels],
      ['relationship_types', facts.writtenRelationshipTypes],
    ] as const) {
      const key = `allowed_${dimension}` as const;
      const patterns = declaration.scope[key];
      const forbidden = dimension === 'labels' ? forbiddenLabels : forbiddenTypes;
      for (const name of names) {
        if (isReserved(name) || firstMatching(name, forbidden) !== undefined) continue; // refused above
        if (patterns !== undefined && firstMatching(name, patterns) !== undefined) continue;
        const what = dimension === 'labels' ? 'label' : 'relationship type';
        findings.push({
          name: `preflight:scope:${where}:${name}`,
          rule: RULE,
          status: 'fail',
          code: 'PREFLIGHT_FORBIDDEN',
          pointer: `/scope/${key}`,
          declared: patterns === undefined ? null : [...patterns],
          observed: name,
          message:
            patterns === undefined
              ? `${where} writes ${what} ${name}, but the declaration has no scope.${key}, so nothing of it may change`
              : `${where} writes ${what} ${name}, which scope.${key} does not cover`,
        });
      }
    }
    for (const label of facts.labels) {
      const pattern = firstMatching(label, protectedLabels);
      if (pattern === undefined) continue;
      const base = {
        name: `preflight:protected:${where}:${label}`,
        rule: RULE,
        pointer: '/approvals/exception_ref',
        declared: pattern,
        observed: label,
      };
      findings.push(
        approval
          ? {
              ...base,
              status: 'pass',
              message: `${where} names protected label ${label}; allowed by approved exception ${approval}`,
            }
          : {
              ...base,
              status: 'fail',
              code: 'PREFLIGHT_FORBIDDEN',
              message: `${where} names protected label ${label} (${pattern}) without approvals.exception_ref`,
            },
      );
    }
    for (const found of escapesOf(facts, transactionalRun)) findings.push(escapeCheck(found, where, allowed));
  }
  const checks: Check[] = findings.length ? findings : [];
  if (!findings.some((check) => check.status === 'fail')) {
    checks.unshift({
      name: 'preflight:statements',
      rule: RULE,
      status: 'pass',
      message: `${split.statements.length} statement(s) parsed; none forbidden, protected without approval, or non-transactional in a transactional run`,
    });
  }
  return {
    statements: split.statements.map(planStatement),
    checks,
    predicted: { labels: unique(labels), relationship_types: unique(types) },
  };
}
