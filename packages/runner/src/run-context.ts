// What every command shares: its options, and the result value the CLI prints (with --json, the very
// object returned here). The library never reads process.env or the clock on its own: both come in here.
import type { KeyObject } from 'node:crypto';
import { KfmError, type Check, type ExitCode, type Issue, type RunReceipt } from '@kfm/migration-contracts';
import type { EnvironmentName } from './registry-gates.js';
import type { Reporter } from './progress.js';

export type { EnvironmentName };

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
  /** How long to wait for a held store lock (default 0: fail fast). */
  lockWaitMs?: number;
  /** The lease's time-to-live for stores whose locks are leases (default 30 s). */
  lockTtlMs?: number;
  /** Rollback only: proceed although the touched objects drifted from the apply's POST (needs --approval). */
  acceptDrift?: boolean;
  /** Capture full baselines, not only what the declaration scopes. */
  full?: boolean;
  /** Apply only: continue a non-transactional run the ledger marks `started` from its resume point (`--resume`). */
  resume?: boolean;
}

export const DEFAULT_LOCK_TTL_MS = 30_000;

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

export function emptyResult(command: RunResult['command']): RunResult {
  return {
    command,
    status: 'failed',
    exit_code: 2,
    checks: [],
    issues: [],
    fingerprints: {},
    touched: {},
    metrics: {},
    artifacts: [],
    timings: {},
  };
}

/** Maps a thrown fault to an issue: KfmErrors keep their code; anything else is an infrastructure fault (exit 3), its URLs redacted. */
export function faultIssue(error: unknown): Issue {
  if (error instanceof KfmError) return error.issue;
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'STORE_UNREACHABLE', message: message.replace(/[a-z][a-z0-9+.-]*:\/\/\S*/gi, '<redacted url>') };
}
