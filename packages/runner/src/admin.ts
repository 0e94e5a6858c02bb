// Administrative runs that act on a store, not on a migration: `policy push` writes the protected-domain
// policy into the store's own ledger (governed: an environment and an approval reference, under the
// store's lease, chained like every run), `policy show` reads it, and `unlock` is the audited way out of a
// stuck lease (an expired one always; a live one only with --force). Each writes a receipt under
// <migrations>/registry/receipts/runs/.
import path from 'node:path';
import {
  ExitCode,
  exitCodeFor,
  loadArtifact,
  type Check,
  type Issue,
  type LeaseHolder,
  type Policy,
  type StoreAdapter,
  type StorePolicy,
  type UnlockOutcome,
} from '@kfm/migration-contracts';
import { cidOfJson, digestInput } from '@kfm/receipts';
import { loadAdapter, registeredTypes } from './adapters.js';
import { resolveConnection } from './connection.js';
import { runIdentity, writeRun, type Operation, type RunEvidence } from './evidence.js';
import { POLICY_FILE } from './policy.js';
import { DEFAULT_LOCK_TTL_MS, faultIssue, type RunOptions } from './run-context.js';

export interface AdminResult {
  command: 'policy push' | 'policy show' | 'unlock';
  store: string;
  status: 'passed' | 'failed';
  exit_code: ExitCode;
  issues: Issue[];
  checks: Check[];
  run_id?: string;
  receipt?: string;
  policy?: StorePolicy;
  holder?: LeaseHolder;
  unlock?: UnlockOutcome;
}

export interface AdminOptions extends Omit<RunOptions, 'bundle'> {
  /** The directory holding migrations/ (its registry receives the audit receipt). */
  root: string;
}

async function storeAdapter(
  type: string,
): Promise<{ ok: true; adapter: StoreAdapter } | { ok: false; issues: Issue[] }> {
  const adapter = await loadAdapter(type);
  return adapter
    ? { ok: true, adapter }
    : {
        ok: false,
        issues: [
          {
            code: 'ARGUMENT_INVALID',
            message: `unknown store type ${type}`,
            expected: `one of ${registeredTypes().join(', ')}`,
            found: type,
          },
        ],
      };
}

function failed(command: AdminResult['command'], store: string, issues: Issue[], checks: Check[] = []): AdminResult {
  return { command, store, status: 'failed', exit_code: exitCodeFor(issues) || ExitCode.CheckFailed, issues, checks };
}

/** Writes an administrative receipt into the registry's receipts folder. */
async function auditReceipt(
  options: AdminOptions,
  operation: Operation,
  store: string,
  evidence: Omit<RunEvidence, 'operation' | 'store'>,
): Promise<{ ok: true; runId: string; receiptDigest: string; file: string } | { ok: false; issues: Issue[] }> {
  const dir = path.resolve(options.root, 'migrations', 'registry');
  const written = await writeRun(
    undefined,
    { ...options, bundle: dir },
    { ...evidence, operation, store },
    { dir, latest: false },
  );
  if (!written.ok) return written;
  return {
    ok: true,
    runId: written.run.runId,
    receiptDigest: written.run.receiptDigest,
    file: path.relative(
      options.root,
      path.join(dir, written.run.paths.find((p) => p.endsWith('run_receipt.json')) ?? ''),
    ),
  };
}

