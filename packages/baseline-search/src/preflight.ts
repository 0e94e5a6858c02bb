// Static analysis of a search plan before the cluster is touched: the plan schema, names the
// declaration forbids or the policy protects, deletions of undeclared or still-aliased indices, and
// (for a governed, transactional apply) operations that a dropped shadow could not undo.
import type {
  Check,
  MigrationDeclaration,
  PlanStatement,
  PreflightOptions,
  PreflightResult,
  ScriptFile,
} from '@kfm/migration-contracts';
import { escapeCheck } from '@kfm/adapter-kit';
import { firstMatch, isReserved, RESERVED_PREFIX, sortedUnique } from './scope.js';
import { namedIndices, namedObject, readPlan, whereOf, type LocatedOperation } from './operations.js';

const RULE = 'preflight' as const;

/** Aliases per existing index, for the indices a plan names (absent index = not in the map). */
export type AliasLookup = (indices: string[]) => Promise<Map<string, Set<string>>>;

/**
 * The concrete indices each name stands for on the live cluster: an index is itself, an alias is every
 * index behind it. A name that does not exist yet is absent (it will be created as written).
 */
export type IndexResolver = (names: string[]) => Promise<Map<string, string[]>>;

/** A painless assignment that re-routes a document: into another index, under another id, or to deletion. */
const ROUTING_ASSIGNMENT =
  /ctx\s*(?:\.\s*(?:_index|_id|_routing|op)|\[\s*['"](?:_index|_id|_routing|op)['"]\s*\])\s*=(?!=)/;
/** An ingest processor that writes a routing field (set/rename/script on _index, _id or _routing). */
const PIPELINE_ROUTING =
  /"(?:field|target_field)"\s*:\s*"(?:_index|_id|_routing)"|ctx\s*(?:\.\s*(?:_index|_id|_routing)|\[\s*['"\\]+(?:_index|_id|_routing))/;

export interface SearchPreflightResult extends PreflightResult {
  operations: LocatedOperation[];
}

const DESTRUCTIVE = new Set(['delete_index', 'delete_index_template', 'delete_component_template', 'delete_pipeline']);

/** Operations a governed apply can undo (drop the shadow, restore the previous template/pipeline). */
function transactionalReason(located: LocatedOperation, created: ReadonlySet<string>): string | undefined {
  const { operation } = located;
  switch (operation.op) {
    case 'put_mapping':
    case 'put_settings':
      return created.has(operation.index)
        ? undefined
        : `${operation.op} changes ${operation.index}, an index this plan did not create (mapping and setting changes go to a new versioned index)`;
    case 'reindex':
      return created.has(operation.body.dest.index)
        ? undefined
        : `reindex writes into ${operation.body.dest.index}, an index this plan did not create`;
    case 'delete_index':
      return created.has(operation.index)
        ? undefined
        : `delete_index ${operation.index} cannot be undone by dropping a shadow index`;
    default:
      return undefined;
  }
}

function statementOf(located: LocatedOperation, created: ReadonlySet<string>): PlanStatement {
  const { operation } = located;
  const names = namedIndices(operation);
  const objects: Record<string, string>[] = [
    ...sortedUnique([...names.reads, ...names.writes]).map((index) => ({ index })),
    ...sortedUnique(names.aliases).map((alias) => ({ alias })),
  ];
  const named = namedObject(operation);
  if (named) objects.push({ [named.dimension === 'templates' ? 'template' : 'pipeline']: named.name });
  return {
    index: located.position,
    file: located.file,
    ...(located.line ? { line: located.line } : {}),
    kind: operation.op,
    objects,
    transactional: transactionalReason(located, created) === undefined,
    destructive: DESTRUCTIVE.has(operation.op),
    data: operation.op === 'reindex',
  };
}

export async function preflightSearch(
  scripts: readonly ScriptFile[],
  declaration: MigrationDeclaration,
  options: PreflightOptions,
  lookupAliases: AliasLookup,
  mode: { transactional: boolean } = { transactional: declaration.transactional !== false },
  resolve: IndexResolver = async () => new Map(),
): Promise<SearchPreflightResult> {
  const plan = readPlan(scripts);
  const predicted: Record<string, string[]> = { aliases: [], indices: [], pipelines: [], templates: [] };
  if (!plan.ok) {
    const checks: Check[] = plan.issues.map((issue) => ({
      name: `preflight:schema:${issue.file ?? ''}${issue.pointer ?? ''}`,
      rule: RULE,
      status: 'fail',
      code: 'PREFLIGHT_PARSE',
      ...(issue.pointer !== undefined ? { pointer: issue.pointer } : {}),
      ...(issue.expected ? { declared: issue.expected } : {}),
      observed: issue.code,
      message: `${issue.file ?? ''}${issue.line ? `:${issue.line}:${issue.column ?? 1}` : ''} ${issue.pointer || '/'} ${issue.message}`,
    }));
    return { statements: [], checks, predicted, operations: [] };
  }
  const { operations } = plan;
  const scope = declaration.scope ?? {};
  const domains = options.protected ?? declaration.protected;
  const approval = declaration.approvals?.exception_ref;
  const findings: Check[] = [];
  const created = new Set<string>();
  const statements: PlanStatement[] = [];
  const writes: string[] = [];
  const aliases: string[] = [];
  const templates: string[] = [];
  const pipelines: string[] = [];
  const everyIndex = sortedUnique(
    operations.flatMap(({ operation }) => {
      const n = namedIndices(operation);
      return [...n.reads, ...n.writes];
    }),
  );
  const [live, resolved] =
    everyIndex.length > 0
      ? await Promise.all([lookupAliases(everyIndex), resolve(everyIndex)])
      : [new Map<string, Set<string>>(), new Map<string, string[]>()];
  /** The concrete indices behind a name other than the name itself (an alias's indices). */
  const behindName = (name: string) => (resolved.get(name) ?? []).filter((index) => index !== name);
  // Alias state as the plan runs in order (a governed apply defers update_aliases, checked below).
  const aliasState = new Map([...live].map(([index, set]) => [index, new Set(set)]));
  let sawCommit = false;

  // Escapes (re-routing scripts and pipelines) are refused unless the policy allows the rule for this bundle.
  const allowedRules = new Set(options.allowedRules ?? []);
  const fail = (name: string, code: string, pointer: string, message: string, extra: Partial<Check> = {}) =>
    findings.push({ name, rule: RULE, status: 'fail', code, pointer, message, ...extra });

  for (const located of operations) {
    const { operation } = located;
    const where = whereOf(located);
    const names = namedIndices(operation);
    const named = namedObject(operation);
    const reason = mode.transactional ? transactionalReason(located, created) : undefined;
    statements.push(statementOf(located, created));
    writes.push(...names.writes);
    aliases.push(...names.aliases);
    if (named) (named.dimension === 'templates' ? templates : pipelines).push(named.name);

    const dimensions: [string, string[]][] = [
      ['indices', [...names.reads, ...names.writes]],
      ['aliases', names.aliases],
    ];
    if (named) dimensions.push([named.dimension, [named.name]]);
    for (const [dimension, list] of dimensions) {
      const key = `forbidden_${dimension}` as keyof typeof scope;
      const patterns = scope[key];
      for (const name of list) {
        const hit = firstMatch(patterns, [name]);
        if (hit >= 0)
          fail(
            `preflight:forbidden:${where}:${name}`,
            'PREFLIGHT_FORBIDDEN',
            `/scope/${key}/${hit}`,
            `${where} names ${name}, which the declaration forbids (${patterns![hit]})`,
            { declared: patterns![hit], observed: name },
          );
      }
    }
    // Names as the cluster resolves them: a write through an alias lands in the indices behind it, so each
    // of those must be as allowed as the alias, and none forbidden or protected.
    for (const name of [...names.reads, ...names.writes]) {
      for (const index of behindName(name)) {
        const forbidden = firstMatch(scope.forbidden_indices, [index]);
        if (forbidden >= 0)
          fail(
            `preflight:forbidden:${where}:${name}->${index}`,
            'PREFLIGHT_FORBIDDEN',
            `/scope/forbidden_indices/${forbidden}`,
            `${where} names ${name}, an alias of ${index}, which the declaration forbids (${scope.forbidden_indices![forbidden]})`,
            { declared: scope.forbidden_indices![forbidden], observed: index },
          );
        if (firstMatch(domains?.indices, [index]) >= 0 && !approval)
          fail(
            `preflight:protected:${where}:${name}->${index}`,
            'PREFLIGHT_FORBIDDEN',
            '/approvals/exception_ref',
            `${where} names ${name}, an alias of protected ${index}, without approvals.exception_ref`,
            { observed: index },
          );
        if (names.writes.includes(name) && firstMatch(scope.allowed_indices, [index]) < 0) {
          fail(
            `preflight:undeclared-write:${where}:${name}->${index}`,
            'PREFLIGHT_FORBIDDEN',
            '/scope/allowed_indices',
            `${where} writes to ${name}, an alias of ${index}, which scope.allowed_indices does not declare`,
            { observed: index },
          );
        }
        if (isReserved(index))
          fail(
            `preflight:reserved:${where}:${name}->${index}`,
            'PREFLIGHT_FORBIDDEN',
            located.pointer,
            `${where} names ${name}, an alias of the runner's own ${index}`,
            { observed: index },
          );
        if (names.writes.includes(name)) writes.push(index);
      }
    }
    if (operation.op === 'reindex' && operation.body.script && ROUTING_ASSIGNMENT.test(operation.body.script.source)) {
      findings.push(
        escapeCheck(
          {
            rule: 'reindex-routing',
            message:
              'reindex script assigns ctx._index, ctx._id, ctx._routing or ctx.op: documents could land outside the declared destination',
          },
          where,
          allowedRules,
        ),
      );
    }
    if (operation.op === 'reindex' && operation.body.dest.pipeline) {
      const pipeline = operation.body.dest.pipeline;
      pipelines.push(pipeline);
      const allowed = firstMatch(scope.allowed_pipelines, [pipeline]);
      if (allowed < 0)
        fail(
          `preflight:reindex-pipeline:${where}`,
          'PREFLIGHT_FORBIDDEN',
          '/scope/allowed_pipelines',
          `${where} reindexes through pipeline ${pipeline}, which scope.allowed_pipelines does not declare`,
          { observed: pipeline },
        );
    }
    if (operation.op === 'put_pipeline' && PIPELINE_ROUTING.test(JSON.stringify(operation.body))) {
      findings.push(
        escapeCheck(
          {
            rule: 'pipeline-routing',
            message: `pipeline ${operation.id} writes _index, _id or _routing: documents could land outside the declared destination`,
          },
          where,
          allowedRules,
        ),
      );
    }
    // The runner's own index (lease, ledger, policy) is out of every migration's reach.
    for (const name of [...names.reads, ...names.writes, ...names.aliases].filter(isReserved)) {
      fail(
        `preflight:reserved:${where}:${name}`,
        'PREFLIGHT_FORBIDDEN',
        located.pointer,
        `${where} names ${name}: indices starting with ${RESERVED_PREFIX} hold the runner's lease, ledger and policy, which no migration may touch`,
        { observed: name },
      );
    }
    for (const name of [...names.reads, ...names.writes, ...names.aliases]) {
      if (firstMatch(domains?.indices, [name]) < 0 && firstMatch(domains?.aliases, [name]) < 0) continue;
      findings.push(
        approval
          ? {
              name: `preflight:protected:${where}:${name}`,
              rule: 'protected',
              status: 'pass',
              observed: name,
              message: `${where} names protected ${name}; approved by ${approval}`,
            }
          : {
              name: `preflight:protected:${where}:${name}`,
              rule: 'protected',
              status: 'fail',
              code: 'PREFLIGHT_FORBIDDEN',
              pointer: '/approvals/exception_ref',
              observed: name,
              message: `${where} names protected ${name} without approvals.exception_ref`,
            },
      );
    }
    if (reason)
      fail(
        `preflight:transactional:${where}`,
        'PREFLIGHT_NON_TRANSACTIONAL',
        '/transactional',
        `${where}: ${reason}; declare \`transactional: false\` (the rollback plan is then the safety net)`,
        { observed: operation.op },
      );
    if (mode.transactional && sawCommit && operation.op !== 'update_aliases') {
      fail(
        `preflight:commit-order:${where}`,
        'PREFLIGHT_NON_TRANSACTIONAL',
        located.pointer,
        `${where} comes after update_aliases, the commit point; move every update_aliases to the end of the plan`,
      );
    }

    if (operation.op === 'create_index') created.add(operation.index);
    if (operation.op === 'update_aliases') {
      sawCommit = true;
      // Governed applies run all alias actions at the end: the state they see is the final one.
      for (const action of operation.body.actions) {
        if (action.add)
          (aliasState.get(action.add.index) ?? aliasState.set(action.add.index, new Set()).get(action.add.index)!).add(
            action.add.alias,
          );
        if (action.remove) aliasState.get(action.remove.index)?.delete(action.remove.alias);
      }
    }
    if (operation.op === 'delete_index') {
      const allowed = firstMatch(scope.allowed_indices, [operation.index]);
      if (allowed < 0)
        fail(
          `preflight:delete-undeclared:${where}`,
          'PREFLIGHT_FORBIDDEN',
          '/scope/allowed_indices',
          `${where} deletes ${operation.index}, which scope.allowed_indices does not declare`,
          { observed: operation.index },
        );
      const behind = [...(aliasState.get(operation.index) ?? [])].sort();
      if (behind.length > 0)
        fail(
          `preflight:delete-aliased:${where}`,
          'PREFLIGHT_FORBIDDEN',
          located.pointer,
          `${where} deletes ${operation.index}, which alias ${behind.join(', ')} still points to`,
          { observed: behind },
        );
      aliasState.delete(operation.index);
    }
  }

  const checks: Check[] = [
    {
      name: 'preflight:schema',
      rule: RULE,
      status: 'pass',
      message: `${operations.length} operation(s) valid against search_operations.v1`,
    },
  ];
  const has = (code: string) => findings.some((check) => check.code === code);
  if (!has('PREFLIGHT_NON_TRANSACTIONAL')) {
    checks.push({
      name: 'preflight:transactional',
      rule: RULE,
      status: 'pass',
      message: mode.transactional
        ? 'every index change goes to a new index; update_aliases is the commit point'
        : 'declared non-transactional',
    });
  }
  if (!has('PREFLIGHT_FORBIDDEN'))
    checks.push({
      name: 'preflight:forbidden',
      rule: RULE,
      status: 'pass',
      message: 'no forbidden, protected, undeclared or still-aliased name',
    });
  const seen = new Set<string>();
  checks.push(...findings.filter((check) => !seen.has(check.name) && Boolean(seen.add(check.name))));
  return {
    statements,
    checks,
    predicted: {
      aliases: sortedUnique(aliases),
      indices: sortedUnique(writes),
      pipelines: sortedUnique(pipelines),
      templates: sortedUnique(templates),
    },
    operations,
  };
}
