// The governed apply of a search plan. Transactional (default): every non-alias operation runs
// first, against new (shadow) indices and templates/pipelines whose previous definitions were read;
// POST is the real state with the planned alias moves projected in memory; only when decide()
// says yes does the single atomic POST /_aliases run (the commit point). A refusal or a failure
// drops the shadows and restores templates/pipelines, so no alias ever moved and the store is at PRE.
// Non-transactional: the plan runs in order, and a refusal leaves it applied for the rollback plan.
import { commitPoint } from '@kfm/adapter-kit';
import type {
  ApplyRequest,
  ApplyResult,
  Baseline,
  DataChange,
  Issue,
  RollbackResult,
  ScriptFile,
  MigrationDeclaration,
  Progress,
  StatementRun,
} from '@kfm/migration-contracts';
import { projectAliasActions } from './alias-projection.js';
import { assembleBaseline, captureWith, type SearchBaselineOptions } from './capture.js';
import { type WriteCounters, writeCounters, writesSince } from './write-counters.js';
import { describeError, type SearchRest, type ServerInfo } from './es-client.js';
import { executeOperation, prepareUndo, type Undo } from './execute.js';
import type { SearchLedger } from './ledger.js';
import { RUN_TAG } from './lock.js';
import { readPlan, whereOf, type AliasAction, type LocatedOperation, type SearchOperation } from './operations.js';
import { waitForHealth } from './health.js';
import { planInvariants } from './plan-invariants.js';
import { preflightSearch, type AliasLookup, type IndexResolver } from './preflight.js';
import type { Sleep } from './reindex.js';
import { docPath } from './runner-store.js';

export interface ApplyContext {
  rest: SearchRest;
  /** The engine and version `GET /` named at connect. */
  server: ServerInfo;
  indexPattern?: string;
  ledger: SearchLedger;
  /** The runner index: reindex tasks of a running apply are recorded there, for a takeover to cancel. */
  runnerIndex: string;
  sleep: Sleep;
  lookupAliases: AliasLookup;
  resolveIndices?: IndexResolver;
  /** Indexing counters at the start of the current apply (see write-counters.ts). */
  countersBefore?: WriteCounters;
}

type Metrics = { operations_applied: number; docs_reindexed: number; alias_actions: number };

function statementFailure(located: LocatedOperation, message: string): Issue {
  return {
    code: 'STATEMENT_FAILED',
    file: located.file,
    pointer: located.pointer,
    ...(located.line ? { line: located.line } : {}),
    message: `${whereOf(located)}: ${message}`,
  };
}

/** A shadow index carries the run that created it in its mapping's _meta, so a takeover can find a dead run's leftovers. */
function tagged(operation: SearchOperation, runId: string): SearchOperation {
  if (operation.op !== 'create_index') return operation;
  const mappings = (operation.body?.mappings ?? {}) as Record<string, unknown>;
  const meta = (mappings._meta ?? {}) as Record<string, unknown>;
  return { ...operation, body: { ...operation.body, mappings: { ...mappings, _meta: { ...meta, [RUN_TAG]: runId } } } };
}

interface RunHooks {
  runId: string;
  signal?: AbortSignal;
  /** Tag created indices and record reindex tasks (shadow applies, which a takeover may clean up). */
  shadow: boolean;
}

/** Runs one operation; a fault of the cluster becomes a failure message, never a thrown error. */
async function run(
  ctx: ApplyContext,
  located: LocatedOperation,
  metrics: Metrics,
  hooks: RunHooks,
  progress?: Progress,
): Promise<string | undefined> {
  if (hooks.signal?.aborted)
    return `not run: ${hooks.signal.reason instanceof Error ? hooks.signal.reason.message : 'the store lease was lost'}`;
  progress?.(`${whereOf(located)}`);
  const operation = hooks.shadow ? tagged(located.operation, hooks.runId) : located.operation;
  const onTask = hooks.shadow
    ? {
        started: (task: string) =>
          ctx.rest
            .request('PUT', docPath(ctx.runnerIndex, `task:${task}`), {
              body: { type: 'task', run_id: hooks.runId, task, at: new Date().toISOString() },
              query: { refresh: 'true' },
            })
            .then(() => undefined),
        finished: (task: string) =>
          ctx.rest
            .request('DELETE', docPath(ctx.runnerIndex, `task:${task}`), { query: { refresh: 'true' }, ignore: [404] })
            .then(() => undefined),
      }
    : undefined;
  try {
    const outcome = await executeOperation(ctx.rest, operation, progress, ctx.sleep, {
      ...(onTask ? { tasks: onTask } : {}),
      ...(hooks.signal ? { signal: hooks.signal } : {}),
    });
    metrics.docs_reindexed += outcome.reindexed;
    if (!outcome.ok) return outcome.message;
    metrics.operations_applied++;
    return undefined;
  } catch (error) {
    return describeError(error);
  }
}

