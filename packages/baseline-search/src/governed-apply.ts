// The governed apply of a search plan. Transactional (default): every non-alias operation runs
// first, against new (shadow) indices and templates/pipelines whose previous definitions were read;
// POST is the real state with the planned alias moves projected in memory; only when decide()
// says yes does the single atomic POST /_aliases run (the commit point). A refusal or a failure
// drops the shadows and restores templates/pipelines, so no alias ever moved and the store is at PRE.
// Non-transactional: the plan runs in order, and a refusal leaves it applied for the rollback plan.
import type { ApplyRequest, ApplyResult, Baseline, Issue, RollbackResult, ScriptFile, MigrationDeclaration, Progress } from '@kfm/migration-contracts';
import { projectAliasActions } from './alias-projection.js';
import { assembleBaseline, captureWith, type SearchBaselineOptions } from './capture.js';
import { describeError, type SearchRest } from './es-client.js';
import { executeOperation, prepareUndo, type Undo } from './execute.js';
import type { SearchLedger } from './ledger.js';
import { readPlan, whereOf, type AliasAction, type LocatedOperation } from './operations.js';
import { planInvariants } from './plan-invariants.js';
import { preflightSearch, type AliasLookup } from './preflight.js';
import type { Sleep } from './reindex.js';

export interface ApplyContext {
  rest: SearchRest;
  version: string;
  indexPattern?: string;
  ledger: SearchLedger;
  sleep: Sleep;
  lookupAliases: AliasLookup;
}

type Metrics = { operations_applied: number; docs_reindexed: number; alias_actions: number };

function statementFailure(located: LocatedOperation, message: string): Issue {
  return { code: 'STATEMENT_FAILED', file: located.file, pointer: located.pointer, ...(located.line ? { line: located.line } : {}), message: `${whereOf(located)}: ${message}` };
}

