// Rollback rehearsal: prove, before a migration reaches a real store, that its rollback brings the store
// back to PRE. The store adapter makes a scratch copy (PostgreSQL: CREATE DATABASE … TEMPLATE); the full
// governed apply and then the governed rollback run on the copy, from a temporary copy of the bundle so
// the real bundle's evidence and registry are not touched; the copy is dropped. The rehearsal passes only
// if the apply committed on the copy, the fingerprint after rollback equals PRE, the copy matched the
// source and the real store's fingerprint did not move. Its receipt (run_type `rehearsal`, operation
// `rehearse`) goes to the real bundle's receipts/runs/<run>/ only: receipts/run_receipt.json and the
// conventional paths keep naming the latest real run, and rehearsal receipts stay out of the store's
// receipt chain (the scratch ledger they were recorded in is gone).
//
// Exit codes: 0 passed; 1 the rehearsal failed (apply refused, rollback failed or left the copy off PRE —
// the real store is untouched and the copy dropped, so nothing needs a human beyond fixing the bundle);
// 2 invalid input or a store type without rehearsal support; 3 a store unreachable or the source busy
// (TEMPLATE needs no other session on it) or the copy not dropped; 4 only if the REAL store's
// fingerprint changed while the rehearsal ran.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  ExitCode,
  exitCodeFor,
  exitCodeOf,
  type Baseline,
  type Check,
  type Issue,
  type ScratchStore,
} from '@kfm/migration-contracts';
import { loadDeclaration } from '@kfm/migration-contracts';
import { loadAdapter } from './adapters.js';
import { applyRun } from './apply.js';
import { prepareBundle, type PreparedBundle } from './bundle.js';
import { connectionVariables, resolveConnection } from './connection.js';
import { writeRun, type RunEvidence } from './evidence.js';
import { loadRegistry } from './migrations-registry.js';
import { verifyRestored } from './restore.js';
import { rollbackRun } from './rollback.js';
import { emptyResult, faultIssue, type RunOptions, type RunResult } from './run-context.js';
import type { Reporter } from './progress.js';

export interface RehearsalStage {
  run_id?: string;
  exit_code: ExitCode;
  outcome?: RunResult['outcome'];
}

export type RehearsalResult = RunResult & {
  rehearsal?: {
    scratch?: string;
    apply?: RehearsalStage;
    rollback?: RehearsalStage;
    real?: { before?: string; after?: string };
  };
};