/** `kfm-migrate policy push <store>`: writes the repository's (or a given) policy into the store, governed. */
export async function pushPolicy(type: string, options: AdminOptions & { file?: string }): Promise<AdminResult> {
  const found = await storeAdapter(type);
  if (!found.ok) return failed('policy push', type, found.issues);
  if (!options.approval)
    return failed('policy push', type, [
      { code: 'ARGUMENT_INVALID', message: 'policy push needs --approval REF naming who approved this policy' },
    ]);
  const file = path.resolve(options.file ?? path.join(options.root, 'migrations', POLICY_FILE));
  const loaded = await loadArtifact<Policy>(file, 'policy.v1');
  if (!loaded.ok) return failed('policy push', type, loaded.issues);
  const connection = resolveConnection(found.adapter, undefined, options.env);
  if (!connection.ok) return failed('policy push', type, connection.issues);
  const startedAt = options.now().toISOString();
  const digest = await cidOfJson(loaded.value);
  const inputs = [
    { path: path.relative(options.root, file).split(path.sep).join('/'), digest: await digestInput(file) },
  ];
  const evidence: RunEvidence = {
    operation: 'policy_push',
    store: type,
    startedAt,
    finishedAt: startedAt,
    checks: [],
    outcome: { status: 'failed', exit_code: 1 },
    details: { subject: `${type} policy`, policies: { repository: digest } },
    inputs,
  };
  const runId = runIdentity(undefined, { ...options, bundle: file }, evidence);
  const issues: Issue[] = [];
  let session;
  try {
    session = await found.adapter.connect(connection.values, { applicationName: 'kfm-migrate policy push' });
  } catch (error) {
    return failed('policy push', type, [faultIssue(error)]);
  }
  let locked = false;
  try {
    const lock = await session.lock({
      owner: 'kfm-migrate policy push',
      run_id: runId,
      ttlMs: options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS,
      waitMs: options.lockWaitMs ?? 0,
    });
    if (!lock.acquired) {
      evidence.checks.push({
        name: 'store_lock',
        rule: 'policy',
        status: 'fail',
        code: 'LOCK_HELD',
        message: `another run holds the store lock: ${lock.holder.description}`,
      });
    } else {
      locked = true;
      const previous = await session.readPolicy();
      const head = await session.ledgerState('admin:policy_push');
      evidence.previousReceipt = head.last_receipt_digest ?? null;
      await session.writePolicy({ policy: loaded.value, digest, run_id: runId });
      evidence.details.policies = {
        repository: digest,
        ...(previous ? { store: previous.digest } : {}),
        effective: digest,
      };
      evidence.checks.push({
        name: 'policy_push',
        rule: 'policy',
        status: 'pass',
        declared: digest,
        observed: previous?.digest ?? null,
        message: `the store now holds policy ${digest}${previous ? ` (was ${previous.digest})` : ''}, approved by ${options.approval}`,
      });
    }
    const failedCheck = evidence.checks.find((check) => check.status === 'fail');
    evidence.finishedAt = options.now().toISOString();
    evidence.outcome = {
      status: failedCheck ? 'aborted' : 'committed',
      exit_code: failedCheck ? 1 : 0,
      ...(failedCheck?.code ? { code: failedCheck.code } : {}),
    };
    const receipt = await auditReceipt(options, 'policy_push', type, evidence);
    if (!receipt.ok) issues.push(...receipt.issues);
    else if (locked && evidence.previousReceipt !== undefined)
      await session.recordReceipt({
        migration_id: 'admin:policy_push',
        run_id: receipt.runId,
        bundle_digest: digest,
        receipt_digest: receipt.receiptDigest,
      });
    const exit = issues.length ? exitCodeFor(issues) : failedCheck ? ExitCode.CheckFailed : ExitCode.Passed;
    return {
      command: 'policy push',
      store: type,
      status: exit === 0 ? 'passed' : 'failed',
      exit_code: exit,
      issues,
      checks: evidence.checks,
      ...(receipt.ok ? { run_id: receipt.runId, receipt: receipt.file } : {}),
    };
  } catch (error) {
    return failed('policy push', type, [faultIssue(error)], evidence.checks);
  } finally {
    if (locked) await session.unlock().catch(() => undefined);
    await session.close().catch(() => undefined);
  }
}

