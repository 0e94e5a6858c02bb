// Lock-hazard lint: statements that are in scope and still take a busy table offline. Read from the real
// parser's tree, with table sizes from the live catalog (`reltuples`, `pg_total_relation_size`); a table
// the script creates is new and never "busy". Each rule has a stable id; the policy sets the threshold and
// each rule's severity (`error` stops the run at preflight, `warning` is reported, `off`); a comment
// `-- kfm-lint: ignore <rule-id> <reason>` on the lines just above a statement suppresses that rule there,
// and the reason is kept in the finding (so in plan.json and the receipt).
import type { LintFinding, MigrationDeclaration, Policy } from '@kfm/migration-contracts';
import type { ClientBase } from 'pg';
import { batchDirective } from './batch.js';
import type { NameResolver } from './resolve.js';
import { commentsAbove, type ParsedStatement } from './statements.js';

export const DEFAULT_THRESHOLD = 10_000;

export const LINT_RULES = {
  'index-not-concurrent': { severity: 'error', sized: true },
  'constraint-not-valid': { severity: 'error', sized: true },
  'set-not-null': { severity: 'error', sized: true },
  'column-type-rewrite': { severity: 'error', sized: true },
  'volatile-default': { severity: 'error', sized: true },
  'unbatched-backfill': { severity: 'warning', sized: true },
  destructive: { severity: 'error', sized: false },
  rename: { severity: 'warning', sized: false },
  'exclusive-lock-long': { severity: 'warning', sized: true },
} as const satisfies Record<string, { severity: 'error' | 'warning'; sized: boolean }>;

export type LintRule = keyof typeof LINT_RULES;

export interface TableSize {
  rows: number;
  bytes: number;
}

/** Sizes of existing tables by qualified name, in one query. */
export async function tableSizes(client: ClientBase, tables: readonly string[]): Promise<Map<string, TableSize>> {
  if (tables.length === 0) return new Map();
  const { rows } = await client.query(
    `SELECT n.nspname || '.' || c.relname AS name, greatest(c.reltuples, 0)::bigint::text AS rows, pg_total_relation_size(c.oid)::text AS bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname || '.' || c.relname = ANY($1::text[])`,
    [tables],
  );
  return new Map(
    rows.map((row: { name: string; rows: string; bytes: string }) => [
      row.name,
      { rows: Number(row.rows), bytes: Number(row.bytes) },
    ]),
  );
}

const VOLATILE = new Set([
  'random',
  'clock_timestamp',
  'timeofday',
  'gen_random_uuid',
  'uuid_generate_v1',
  'uuid_generate_v4',
  'nextval',
  'txid_current',
]);

type Node = Record<string, unknown>;

interface Hazard {
  rule: LintRule;
  table?: string;
  message: string;
  /** Takes ACCESS EXCLUSIVE on `table`. */
  exclusive?: boolean;
  /** Expected to be slow on a large table (a full scan, a rewrite, a backfill). */
  slow?: boolean;
}

function qualified(relation: Node | undefined, resolver: NameResolver): string | undefined {
  if (!relation || typeof relation.relname !== 'string') return undefined;
  const schema = typeof relation.schemaname === 'string' ? relation.schemaname : resolver.relation(relation.relname);
  return `${schema}.${relation.relname}`;
}

function functionsIn(value: unknown, into: string[] = []): string[] {
  if (Array.isArray(value)) for (const item of value) functionsIn(item, into);
  else if (value && typeof value === 'object') {
    const call = (value as Node).FuncCall as Node | undefined;
    if (call) {
      const names = ((call.funcname as Node[] | undefined) ?? []).map((part) =>
        String((part.String as Node | undefined)?.sval ?? ''),
      );
      into.push(names[names.length - 1] ?? '');
    }
    for (const child of Object.values(value)) functionsIn(child, into);
  }
  return into;
}