/** Runs one operation; a fault of the cluster becomes a failure message, never a thrown error. */
async function run(ctx: ApplyContext, located: LocatedOperation, metrics: Metrics, progress?: Progress): Promise<string | undefined> {
  progress?.(`${whereOf(located)}`);
  try {
    const outcome = await executeOperation(ctx.rest, located.operation, progress, ctx.sleep);
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
  return { alias_actions: metrics.alias_actions, docs_reindexed: metrics.docs_reindexed, operations_applied: metrics.operations_applied };
}

export async function governedApply(ctx: ApplyContext, request: ApplyRequest): Promise<ApplyResult> {
  const plan = readPlan(request.scripts);
  const metrics: Metrics = { operations_applied: 0, docs_reindexed: 0, alias_actions: 0 };
  if (!plan.ok) {
    const first = plan.issues[0]!;
    return { status: 'failed', atPre: true, metrics: metricsRecord(metrics), failure: { ...first, code: 'PREFLIGHT_PARSE' } };
  }
  const options: SearchBaselineOptions = { ...request.baseline, ...(ctx.indexPattern ? { indexPattern: ctx.indexPattern } : {}) };
  const before = await captureWith(ctx.rest, ctx.version, options);
  const actions: AliasAction[] = plan.operations.flatMap(({ operation }) => (operation.op === 'update_aliases' ? operation.body.actions : []));
  metrics.alias_actions = actions.length;
  return request.transactional ? shadowApply(ctx, request, plan.operations, before, actions, metrics, options) : inPlaceApply(ctx, request, plan.operations, before, actions, metrics, options);
}

async function shadowApply(ctx: ApplyContext, request: ApplyRequest, operations: LocatedOperation[], before: Baseline, actions: AliasAction[], metrics: Metrics, options: SearchBaselineOptions): Promise<ApplyResult> {
  const { progress } = request;
  const journal: Undo[] = [];
  const abort = async (status: 'aborted' | 'failed', failure?: Issue, post?: Baseline): Promise<ApplyResult> => {
    const failedUndos = await compensate(journal, progress);
    const rollbackFailure: Issue | undefined = failedUndos.length ? { code: 'ROLLBACK_FAILED', message: `could not drop the shadow: ${failedUndos.join('; ')}` } : undefined;
    return { status, atPre: failedUndos.length === 0, metrics: metricsRecord(metrics), ...(post ? { post } : {}), ...((failure ?? rollbackFailure) ? { failure: (failure ?? rollbackFailure)! } : {}) };
  };

  for (const located of operations) {
    if (located.operation.op === 'update_aliases') continue;
    let undo: Undo | undefined;
    try {
      undo = await prepareUndo(ctx.rest, located.operation);
    } catch (error) {
      return abort('failed', statementFailure(located, `could not read the previous definition: ${describeError(error)}`));
    }
    const failure = await run(ctx, located, metrics, progress);
    // A failed create_index created nothing; a failed reindex leaves a partly filled shadow behind.
    if (undo && (!failure || located.operation.op !== 'create_index')) journal.push(undo);
    if (failure) return abort('failed', statementFailure(located, failure));
  }

  let post: Baseline;
  try {
    const real = await captureWith(ctx.rest, ctx.version, options);
    const objects = await projectAliasActions(real.objects, actions);
    const invariants = planInvariants(before, { ...real, objects }, actions, request.declaration);
    post = await assembleBaseline({ version: ctx.version, objects, docs: real.measures?.docs ?? {} }, { ...options, invariants: [...(options.invariants ?? []), ...invariants] });
  } catch (error) {
    await compensate(journal, progress);
    throw error;
  }

  let commit: boolean;
  try {
    commit = await request.decide(post, metricsRecord(metrics));
  } catch (error) {
    await compensate(journal, progress);
    throw error;
  }
  if (!commit) return abort('aborted', undefined, post);

  if (actions.length > 0) {
    progress?.(`commit: one atomic POST /_aliases with ${actions.length} action(s)`);
    try {
      await ctx.rest.request('POST', '/_aliases', { body: { actions } });
    } catch (error) {
      const located = operations.find(({ operation }) => operation.op === 'update_aliases')!;
      return abort('failed', statementFailure(located, `the alias flip was refused, no alias moved: ${describeError(error)}`), post);
    }
    metrics.operations_applied += operations.filter(({ operation }) => operation.op === 'update_aliases').length;
  }
  // Elasticsearch has no transaction spanning the flip and the ledger: the flip is the commit, the ledger follows it.
  await ctx.ledger.record(request.ledger);
  return { status: 'committed', atPre: false, post, metrics: metricsRecord(metrics) };
}

async function inPlaceApply(ctx: ApplyContext, request: ApplyRequest, operations: LocatedOperation[], before: Baseline, actions: AliasAction[], metrics: Metrics, options: SearchBaselineOptions): Promise<ApplyResult> {
  for (const located of operations) {
    const failure = await run(ctx, located, metrics, request.progress);
    if (failure) return { status: 'failed', atPre: false, metrics: metricsRecord(metrics), failure: statementFailure(located, failure) };
  }
  const real = await captureWith(ctx.rest, ctx.version, options);
  const post = await assembleBaseline(
    { version: ctx.version, objects: real.objects, docs: real.measures?.docs ?? {} },
    { ...options, invariants: [...(options.invariants ?? []), ...planInvariants(before, real, actions, request.declaration)] },
  );
  if (!(await request.decide(post, metricsRecord(metrics)))) return { status: 'applied', atPre: false, post, metrics: metricsRecord(metrics) };
  await ctx.ledger.record(request.ledger);
  return { status: 'committed', atPre: false, post, metrics: metricsRecord(metrics) };
}

/** Runs the rollback plan in order after checking it (schema, scope, no deletion of an aliased index). */
export async function runRollbackPlan(ctx: ApplyContext, scripts: ScriptFile[], declaration: MigrationDeclaration, progress?: Progress): Promise<RollbackResult> {
  const checked = await preflightSearch(scripts, declaration, undefined, ctx.lookupAliases, { transactional: false });
  const failed = checked.checks.filter((check) => check.status === 'fail');
  if (failed.length > 0) {
    return { ok: false, failure: { code: 'ROLLBACK_FAILED', message: `the rollback plan does not pass its checks: ${failed.map((check) => check.message).join('; ')}` } };
  }
  const metrics: Metrics = { operations_applied: 0, docs_reindexed: 0, alias_actions: 0 };
  for (const located of checked.operations) {
    const failure = await run(ctx, located, metrics, progress);
    if (failure) return { ok: false, failure: { ...statementFailure(located, failure), code: 'ROLLBACK_FAILED' } };
  }
  return { ok: true };
}