export async function rehearseBundle(options: RunOptions): Promise<RehearsalResult> {
  const { reporter } = options;
  const result: RehearsalResult = emptyResult('rehearse');
  const prepared = await reporter.step('load bundle', () => prepareBundle(options.bundle, { requireRollback: true }));
  if (!prepared.ok)
    return { ...result, issues: prepared.issues, exit_code: exitCodeFor(prepared.issues), timings: reporter.timings() };
  const bundle = prepared.bundle;
  const { declaration } = bundle.loaded;
  const { adapter } = bundle;
  result.migration_id = declaration.migration_id;
  const rehearsalCapability = adapter.rehearsal;
  if (!rehearsalCapability) {
    const issue: Issue = {
      code: 'ARGUMENT_INVALID',
      file: bundle.loaded.file,
      pointer: '/type',
      message: `the ${declaration.type} store adapter cannot make scratch copies, so it cannot rehearse`,
      found: declaration.type,
    };
    return { ...result, issues: [issue], timings: reporter.timings() };
  }
  const startedAt = options.now().toISOString();
  const evidence: RunEvidence = {
    operation: 'rehearse',
    store: declaration.type,
    startedAt,
    finishedAt: startedAt,
    checks: [],
    outcome: { status: 'failed', exit_code: 1 },
    details: {},
  };
  const rehearsal: NonNullable<RehearsalResult['rehearsal']> = {};
  const conclude = (issues: Issue[], status: NonNullable<RunResult['outcome']>['status']) =>
    concludeRehearsal(bundle, options, evidence, result, rehearsal, issues, status);

  const connection = resolveConnection(adapter, declaration, options.env);
  if (!connection.ok) return conclude(connection.issues, 'failed');
  const capture = async (label: string): Promise<Baseline> => {
    const session = await adapter.connect(connection.values, {
      applicationName: `kfm-migrate rehearse ${declaration.migration_id}`,
    });
    try {
      return await reporter.step(label, () =>
        session.captureBaseline({ declaration, capturedAt: options.now().toISOString(), once: true }),
      );
    } finally {
      // Closed before the copy: a PostgreSQL TEMPLATE copy needs the source to have no session at all.
      await session.close().catch(() => undefined);
    }
  };

  let realBefore: Baseline;
  let scratch: ScratchStore;
  try {
    realBefore = await capture('capture the real store (before)');
    rehearsal.real = { before: realBefore.fingerprints.schema };
    scratch = await reporter.step('create scratch copy', () =>
      rehearsalCapability.createScratch(connection.values, {
        label: `${declaration.migration_id} ${startedAt}`,
        applicationName: `kfm-migrate rehearse ${declaration.migration_id}`,
        declaration,
      }),
    );
  } catch (error) {
    return conclude([faultIssue(error)], 'failed');
  }
  rehearsal.scratch = scratch.name;
  reporter.info(`scratch copy ${scratch.name}`);

  const issues: Issue[] = [];
  let applied: RunResult | undefined;
  let rolled: RunResult | undefined;
  const workspace = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-rehearsal-'));
  try {
    const copy = await copyBundle(bundle, workspace);
    const scratchEnv = { ...options.env };
    for (const [role, variable] of Object.entries(connectionVariables(adapter, declaration)))
      if (scratch.values[role] !== undefined) scratchEnv[variable] = scratch.values[role];
    const { signingKey: _unsigned, ...plain } = options;
    // The copy is a scratch store in dev: approvals of the real environment do not gate a rehearsal.
    const scratchOptions: RunOptions = {
      ...plain,
      bundle: copy,
      env: scratchEnv,
      environment: 'dev',
      reporter: prefixed(options.reporter, 'scratch: '),
    };
    const apply = await applyRun(scratchOptions);
    applied = apply.result;
    rehearsal.apply = stage(applied);
    result.touched = applied.touched;
    result.metrics = applied.metrics;
    evidence.checks.push(...applied.checks.map((check) => renamed(check, 'apply')));
    if (apply.evidence)
      Object.assign(evidence, pick(apply.evidence, ['pre', 'post', 'summary', 'touchedCsv', 'temporal']));
    if (applied.outcome?.status === 'committed') {
      const rollback = await rollbackRun(scratchOptions);
      rolled = rollback.result;
      rehearsal.rollback = stage(rolled);
      evidence.checks.push(...rolled.checks.map((check) => renamed(check, 'rollback')));
      if (rollback.evidence?.afterRollback) evidence.afterRollback = rollback.evidence.afterRollback;
    }
  } catch (error) {
    issues.push(faultIssue(error));
  } finally {
    await fs.rm(workspace, { recursive: true, force: true }).catch(() => undefined);
    try {
      await reporter.step('drop scratch copy', () => scratch.dispose());
    } catch (error) {
      const fault = faultIssue(error);
      issues.push({ ...fault, message: `the scratch copy ${scratch.name} could not be dropped: ${fault.message}` });
    }
  }

  // Stage issues that are governed failures on the copy become failing checks (exit 1); input and
  // infrastructure issues keep their code.
  for (const issue of [...(applied?.issues ?? []), ...(rolled?.issues ?? [])]) {
    if (exitCodeOf(issue.code) === ExitCode.InvalidInput || exitCodeOf(issue.code) === ExitCode.Unreachable)
      issues.push(issue);
  }
  evidence.checks.push(...rehearsalChecks(realBefore, evidence, applied, rolled, scratch.partial === true));

  try {
    const realAfter = await capture('capture the real store (after)');
    rehearsal.real.after = realAfter.fingerprints.schema;
    const untouched = verifyRestored(realBefore, realAfter);
    evidence.checks.push({
      ...untouched,
      name: 'real_store_untouched',
      message:
        untouched.status === 'pass'
          ? 'the real store fingerprint did not change'
          : 'the real store fingerprint changed while the rehearsal ran',
    });
    if (untouched.status === 'fail')
      issues.push({
        code: 'ROLLBACK_UNVERIFIED',
        message:
          'the real store fingerprint changed while the rehearsal ran: look at it (another writer, or the rehearsal reached it)',
        expected: realBefore.fingerprints.schema,
        found: realAfter.fingerprints.schema,
      });
  } catch (error) {
    issues.push(faultIssue(error));
  }

  const failed = evidence.checks.some((check) => check.status === 'fail') || issues.length > 0;
  const status = !failed
    ? 'rolled_back'
    : applied?.outcome?.status !== 'committed'
      ? applied?.outcome?.status === 'aborted'
        ? 'aborted'
        : 'failed'
      : 'rollback_failed';
  return conclude(issues, status);
}