/** What a statement risks, before sizes and ignores are applied. */
function hazards(statement: ParsedStatement, resolver: NameResolver, validated: Set<string>): Hazard[] {
  const { node, ast } = statement;
  const found: Hazard[] = [];
  switch (node) {
    case 'IndexStmt': {
      const table = qualified(ast.relation as Node, resolver);
      if (!ast.concurrent)
        found.push({
          rule: 'index-not-concurrent',
          ...(table ? { table } : {}),
          slow: true,
          message:
            'CREATE INDEX without CONCURRENTLY blocks writes to the table for the whole build; use CREATE INDEX CONCURRENTLY (transactional: false)',
        });
      break;
    }
    case 'AlterTableStmt': {
      const table = qualified(ast.relation as Node, resolver);
      const at = table ? { table } : {};
      for (const item of (ast.cmds as Node[] | undefined) ?? []) {
        const cmd = item.AlterTableCmd as Node;
        const subtype = String(cmd.subtype);
        const def = (cmd.def as Node | undefined) ?? {};
        const constraint = def.Constraint as Node | undefined;
        if (
          subtype === 'AT_AddConstraint' &&
          constraint &&
          ['CONSTR_FOREIGN', 'CONSTR_CHECK'].includes(String(constraint.contype)) &&
          constraint.skip_validation !== true
        ) {
          found.push({
            rule: 'constraint-not-valid',
            ...at,
            exclusive: true,
            slow: true,
            message: `ADD ${constraint.contype === 'CONSTR_FOREIGN' ? 'FOREIGN KEY' : 'CHECK'} scans the whole table under lock; add it NOT VALID, then VALIDATE CONSTRAINT in a later statement`,
          });
        } else if (subtype === 'AT_ValidateConstraint' && table) {
          validated.add(table);
        } else if (subtype === 'AT_SetNotNull' && !(table && validated.has(table))) {
          found.push({
            rule: 'set-not-null',
            ...at,
            exclusive: true,
            slow: true,
            message: `SET NOT NULL on ${String(cmd.name)} scans the table under ACCESS EXCLUSIVE; first add CHECK (${String(cmd.name)} IS NOT NULL) NOT VALID and VALIDATE it`,
          });
        } else if (subtype === 'AT_AlterColumnType') {
          found.push({
            rule: 'column-type-rewrite',
            ...at,
            exclusive: true,
            slow: true,
            message: `ALTER COLUMN ${String(cmd.name)} TYPE can rewrite the table and its indexes under ACCESS EXCLUSIVE; add a new column and backfill it in batches`,
          });
        } else if (subtype === 'AT_AddColumn') {
          const column = def.ColumnDef as Node | undefined;
          const defaults = ((column?.constraints as Node[] | undefined) ?? [])
            .map((c) => c.Constraint as Node)
            .filter((c) => c?.contype === 'CONSTR_DEFAULT');
          const volatile = defaults.flatMap((c) => functionsIn(c.raw_expr)).filter((name) => VOLATILE.has(name));
          if (volatile.length > 0)
            found.push({
              rule: 'volatile-default',
              ...at,
              exclusive: true,
              slow: true,
              message: `ADD COLUMN ${String(column?.colname)} with the volatile default ${volatile[0]}() rewrites the table; add the column without a default, then backfill in batches`,
            });
          else found.push({ rule: 'exclusive-lock-long', ...at, exclusive: true, message: '' });
        } else if (subtype === 'AT_DropColumn') {
          found.push({
            rule: 'destructive',
            ...at,
            exclusive: true,
            message: `DROP COLUMN ${String(cmd.name)} loses data readers may still use`,
          });
        } else {
          found.push({ rule: 'exclusive-lock-long', ...at, exclusive: true, message: '' });
        }
      }
      break;
    }
    case 'UpdateStmt':
    case 'DeleteStmt': {
      const table = qualified(ast.relation as Node, resolver);
      found.push({
        rule: 'unbatched-backfill',
        ...(table ? { table } : {}),
        slow: true,
        message: `${node === 'UpdateStmt' ? 'UPDATE' : 'DELETE'} of a large table in one statement holds its row locks and bloats it until commit; batch it by key`,
      });
      break;
    }
    case 'DropStmt':
      if (['OBJECT_TABLE', 'OBJECT_SCHEMA', 'OBJECT_MATVIEW'].includes(String(ast.removeType))) {
        found.push({
          rule: 'destructive',
          message: `DROP ${String(ast.removeType).replace('OBJECT_', '')} loses data; it needs approvals.exception_ref`,
        });
      }
      break;
    case 'TruncateStmt':
      for (const relation of (ast.relations as Node[] | undefined) ?? []) {
        const table = qualified(relation.RangeVar as Node, resolver);
        found.push({
          rule: 'destructive',
          ...(table ? { table } : {}),
          exclusive: true,
          message: 'TRUNCATE loses every row; it needs approvals.exception_ref',
        });
      }
      break;
    case 'RenameStmt':
      if (['OBJECT_TABLE', 'OBJECT_COLUMN', 'OBJECT_VIEW', 'OBJECT_MATVIEW'].includes(String(ast.renameType))) {
        const table = qualified(ast.relation as Node, resolver);
        found.push({
          rule: 'rename',
          ...(table ? { table } : {}),
          exclusive: true,
          message: `RENAME ${String(ast.renameType).replace('OBJECT_', '')} breaks every reader still using the old name; add the new name alongside (a view or column) first`,
        });
      }
      break;
    default:
      break;
  }
  return found;
}