/** `kfm-migrate policy show <store>`: the policy the store holds (read-only). */
export async function showPolicy(
  type: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<AdminResult> {
  const found = await storeAdapter(type);
  if (!found.ok) return failed('policy show', type, found.issues);
  const connection = resolveConnection(found.adapter, undefined, env);
  if (!connection.ok) return failed('policy show', type, connection.issues);
  try {
    const session = await found.adapter.connect(connection.values, { applicationName: 'kfm-migrate policy show' });
    try {
      const policy = await session.readPolicy();
      return {
        command: 'policy show',
        store: type,
        status: 'passed',
        exit_code: ExitCode.Passed,
        issues: [],
        checks: [],
        ...(policy ? { policy } : {}),
      };
    } finally {
      await session.close().catch(() => undefined);
    }
  } catch (error) {
    return failed('policy show', type, [faultIssue(error)]);
  }
}

/** `kfm-migrate unlock <store> --reason TEXT [--force]`: shows the holder; removes an expired lease, a live one only with force. */
export async function unlockStore(
  type: string,
  options: AdminOptions & { reason: string; force: boolean },
): Promise<AdminResult> {
  const found = await storeAdapter(type);
  if (!found.ok) return failed('unlock', type, found.issues);
  if (!options.reason.trim())
    return failed('unlock', type, [
      {
        code: 'ARGUMENT_INVALID',
        message: 'unlock needs --reason TEXT: why the lock is removed (it goes into the audit receipt)',
      },
    ]);
  const connection = resolveConnection(found.adapter, undefined, options.env);
  if (!connection.ok) return failed('unlock', type, connection.issues);
  const startedAt = options.now().toISOString();
  let outcome: UnlockOutcome;
  try {
    const session = await found.adapter.connect(connection.values, { applicationName: 'kfm-migrate unlock' });
    try {
      outcome = await session.breakLock({ force: options.force, reason: options.reason });
    } finally {
      await session.close().catch(() => undefined);
    }
  } catch (error) {
    return failed('unlock', type, [faultIssue(error)]);
  }
  const refused = !outcome.removed && outcome.holder !== undefined;
  const check: Check = {
    name: 'unlock',
    rule: 'policy',
    status: refused ? 'fail' : 'pass',
    ...(refused ? { code: 'LOCK_HELD' } : {}),
    observed: { holder: outcome.holder ?? null, cleaned: outcome.cleaned, force: options.force },
    message: `${outcome.message}; reason: ${options.reason}`,
  };
  const evidence: RunEvidence = {
    operation: 'unlock',
    store: type,
    startedAt,
    finishedAt: options.now().toISOString(),
    checks: [check],
    outcome: {
      status: outcome.removed ? 'committed' : 'aborted',
      exit_code: refused ? 1 : 0,
      ...(refused ? { code: 'LOCK_HELD' } : {}),
    },
    details: {
      subject: `${type} lock`,
      ...(outcome.removed && outcome.holder
        ? {
            lock: {
              takeover: {
                previous_owner: outcome.holder.owner,
                ...(outcome.holder.run_id ? { previous_run: outcome.holder.run_id } : {}),
                expired_at: outcome.holder.expires_at ?? 'never (session lock)',
                cleaned: outcome.cleaned,
              },
            },
          }
        : {}),
    },
  };
  // The audit receipt is not a link of the store's chain: unlock does not hold the lease it removes.
  const receipt = await auditReceipt(options, 'unlock', type, evidence);
  const issues = receipt.ok ? [] : receipt.issues;
  const exit = issues.length ? exitCodeFor(issues) : refused ? ExitCode.CheckFailed : ExitCode.Passed;
  return {
    command: 'unlock',
    store: type,
    status: exit === 0 ? 'passed' : 'failed',
    exit_code: exit,
    issues,
    checks: [check],
    unlock: outcome,
    ...(outcome.holder ? { holder: outcome.holder } : {}),
    ...(receipt.ok ? { run_id: receipt.runId, receipt: receipt.file } : {}),
  };
}
