// What every lifecycle command shares: options, the run's identity, connection resolution and
// the result value the CLI prints (with --json, the very object returned here).
import type { KeyObject } from 'node:crypto';
import { KfmError, type Check, type ConnectionValues, type StoreSession, type ExitCode, type Issue, type MigrationDeclaration, type RunReceipt, type StoreAdapter } from '@kfm/migration-contracts';
import type { Reporter } from './progress.js';

export type EnvironmentName = 'dev' | 'stage' | 'prod';

export interface RunOptions {
  bundle: string;
  environment: EnvironmentName;
  approval?: string;
  actor: { principal: string; role?: string };
  /** Environment variables, passed in by the CLI: the library never reads process.env. */
  env: Readonly<Record<string, string | undefined>>;
  gitCommit?: string;
  runnerVersion: string;
  now: () => Date;
  reporter: Reporter;
  /** Ed25519 key that signs each run's in-toto statement (DSSE); never written anywhere. */
  signingKey?: KeyObject;
}

export interface RunResult {
  command: 'apply' | 'rollback' | 'plan' | 'rehearse';
  migration_id?: string;
  run_id?: string;
  status: 'passed' | 'failed';
  exit_code: ExitCode;
  outcome?: NonNullable<RunReceipt['outcome']>;
  checks: Check[];
  issues: Issue[];
  fingerprints: { pre?: string; post?: string; after_rollback?: string };
  touched: Record<string, string[]>;
  metrics: Record<string, number>;
  /** Bundle-relative paths written by this run. */
  artifacts: string[];
  timings: Record<string, number>;
}

/** The connection roles this declaration needs, mapped to the variable names that hold them. */
export function connectionVariables(adapter: StoreAdapter, declaration: MigrationDeclaration): Record<string, string> {
  const names: Record<string, string> = { ...adapter.connection };
  for (const [role, variable] of Object.entries(declaration.connection ?? {})) if (role in names && variable) names[role] = variable;
  return names;
}

/** Resolves connection values; a missing variable is an issue naming the variable, never a value. */
export function resolveConnection(adapter: StoreAdapter, declaration: MigrationDeclaration, env: RunOptions['env']): { ok: true; values: ConnectionValues } | { ok: false; issues: Issue[] } {
  const values: Record<string, string> = {};
  const issues: Issue[] = [];
  for (const [role, variable] of Object.entries(connectionVariables(adapter, declaration))) {
    const value = env[variable];
    if (value === undefined || value === '') {
      // Passwords may legitimately be empty on a trust-auth loopback server; other roles may not.
      if (role === 'password' && value === '') {
        values[role] = '';
        continue;
      }
      issues.push({ code: 'ENV_MISSING', message: `environment variable ${variable} (${role}) is not set`, expected: `${variable} set in the environment` });
    } else values[role] = value;
  }
  return issues.length ? { ok: false, issues } : { ok: true, values };
}

/** Maps a thrown fault to an issue: KfmErrors keep their code; anything else is an infrastructure fault (exit 3), its URLs redacted. */
export function faultIssue(error: unknown): Issue {
  if (error instanceof KfmError) return error.issue;
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'STORE_UNREACHABLE', message: message.replace(/[a-z][a-z0-9+.-]*:\/\/\S*/gi, '<redacted url>') };
}

export interface LockedSessionOptions {
  adapter: StoreAdapter;
  values: ConnectionValues;
  /** Names the run in the store (application_name, lock holder) so a second run can say who holds it. */
  owner: string;
  reporter: RunOptions['reporter'];
  checks: Check[];
  conclude: (issues: Issue[], status: NonNullable<RunResult['outcome']>['status']) => Promise<RunResult>;
}

/**
 * Connects, takes the store lock (failing fast when another run holds it), runs `work`, and always
 * unlocks and closes. Faults anywhere become a concluded, receipted failure (exit 3).
 */
export async function withLockedSession(o: LockedSessionOptions, work: (session: StoreSession) => Promise<RunResult>): Promise<RunResult> {
  let session: StoreSession;
  try {
    session = await o.reporter.step(`connect ${o.adapter.type}`, () => o.adapter.connect(o.values, { applicationName: o.owner }));
  } catch (error) {
    return o.conclude([faultIssue(error)], 'failed');
  }
  try {
    const lock = await o.reporter.step('acquire store lock', () => session.lock(o.owner));
    if (!lock.acquired) {
      o.checks.push({ name: 'store_lock', rule: 'policy', status: 'fail', code: 'LOCK_HELD', message: `another run holds the store lock: ${lock.holder}` });
      return await o.conclude([], 'aborted');
    }
    try {
      return await work(session);
    } finally {
      await session.unlock().catch(() => undefined);
    }
  } catch (error) {
    return o.conclude([faultIssue(error)], 'failed');
  } finally {
    await session.close().catch(() => undefined);
  }
}