/** `-- kfm-lint: ignore <rule> <reason>` lines directly above the statement (comments only). */
function ignoresAbove(source: string, line: number): Map<string, string> {
  const ignores = new Map<string, string>();
  for (const text of commentsAbove(source, line)) {
    const match = /^--\s*kfm-lint:\s*ignore\s+([a-z][a-z0-9-]*)\s+(.+)$/.exec(text);
    if (match) ignores.set(match[1]!, match[2]!.trim());
  }
  return ignores;
}

export interface LintOptions {
  sizes: ReadonlyMap<string, TableSize>;
  /** Without a live catalog, sizes are unknown: size-dependent rules report that instead of firing. */
  sizesKnown: boolean;
  sources: ReadonlyMap<string, string>;
  policy?: Policy['lint'];
  declaration: MigrationDeclaration;
  transactional: boolean;
}

export function lintStatements(
  statements: readonly { statement: ParsedStatement; resolver: NameResolver }[],
  options: LintOptions,
): LintFinding[] {
  const threshold = options.policy?.threshold ?? DEFAULT_THRESHOLD;
  const created = new Set<string>();
  const validated = new Set<string>();
  const raw: { statement: ParsedStatement; hazard: Hazard }[] = [];
  for (const { statement, resolver } of statements) {
    if (statement.node === 'CreateStmt' || statement.node === 'CreateTableAsStmt') {
      const relation = (statement.ast.relation ?? (statement.ast.into as Node | undefined)?.rel) as Node | undefined;
      const schema = typeof relation?.schemaname === 'string' ? relation.schemaname : resolver.creation();
      if (typeof relation?.relname === 'string') created.add(`${schema}.${relation.relname}`);
    }
    for (const hazard of hazards(statement, resolver, validated)) raw.push({ statement, hazard });
  }
  const large = (table: string | undefined) =>
    table !== undefined && !created.has(table) && (options.sizes.get(table)?.rows ?? 0) > threshold;
  // One slow statement on a large table makes every ACCESS EXCLUSIVE lock of the same transaction long.
  const slowInTransaction = options.transactional && raw.some(({ hazard }) => hazard.slow && large(hazard.table));
  const findings: LintFinding[] = [];
  for (const { statement, hazard } of raw) {
    const rule = hazard.rule;
    let message = hazard.message;
    if (rule === 'exclusive-lock-long') {
      if (!(slowInTransaction && large(hazard.table))) continue;
      message = `takes ACCESS EXCLUSIVE on ${hazard.table} in a transaction that also runs a slow statement on a large table: readers queue behind it until commit`;
    }
    const spec = LINT_RULES[rule];
    const severity = options.policy?.severities?.[rule] ?? spec.severity;
    if (severity === 'off') continue;
    if (spec.sized && options.sizesKnown && !large(hazard.table)) continue;
    if (rule === 'destructive' && options.declaration.approvals.exception_ref) continue;
    const size = hazard.table ? options.sizes.get(hazard.table) : undefined;
    const source = options.sources.get(statement.file) ?? '';
    // A batched backfill is the fix this rule asks for.
    if (rule === 'unbatched-backfill' && batchDirective(source, statement.line)) continue;
    const ignore = ignoresAbove(source, statement.line).get(rule);
    findings.push({
      rule,
      severity: severity as 'error' | 'warning',
      file: statement.file,
      line: statement.line,
      statement: statement.index,
      ...(hazard.table ? { table: hazard.table } : {}),
      ...(size ? { rows_estimate: size.rows, bytes: size.bytes } : {}),
      message:
        spec.sized && !options.sizesKnown
          ? `${message} (table size unknown without a store: checked as if large)`
          : message,
      ...(ignore ? { ignored: { reason: ignore } } : {}),
    } as LintFinding);
  }
  return findings;
}
