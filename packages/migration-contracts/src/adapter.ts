// The StoreAdapter contract: a store is composed of small capabilities (baseline capture,
// preflight, lock, ledger, apply) that the runner orchestrates without knowing the store.
import type { Baseline, Check, MigrationDeclaration, Plan, ProtectedDomains } from './generated/types.js';
import type { Issue } from './errors.js';

/** A script of the bundle, read once by the runner: path relative to the bundle, text and digest. */
export interface ScriptFile {
  path: string;
  text: string;
  digest: string;
}

/** Connection values by role (`dsn`, `url`, `uri`, `user`, `password`). Never logged, never written. */
export type ConnectionValues = Readonly<Record<string, string>>;

export type Progress = (message: string) => void;

export interface BaselineOptions {
  /** Scope, limits and invariants shape what is counted exactly and which invariants are checked. */
  declaration?: MigrationDeclaration;
  /** The effective protected domains: repository policy plus the declaration's additions. */
  protected?: ProtectedDomains;
  /** Injected clock, so baselines stay deterministic in tests. */
  capturedAt?: string;
  progress?: Progress;
}

export type PlanStatement = Plan['statements'][number];

export interface PreflightResult {
  statements: PlanStatement[];
  /** Findings; any `fail` stops the run before the store is touched. */
  checks: Check[];
  /** Names the script is predicted to touch, per scope dimension. */
  predicted: Record<string, string[]>;
}

export type LockResult = { acquired: true } | { acquired: false; holder: string };

export interface LedgerEntry {
  migration_id: string;
  forward_digest: string;
  run_id: string;
  status: 'applied' | 'rolled_back';
  /** Digest of a receipt to record as this store's newest (the head of its receipt chain). */
  receipt_digest?: string;
}

export interface LedgerState {
  state: 'absent' | 'applied' | 'rolled_back';
  forward_digest?: string;
  run_id?: string;
  /** The digest of the newest receipt recorded in this store's ledger (any migration). */
  last_receipt_digest?: string;
}

export interface ApplyRequest {
  declaration: MigrationDeclaration;
  scripts: ScriptFile[];
  transactional: boolean;
  baseline: BaselineOptions;
  /** Written atomically with the commit where the store allows it. */
  ledger: LedgerEntry;
  /**
   * Called at the commit point with the POST baseline and run metrics (e.g. rows_affected).
   * Return true to commit; false aborts (transactional stores end exactly at PRE).
   */
  decide(post: Baseline, metrics: Record<string, number>): Promise<boolean>;
  progress?: Progress;
}

export interface ApplyResult {
  /** committed: visible and recorded; aborted: refused at the commit point; applied: visible but refused (non-transactional, needs rollback); failed: a statement failed. */
  status: 'committed' | 'aborted' | 'applied' | 'failed';
  /** True when the adapter guarantees the store is exactly at PRE (nothing of the change is left). */
  atPre: boolean;
  post?: Baseline;
  metrics: Record<string, number>;
  failure?: Issue;
}

export interface RollbackResult {
  ok: boolean;
  failure?: Issue;
}

export interface BaselineCapability {
  captureBaseline(options: BaselineOptions): Promise<Baseline>;
}
export interface PreflightCapability {
  preflight(scripts: ScriptFile[], declaration: MigrationDeclaration, protectedDomains?: ProtectedDomains): Promise<PreflightResult>;
}
export interface LockCapability {
  /** Fails fast: never waits for another run. */
  lock(owner: string): Promise<LockResult>;
  unlock(): Promise<void>;
}
export interface LedgerCapability {
  ledgerState(migrationId: string): Promise<LedgerState>;
  recordLedger(entry: LedgerEntry): Promise<void>;
}
export interface ApplyCapability {
  apply(request: ApplyRequest): Promise<ApplyResult>;
  runRollback(scripts: ScriptFile[], declaration: MigrationDeclaration, progress?: Progress): Promise<RollbackResult>;
}

/** What the runner records after writing a run's receipt: the new head of the store's receipt chain. */
export interface ReceiptRecord {
  migration_id: string;
  run_id: string;
  forward_digest: string;
  /** digestOfReceipt(receipt) of the receipt just written. */
  receipt_digest: string;
}

/**
 * Optional: append a receipt's digest to the store's ledger without changing any migration's state, so
 * the next run names it as `previous_receipt`. Runs on stores without it get receipts outside any chain.
 */
export interface ReceiptLedgerCapability {
  recordReceipt(record: ReceiptRecord): Promise<void>;
}

/** One connected session to a store: the capabilities the lifecycle needs. */
export interface StoreSession extends BaselineCapability, PreflightCapability, LockCapability, LedgerCapability, ApplyCapability, Partial<ReceiptLedgerCapability> {
  close(): Promise<void>;
}

/** A disposable copy of a store, made for a rollback rehearsal. */
export interface ScratchStore {
  /** Connection values for the copy, by the same roles as the source's. Never logged, never written. */
  values: ConnectionValues;
  /** A policy-safe name for reports (e.g. the scratch database's name), never a connection value. */
  name: string;
  /** Drops the copy; safe to call more than once. */
  dispose(): Promise<void>;
}

/**
 * Optional: make a scratch copy of a store (schema and data) to rehearse forward + rollback on.
 * An adapter-level capability, not a session's: copying may need the source to have no session
 * open at all (PostgreSQL's CREATE DATABASE … TEMPLATE does), the runner's own included.
 */
export interface RehearsalCapability {
  createScratch(values: ConnectionValues, options: { label: string; applicationName: string }): Promise<ScratchStore>;
}

/** What a store package exports: the runner finds it by the declaration's `type`. */
export interface StoreAdapter {
  readonly type: string;
  /** Default script names for scaffolding (e.g. forward.sql / rollback.sql). */
  readonly scripts: { forward: string; rollback: string };
  /** Connection roles and the environment variable each is read from by default. */
  readonly connection: Readonly<Record<string, string>>;
  /** Connects; unreachable stores throw KfmError(STORE_UNREACHABLE) with no connection value in it. */
  connect(values: ConnectionValues, options: { applicationName: string }): Promise<StoreSession>;
  /** Present when the store can make scratch copies for `kfm-migrate rehearse`. */
  readonly rehearsal?: RehearsalCapability;
}