/** The rehearsal's receipt goes to the real bundle's run directory only; it is no link of a store's chain. */
async function concludeRehearsal(
  bundle: PreparedBundle,
  options: RunOptions,
  evidence: RunEvidence,
  result: RehearsalResult,
  rehearsal: NonNullable<RehearsalResult['rehearsal']>,
  issues: Issue[],
  status: NonNullable<RunResult['outcome']>['status'],
): Promise<RehearsalResult> {
  const failedCheck = evidence.checks.find((check) => check.status === 'fail');
  const exit = issues.length ? exitCodeFor(issues) : failedCheck ? ExitCode.CheckFailed : ExitCode.Passed;
  const first = issues[0] ?? failedCheck;
  evidence.finishedAt = options.now().toISOString();
  evidence.outcome = {
    status,
    exit_code: exit,
    ...(first?.code ? { code: first.code } : {}),
    ...(first?.message ? { message: first.message } : {}),
  };
  const written = await options.reporter.step('write rehearsal receipt', () =>
    writeRun(bundle, options, evidence, { dir: bundle.loaded.bundleDir, latest: false }),
  );
  const all = written.ok ? issues : [...issues, ...written.issues];
  const finalExit = written.ok ? exit : (Math.max(exitCodeFor(all), ExitCode.CheckFailed) as ExitCode);
  return {
    ...result,
    rehearsal,
    status: finalExit === ExitCode.Passed ? 'passed' : 'failed',
    exit_code: finalExit,
    outcome: evidence.outcome,
    checks: evidence.checks,
    issues: all,
    ...(written.ok ? { run_id: written.run.runId, artifacts: written.run.paths } : {}),
    fingerprints: {
      ...(evidence.pre ? { pre: evidence.pre.fingerprints.schema } : {}),
      ...(evidence.post ? { post: evidence.post.fingerprints.schema } : {}),
      ...(evidence.afterRollback ? { after_rollback: evidence.afterRollback.fingerprints.schema } : {}),
    },
    timings: options.reporter.timings(),
  };
}

function pick<T extends object, K extends keyof T>(value: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (value[key] !== undefined) out[key] = value[key];
  return out;
}

/** The rehearsal's own checks: the apply committed on the copy, the copy matched the source, rollback restored PRE. */
function rehearsalChecks(
  realBefore: Baseline,
  evidence: RunEvidence,
  applied: RunResult | undefined,
  rolled: RunResult | undefined,
  partial: boolean,
): Check[] {
  const checks: Check[] = [];
  const committed = applied?.outcome?.status === 'committed';
  checks.push({
    name: 'rehearsal_apply_committed',
    rule: 'rollback',
    status: committed ? 'pass' : 'fail',
    ...(committed ? {} : { code: applied?.outcome?.code ?? 'STATEMENT_FAILED' }),
    message: committed
      ? 'the governed apply committed on the scratch copy'
      : `the governed apply did not commit on the scratch copy (${applied?.outcome?.status ?? 'not run'}${applied?.outcome?.message ? `: ${applied.outcome.message}` : ''})`,
  });
  if (evidence.pre && partial) {
    // A partial copy (what the declaration reaches) matches when each of its objects is the source's.
    const source = new Map(realBefore.objects.map((object) => [`${object.kind}:${object.name}`, object.digest]));
    const differing = evidence.pre.objects
      .filter((object) => source.get(`${object.kind}:${object.name}`) !== object.digest)
      .map((object) => `${object.kind}:${object.name}`);
    const same = differing.length === 0 && evidence.pre.objects.length > 0;
    checks.push({
      name: 'scratch_copy_matches_source',
      rule: 'rollback',
      status: same ? 'pass' : 'fail',
      ...(same ? {} : { code: 'ROLLBACK_UNVERIFIED' }),
      declared: `${evidence.pre.objects.length} objects as in the real store`,
      observed: same
        ? `${evidence.pre.objects.length} objects as in the real store`
        : differing.join(', ') || 'no objects',
      message: same
        ? `the scratch copy's ${evidence.pre.objects.length} objects have the real store's digests`
        : `the scratch copy differs from the real store: ${differing.join(', ') || 'it holds nothing'}`,
    });
  } else if (evidence.pre) {
    const same = evidence.pre.fingerprints.schema === realBefore.fingerprints.schema;
    checks.push({
      name: 'scratch_copy_matches_source',
      rule: 'rollback',
      status: same ? 'pass' : 'fail',
      ...(same ? {} : { code: 'ROLLBACK_UNVERIFIED' }),
      declared: realBefore.fingerprints.schema,
      observed: evidence.pre.fingerprints.schema,
      message: same
        ? 'the scratch copy has the real store fingerprint'
        : 'the scratch copy differs from the real store',
    });
  }
  if (committed) {
    const restored =
      rolled?.exit_code === ExitCode.Passed && evidence.pre && evidence.afterRollback
        ? verifyRestored(evidence.pre, evidence.afterRollback)
        : undefined;
    checks.push(
      restored
        ? { ...restored, name: 'rehearsal_rollback_restored_pre' }
        : {
            name: 'rehearsal_rollback_restored_pre',
            rule: 'rollback',
            status: 'fail',
            code: rolled?.outcome?.code ?? 'ROLLBACK_FAILED',
            message: `the rollback did not bring the scratch copy back to PRE (${rolled?.outcome?.status ?? 'not run'}${rolled?.outcome?.message ? `: ${rolled.outcome.message}` : ''})`,
          },
    );
  }
  return checks;
}