/** Undoes in reverse order; returns the undos that failed (an empty list means back at PRE). */
async function compensate(journal: Undo[], progress?: Progress): Promise<string[]> {
  const failed: string[] = [];
  for (const undo of [...journal].reverse()) {
    progress?.(`abort: ${undo.describe}`);
    try {
      await undo.run();
    } catch (error) {
      failed.push(`${undo.describe}: ${describeError(error)}`);
    }
  }
  return failed;
}

function metricsRecord(metrics: Metrics): Record<string, number> {
  return {
    alias_actions: metrics.alias_actions,
    docs_reindexed: metrics.docs_reindexed,
    operations_applied: metrics.operations_applied,
  };
}

/** Every operation with its group: the shadow work (0), then the alias flip, the commit point (1). */
function statementsOf(
  operations: readonly LocatedOperation[],
  outcome: { failed?: number; through: number },
  transactional: boolean,
): StatementRun[] {
  return operations.map((located) => ({
    index: located.position,
    file: located.file,
    ...(located.line ? { line: located.line } : {}),
    kind: located.operation.op,
    group: transactional ? (located.operation.op === 'update_aliases' ? 1 : 0) : located.position,
    transactional,
    outcome: located.position === outcome.failed ? 'failed' : located.position <= outcome.through ? 'ok' : 'not_run',
  }));
}

export async function governedApply(ctx: ApplyContext, request: ApplyRequest): Promise<ApplyResult> {
  const plan = readPlan(request.scripts);
  const metrics: Metrics = { operations_applied: 0, docs_reindexed: 0, alias_actions: 0 };
  if (!plan.ok) {
    const first = plan.issues[0]!;
    return {
      status: 'failed',
      atPre: true,
      metrics: metricsRecord(metrics),
      failure: { ...first, code: 'PREFLIGHT_PARSE' },
    };
  }
  const options: SearchBaselineOptions = {
    ...request.baseline,
    ...(ctx.indexPattern ? { indexPattern: ctx.indexPattern } : {}),
  };
  const before = await captureWith(ctx.rest, ctx.server, options);
  ctx.countersBefore = await writeCounters(ctx.rest);
  const actions: AliasAction[] = plan.operations.flatMap(({ operation }) =>
    operation.op === 'update_aliases' ? operation.body.actions : [],
  );
  metrics.alias_actions = actions.length;
  return request.transactional
    ? shadowApply(ctx, request, plan.operations, before, actions, metrics, options)
    : inPlaceApply(ctx, request, plan.operations, before, actions, metrics, options);
}

/** Documents the cluster counted as written since the run began, on the indices the run may judge. */
async function observedWrites(ctx: ApplyContext, request: ApplyRequest): Promise<DataChange[]> {
  if (!ctx.countersBefore) return [];
  return writesSince(
    ctx.countersBefore,
    await writeCounters(ctx.rest),
    request.declaration,
    request.baseline.protected ?? request.declaration.protected,
  );
}