/** Copies the declaration and scripts (not the evidence) and the registry + policy into `workspace`. */
async function copyBundle(bundle: PreparedBundle, workspace: string): Promise<string> {
  const { bundleDir } = bundle.loaded;
  const relative = bundle.registryPath ?? path.basename(bundleDir);
  const root = path.join(workspace, 'migrations');
  const target = path.join(root, relative);
  const evidence = new Set(['receipts', 'baselines', 'diffs', 'plan.json'].map((name) => path.join(bundleDir, name)));
  await fs.cp(bundleDir, target, { recursive: true, filter: (source) => !evidence.has(source) });
  // The policy decides the protected domains: the scratch run must see the same one.
  if (bundle.migrationsRoot)
    await fs.cp(path.join(bundle.migrationsRoot, 'registry'), path.join(root, 'registry'), { recursive: true });
  return target;
}

function stage(run: RunResult): RehearsalStage {
  return {
    ...(run.run_id ? { run_id: run.run_id } : {}),
    exit_code: run.exit_code,
    ...(run.outcome ? { outcome: run.outcome } : {}),
  };
}

function renamed(check: Check, stageName: string): Check {
  return { ...check, name: `${stageName}/${check.name}` };
}

function prefixed(reporter: Reporter, prefix: string): Reporter {
  return {
    step: (name, work) => reporter.step(`${prefix}${name}`, work),
    info: (message) => reporter.info(`${prefix}${message}`),
    timings: () => reporter.timings(),
  };
}

export interface CiRehearsal {
  migration_id: string;
  path: string;
  status: 'passed' | 'failed' | 'skipped';
  exit_code: ExitCode;
  run_id?: string;
  /** Why it was skipped, or the first failure. */
  note?: string;
  issues: Issue[];
  checks: Check[];
}

/**
 * `ci --rehearse`: rehearses every registered bundle still `draft` or `approved`, against the stores
 * whose connection variables are set; the others are skipped with a note naming the variable.
 */
export async function rehearseRegistered(
  migrationsRoot: string,
  optionsFor: (bundle: string) => RunOptions,
): Promise<CiRehearsal[]> {
  const registry = await loadRegistry(migrationsRoot);
  if (!registry.ok) return [];
  const out: CiRehearsal[] = [];
  for (const entry of registry.registry.migrations) {
    if (entry.status !== 'draft' && entry.status !== 'approved') continue;
    const bundle = path.join(migrationsRoot, entry.path);
    const options = optionsFor(bundle);
    const base = { migration_id: entry.migration_id, path: entry.path, issues: [], checks: [] };
    const adapter = await loadAdapter(entry.type);
    const loaded = await loadDeclaration(bundle);
    if (!adapter?.rehearsal || !loaded.ok) {
      out.push({
        ...base,
        status: 'skipped',
        exit_code: ExitCode.Passed,
        note: !loaded.ok
          ? 'declaration invalid (reported by the schema gate)'
          : `store type ${entry.type} cannot rehearse`,
      });
      continue;
    }
    const connection = resolveConnection(adapter, loaded.declaration, options.env);
    if (!connection.ok) {
      out.push({
        ...base,
        status: 'skipped',
        exit_code: ExitCode.Passed,
        note: connection.issues.map((issue) => issue.message).join('; '),
      });
      continue;
    }
    const run = await rehearseBundle(options);
    const firstFailure = run.issues[0]?.message ?? run.checks.find((check) => check.status === 'fail')?.message;
    out.push({
      ...base,
      status: run.status,
      exit_code: run.exit_code,
      ...(run.run_id ? { run_id: run.run_id } : {}),
      ...(firstFailure && run.status === 'failed' ? { note: firstFailure } : {}),
      issues: run.issues,
      checks: run.checks.filter((check) => check.status === 'fail'),
    });
  }
  return out;
}