async function shadowApply(
  ctx: ApplyContext,
  request: ApplyRequest,
  operations: LocatedOperation[],
  before: Baseline,
  actions: AliasAction[],
  metrics: Metrics,
  options: SearchBaselineOptions,
): Promise<ApplyResult> {
  const { progress } = request;
  const hooks: RunHooks = {
    runId: request.ledger.run_id,
    shadow: true,
    ...(request.signal ? { signal: request.signal } : {}),
  };
  const journal: Undo[] = [];
  const created: LocatedOperation[] = [];
  let through = -1;
  const statements = (failed?: number) =>
    statementsOf(operations, failed === undefined ? { through } : { failed, through }, true);
  const abort = async (
    status: 'aborted' | 'failed',
    failure?: Issue,
    post?: Baseline,
    failed?: number,
  ): Promise<ApplyResult> => {
    const failedUndos = await compensate(journal, progress);
    const rollbackFailure: Issue | undefined = failedUndos.length
      ? { code: 'ROLLBACK_FAILED', message: `could not drop the shadow: ${failedUndos.join('; ')}` }
      : undefined;
    return {
      status,
      atPre: failedUndos.length === 0,
      metrics: metricsRecord(metrics),
      statements: statements(failed),
      ...(post ? { post } : {}),
      ...((failure ?? rollbackFailure) ? { failure: (failure ?? rollbackFailure)! } : {}),
    };
  };

  for (const located of operations) {
    if (located.operation.op === 'update_aliases') continue;
    let undo: Undo | undefined;
    try {
      undo = await prepareUndo(ctx.rest, located.operation);
    } catch (error) {
      return abort(
        'failed',
        statementFailure(located, `could not read the previous definition: ${describeError(error)}`),
        undefined,
        located.position,
      );
    }
    through = located.position;
    const failure = await run(ctx, located, metrics, hooks, progress);
    // A failed create_index created nothing; a failed reindex leaves a partly filled shadow behind.
    if (undo && (!failure || located.operation.op !== 'create_index')) journal.push(undo);
    if (failure) {
      const issue = statementFailure(located, failure);
      return abort(
        'failed',
        request.signal?.aborted ? { ...issue, code: 'LEASE_LOST' } : issue,
        undefined,
        located.position,
      );
    }
    if (located.operation.op === 'create_index') created.push(located);
  }
  // Every new index allocated as declared (green by default) before anything is judged or flipped.
  const unhealthy = await waitForHealth(ctx.rest, created, progress);
  if (unhealthy) return abort('failed', statementFailure(unhealthy.located, unhealthy.message), undefined, through);

  let post: Baseline;
  try {
    const real = await captureWith(ctx.rest, ctx.server, options);
    const objects = await projectAliasActions(real.objects, actions);
    const invariants = planInvariants(before, { ...real, objects }, actions, request.declaration);
    post = await assembleBaseline(
      {
        server: ctx.server,
        objects,
        docs: real.measures?.docs ?? {},
        ...(real.protected?.content ? { content: real.protected.content } : {}),
      },
      { ...options, invariants: [...(options.invariants ?? []), ...invariants] },
    );
  } catch (error) {
    await compensate(journal, progress);
    throw error;
  }

  let flipFailure: Issue | undefined;
  const finishCommit = async () => {
    metrics.operations_applied += operations.filter(({ operation }) => operation.op === 'update_aliases').length;
    through = operations.length - 1;
    // Committed: the new indices are no longer a run's shadows a takeover could delete.
    for (const { operation } of created) if (operation.op === 'create_index') await untag(ctx.rest, operation.index);
    // No transaction spans the flip and the ledger: the flip is the commit, the ledger follows it.
    await ctx.ledger.record(request.ledger);
  };
  const data = await observedWrites(ctx, request);
  const decision = await commitPoint({
    request,
    post,
    metrics: metricsRecord(metrics),
    data,
    commit: async () => {
      if (actions.length > 0) {
        progress?.(`commit: one atomic POST /_aliases with ${actions.length} action(s)`);
        try {
          await ctx.rest.request('POST', '/_aliases', { body: { actions } });
        } catch (error) {
          // On a cluster the answer can be lost after the flip was applied (the node that took the request
          // died): read the aliases back before calling it refused, or the compensation would drop the
          // index the alias now points to.
          if (await flipVisible(ctx.rest, actions).catch(() => false)) {
            progress?.('commit: the answer to POST /_aliases was lost, but the aliases show the flip took effect');
            return finishCommit();
          }
          const located = operations.find(({ operation }) => operation.op === 'update_aliases')!;
          flipFailure = statementFailure(
            located,
            `the alias flip was refused, no alias moved: ${describeError(error)}`,
          );
          throw error;
        }
      }
      return finishCommit();
    },
    abort: async () => undefined,
    describe: describeError,
  }).catch(async (error: unknown) => {
    await compensate(journal, progress);
    throw error;
  });
  if (decision.status === 'committed')
    return { status: 'committed', atPre: false, post, metrics: metricsRecord(metrics), data, statements: statements() };
  if (flipFailure) return abort('failed', flipFailure, post);
  return abort(decision.status === 'failed' ? 'failed' : 'aborted', decision.failure, post);
}

/** Whether every action of an alias flip is what the cluster now shows (the flip took effect). */
async function flipVisible(rest: SearchRest, actions: readonly AliasAction[]): Promise<boolean> {
  const aliases = [...new Set(actions.map((action) => (action.add ?? action.remove)!.alias))];
  const answer =
    (await rest.request<Record<string, { aliases?: Record<string, unknown> }> | undefined>(
      'GET',
      `/_alias/${aliases.map(encodeURIComponent).join(',')}`,
      { ignore: [404] },
    )) ?? {};
  const holds = (index: string, alias: string) => answer[index]?.aliases?.[alias] !== undefined;
  return actions.every((action) =>
    action.add ? holds(action.add.index, action.add.alias) : !holds(action.remove!.index, action.remove!.alias),
  );
}

/** Drops the run tag from a committed index's _meta (other _meta keys stay). */
async function untag(rest: SearchRest, index: string): Promise<void> {
  const answer = await rest.request<Record<string, { mappings?: { _meta?: Record<string, unknown> } }> | undefined>(
    'GET',
    `/${encodeURIComponent(index)}/_mapping`,
    { ignore: [404] },
  );
  const meta = answer?.[index]?.mappings?._meta;
  if (!meta || !(RUN_TAG in meta)) return;
  const { [RUN_TAG]: _tag, ...rest_ } = meta;
  await rest.request('PUT', `/${encodeURIComponent(index)}/_mapping`, { body: { _meta: rest_ } });
}

async function inPlaceApply(
  ctx: ApplyContext,
  request: ApplyRequest,
  operations: LocatedOperation[],
  before: Baseline,
  actions: AliasAction[],
  metrics: Metrics,
  options: SearchBaselineOptions,
): Promise<ApplyResult> {
  const hooks: RunHooks = {
    runId: request.ledger.run_id,
    shadow: false,
    ...(request.signal ? { signal: request.signal } : {}),
  };
  let through = -1;
  const created: LocatedOperation[] = [];
  for (const located of operations) {
    through = located.position;
    // No alias moves to an index this run created before it is allocated as declared.
    const unhealthy =
      located.operation.op === 'update_aliases'
        ? await waitForHealth(ctx.rest, created.splice(0), request.progress)
        : undefined;
    const failure = unhealthy?.message ?? (await run(ctx, located, metrics, hooks, request.progress));
    if (located.operation.op === 'create_index' && !failure) created.push(located);
    if (failure)
      return {
        status: 'failed',
        atPre: false,
        metrics: metricsRecord(metrics),
        statements: statementsOf(operations, { failed: located.position, through }, false),
        failure: statementFailure(unhealthy?.located ?? located, failure),
      };
  }
  const real = await captureWith(ctx.rest, ctx.server, options);
  const post = await assembleBaseline(
    {
      server: ctx.server,
      objects: real.objects,
      docs: real.measures?.docs ?? {},
      ...(real.protected?.content ? { content: real.protected.content } : {}),
    },
    {
      ...options,
      invariants: [...(options.invariants ?? []), ...planInvariants(before, real, actions, request.declaration)],
    },
  );
  const statements = statementsOf(operations, { through }, false);
  const data = await observedWrites(ctx, request);
  const decision = await commitPoint({
    request,
    post,
    metrics: metricsRecord(metrics),
    data,
    commit: () => ctx.ledger.record(request.ledger),
    abort: async () => undefined,
    describe: describeError,
  });
  if (decision.status === 'committed')
    return { status: 'committed', atPre: false, post, metrics: metricsRecord(metrics), data, statements };
  return {
    status: 'applied',
    atPre: false,
    post,
    metrics: metricsRecord(metrics),
    data,
    statements,
    ...(decision.failure ? { failure: decision.failure } : {}),
  };
}

/** Runs the rollback plan in order after checking it (schema, scope, no deletion of an aliased index). */
export async function runRollbackPlan(
  ctx: ApplyContext,
  scripts: ScriptFile[],
  declaration: MigrationDeclaration,
  progress?: Progress,
): Promise<RollbackResult> {
  const checked = await preflightSearch(
    scripts,
    declaration,
    {},
    ctx.lookupAliases,
    { transactional: false },
    ctx.resolveIndices,
  );
  const failed = checked.checks.filter((check) => check.status === 'fail');
  if (failed.length > 0) {
    return {
      ok: false,
      failure: {
        code: 'ROLLBACK_FAILED',
        message: `the rollback plan does not pass its checks: ${failed.map((check) => check.message).join('; ')}`,
      },
    };
  }
  const metrics: Metrics = { operations_applied: 0, docs_reindexed: 0, alias_actions: 0 };
  let through = -1;
  for (const located of checked.operations) {
    through = located.position;
    const failure = await run(ctx, located, metrics, { runId: 'rollback', shadow: false }, progress);
    if (failure)
      return {
        ok: false,
        statements: statementsOf(checked.operations, { failed: located.position, through }, false),
        failure: { ...statementFailure(located, failure), code: 'ROLLBACK_FAILED' },
      };
  }
  return { ok: true, statements: statementsOf(checked.operations, { through }, false) };
}
