// The StoreAdapter contract: everything a store is — its vocabulary (scope dimensions, protected keys,
// limits and how they are measured, id prefix), its script language and its capabilities (baseline,
// preflight, lease, ledger, policy, apply/rollback) — is declared here by the adapter. The runner and
// the diff know no store by name: they read this contract.
//
// How the runner drives a session (apply; rollback and rehearse follow the same skeleton):
//   connect → lock({owner, run_id, ttlMs, waitMs}) → readPolicy() (unioned with the repository's and the
//   declaration's protected domains) → ledgerState(id) (applied/started/rollback_failed refuse) →
//   preflight(forward) → captureBaseline (PRE) → [non-transactional: recordLedger({status: 'started',
//   pre_fingerprint})] → apply({…, decide, signal: lock.lost}) — the adapter calls decide() at its commit
//   point and writes request.ledger atomically with the commit where it can → on a refusal of a visible
//   change: runRollback + captureBaseline (must equal PRE) → recordLedger(rolled_back | rollback_failed)
//   → write the receipt → recordReceipt(digest) (the chain's head) → unlock() → close().
// Everything an adapter writes for itself (ledger, lease, policy) lives where no migration may reach it
// and is outside every baseline.
import type {
  Baseline,
  Check,
  DataChange,
  LintFinding,
  MigrationDeclaration,
  Plan,
  Policy,
  ProtectedDomains,
} from './generated/types.js';
import type { Issue } from './errors.js';

/** A script of the bundle, read once by the runner: path relative to the bundle, text (UTF-8, BOM stripped) and digest. */
export interface ScriptFile {
  path: string;
  text: string;
  digest: string;
}

/** Connection values by role (`dsn`, `url`, `uri`, `user`, `password`). Never logged, never written. */
export type ConnectionValues = Readonly<Record<string, string>>;

/** How far a long operation is (rows backfilled, documents reindexed, tables captured). */
export interface ProgressAmount {
  done: number;
  /** Unknown totals show a count without a percentage. */
  total?: number;
  /** What is counted, plural (`rows`, `documents`). */
  unit?: string;
}

/** Human progress: a line, optionally with an amount so a terminal can draw a bar with percentage and ETA. */
export type Progress = (message: string, amount?: ProgressAmount) => void;

// ------------------------------------------------------------------------------------------------
// Vocabulary: what a store governs and how its limits are measured (declarative, so it can be
// documented, checked against the schema and evaluated by @kfm/diff without store code).
// ------------------------------------------------------------------------------------------------

export type ChangeKind = 'added' | 'removed' | 'changed';

/** How one declared limit is measured. */
export type LimitSpec =
  /** Baseline objects of `kind` that changed in one of `changes` ways. */
  | { measure: 'changes'; kind: string; changes: readonly ChangeKind[]; description: string }
  /** Distinct names touched in a scope dimension (by schema objects or by data changes). */
  | { measure: 'touched'; dimension: string; description: string }
  /** A run metric the adapter reports to `decide` (absent → the limit fails closed). */
  | { measure: 'metric'; metric: string; description: string }
  /** The sum of `counters` over the run's data changes (rows, nodes, documents written). */
  | { measure: 'data'; counters: readonly string[]; description: string };

export interface ProtectedKeySpec {
  /** The scope dimension whose names this protected key names. */
  dimension: string;
  /** Entries are objects (e.g. graph `{label, key}`) whose name is this field; absent: plain name patterns. */
  nameField?: string;
}

export interface StoreVocabulary {
  /** Migration id prefix: `<idPrefix>-MIG-YYYY-MM-DD-NN`. */
  idPrefix: string;
  /** Scope dimensions (`allowed_<d>` / `forbidden_<d>`), in the order checks are reported. */
  scopeDimensions: readonly string[];
  /** Keys of `protected` (policy and declaration) and the dimension each protects. */
  protectedKeys: Readonly<Record<string, ProtectedKeySpec>>;
  /** Every limit a declaration of this type may set. */
  limits: Readonly<Record<string, LimitSpec>>;
  /** Invariant keys a declaration of this type may set under `invariants`. */
  invariants?: readonly string[];
}

/** The script language: default file names, comments for scaffolds, and a parse without a store. */
export interface ScriptLanguage {
  /** Default script names for scaffolding (e.g. forward.sql / rollback.sql). */
  forward: string;
  rollback: string;
  /** A comment (or a harmless placeholder document) holding `text`, for scaffolded scripts. */
  placeholder(text: string): string;
  /**
   * Parses scripts with the store's real grammar, without a store. Issues carry file:line:column;
   * `statements` is the number of executable statements (0 for an empty or comment-only script).
   */
  parse(scripts: readonly ScriptFile[]): Promise<{ statements: number; issues: Issue[] }>;
  /**
   * Optional: the store's lint without a store (`kfm-migrate lint`). Size-dependent rules cannot know sizes
   * here and say so in their findings; a connected session's `preflight` lints with the live catalog.
   */
  lint?(
    scripts: readonly ScriptFile[],
    declaration: MigrationDeclaration,
    policy?: Policy['lint'],
  ): Promise<LintFinding[]>;
  /**
   * Optional: the preflight a store-free reader can do (`kfm-migrate ci` on bundles not run yet): names as
   * written (unqualified SQL names in `public`), escapes, forbidden and protected names. A connected
   * session's `preflight` is the authority; this one may only refuse less, never more.
   */
  preflight?(
    scripts: readonly ScriptFile[],
    declaration: MigrationDeclaration,
    options: PreflightOptions,
  ): Promise<PreflightResult>;
}

// ------------------------------------------------------------------------------------------------
// Baselines, preflight
// ------------------------------------------------------------------------------------------------

export interface BaselineOptions {
  /** Scope, limits and invariants shape what is counted exactly and which invariants are checked. */
  declaration?: MigrationDeclaration;
  /** The effective protected domains: store policy, repository policy and the declaration's additions. */
  protected?: ProtectedDomains;
  /** Injected clock, so baselines stay deterministic in tests. */
  capturedAt?: string;
  /** Capture every object and histogram the store has, not only what the declaration scopes (`--full`). */
  full?: boolean;
  /**
   * The names the preflight predicts the scripts touch, per scope dimension: an adapter that scopes
   * its detail to the declaration looks as closely at these, so a write the preflight attributes to
   * a name the declaration does not mention is still seen.
   */
  predicted?: Readonly<Record<string, readonly string[]>>;
  /**
   * An earlier baseline this capture will be compared with (the applied PRE or POST, for drift and
   * rollback): an adapter whose detail varies captures what that baseline has at the same detail.
   */
  like?: Baseline;
  /**
   * No other capture follows on this session (a one-off `kfm-migrate baseline`, a plan's PRE): an adapter
   * may skip what only makes a later capture cheaper (PostgreSQL's change detector). The baseline is the same.
   */
  once?: boolean;
  progress?: Progress;
}

export type PlanStatement = Plan['statements'][number];

export interface PreflightOptions {
  /** Effective protected domains (store + repository policy + declaration). */
  protected?: ProtectedDomains;
  /** Rules the policy allows for this bundle (exceptions with an approval reference), e.g. `dynamic-sql`. */
  allowedRules?: readonly string[];
  /** Lint settings from the policy. */
  lint?: Policy['lint'];
}

export interface PreflightResult {
  statements: PlanStatement[];
  /** Findings; any `fail` stops the run before the store is touched. */
  checks: Check[];
  /** Names the script is predicted to touch, per scope dimension (as the store will resolve them). */
  predicted: Record<string, string[]>;
  /** Lock-hazard lint findings, when the store has a linter. */
  lint?: LintFinding[];
}

// ------------------------------------------------------------------------------------------------
// Leases (locks): one run per store at a time, crash-safe.
// ------------------------------------------------------------------------------------------------

export interface LeaseRequest {
  /** Who runs: names the run for a second run's message (`kfm-migrate apply PG-MIG-…`). */
  owner: string;
  run_id: string;
  /** Lease time-to-live; renewed every ttl/3 while the run lives (stores whose locks die with the session ignore it). */
  ttlMs: number;
  /** How long to wait for a held lease, with backoff and jitter (0: fail fast). */
  waitMs: number;
}

export interface LeaseHolder {
  owner: string;
  run_id?: string;
  since?: string;
  expires_at?: string;
  /** True when the lease has expired (a crashed run) and may be taken over. */
  expired?: boolean;
  /** A human description: who, since when, where the lock lives. */
  description: string;
}

export interface LockTakeover {
  previous_owner: string;
  previous_run?: string;
  expired_at: string;
  /** What the dead run left and was cleaned (e.g. `shadow index kfm-…`, `task node:123`). */
  cleaned: string[];
}

export type LockResult =
  | {
      acquired: true;
      waited_ms: number;
      takeover?: LockTakeover /** Aborted when the lease is lost (renewal failed or taken). */;
      lost: AbortSignal;
    }
  | { acquired: false; waited_ms: number; holder: LeaseHolder };

export interface UnlockOutcome {
  /** Whether a lock was removed. */
  removed: boolean;
  holder?: LeaseHolder;
  /** What else was cleaned up for the dead run (shadow indices, tasks). */
  cleaned: string[];
  message: string;
}

export interface LockCapability {
  lock(request: LeaseRequest): Promise<LockResult>;
  /** Releases this session's lease (a no-op when it holds none). */
  unlock(): Promise<void>;
  /** Who holds the store's lock now, if anyone. */
  lockHolder(): Promise<LeaseHolder | undefined>;
  /** `kfm-migrate unlock`: removes an expired lease, a live one only with `force`; never touches anything else. */
  breakLock(options: { force: boolean; reason: string }): Promise<UnlockOutcome>;
}

// ------------------------------------------------------------------------------------------------
// Ledger: the store's own record of governed runs; the receipt chain's head; the store-held policy.
// ------------------------------------------------------------------------------------------------

export type LedgerStatus = 'started' | 'applied' | 'rolled_back' | 'rollback_failed';

export interface LedgerEntry {
  migration_id: string;
  /** The bundle's identity (`bundleId` of @kfm/receipts): declaration and scripts. A different one for an applied id is drift. */
  bundle_digest: string;
  run_id: string;
  status: LedgerStatus;
  /** Digest of a receipt to record as this store's newest (the head of its receipt chain). */
  receipt_digest?: string;
  /** For `started`: the PRE fingerprint the rollback must restore, and resume data (e.g. the last batch key). */
  pre_fingerprint?: string;
  resume?: Record<string, string | number>;
}

export interface LedgerState {
  state: 'absent' | LedgerStatus;
  bundle_digest?: string;
  run_id?: string;
  pre_fingerprint?: string;
  resume?: Record<string, string | number>;
  /** The digest of the newest receipt recorded in this store's ledger (any migration). */
  last_receipt_digest?: string;
}

/** One row of the ledger history, oldest first. */
export interface LedgerRecord {
  seq: number;
  migration_id: string;
  run_id: string;
  status: LedgerStatus | 'receipt' | 'policy';
  bundle_digest?: string;
  receipt_digest?: string;
  recorded_at?: string;
}

/** What the runner records after writing a run's receipt: the new head of the store's receipt chain. */
export interface ReceiptRecord {
  migration_id: string;
  run_id: string;
  bundle_digest: string;
  /** digestOfReceipt(receipt) of the receipt just written. */
  receipt_digest: string;
}

export interface LedgerCapability {
  ledgerState(migrationId: string): Promise<LedgerState>;
  recordLedger(entry: LedgerEntry): Promise<void>;
  /** Appends a receipt digest (the chain's new head) without changing any migration's state. */
  recordReceipt(record: ReceiptRecord): Promise<void>;
  /** Ledger rows, oldest first; of one migration, or all. */
  ledgerHistory(migrationId?: string): Promise<LedgerRecord[]>;
}

export interface StorePolicy {
  policy: Policy;
  /** CID of the policy's canonical JSON. */
  digest: string;
  run_id: string;
  recorded_at?: string;
}

export interface PolicyCapability {
  /** The policy held by the store (`kfm-migrate policy push`), if any. */
  readPolicy(): Promise<StorePolicy | undefined>;
  writePolicy(policy: StorePolicy): Promise<void>;
}

// ------------------------------------------------------------------------------------------------
// Apply and rollback
// ------------------------------------------------------------------------------------------------

/** What the run observed at the commit point, handed to `decide`. */
export interface Observation {
  post: Baseline;
  /** Run metrics (statements, rows_affected, docs_reindexed, nodes_touched, lock_held_ms, …). */
  metrics: Record<string, number>;
  /** Data written per object, as the store counted it (rows per table, nodes per label, docs per index). */
  data?: DataChange[];
}

/** One statement as it ran, in order, with its transaction group (for the receipt). */
export interface StatementRun {
  index: number;
  file: string;
  line?: number;
  kind: string;
  group: number;
  transactional: boolean;
  outcome: 'ok' | 'failed' | 'not_run';
}

export interface ApplyRequest {
  declaration: MigrationDeclaration;
  scripts: ScriptFile[];
  transactional: boolean;
  baseline: BaselineOptions;
  /** Written atomically with the commit where the store allows it. */
  ledger: LedgerEntry;
  /** Called at the commit point. Return true to commit; false aborts (transactional stores end exactly at PRE). */
  decide(observation: Observation): Promise<boolean>;
  progress?: Progress;
  /** Aborted when the run's lease is lost: stop before the commit point. */
  signal?: AbortSignal;
  /** Resume a batched run from here (`apply --resume`). */
  resume?: Record<string, string | number>;
  /** Lock-timeout retries (transactional runs that failed before anything committed). */
  retries?: { attempts: number; maxWaitMs: number };
}

export interface ApplyResult {
  /** committed: visible and recorded; aborted: refused at the commit point; applied: visible but refused (non-transactional, needs rollback); failed: a statement failed. */
  status: 'committed' | 'aborted' | 'applied' | 'failed';
  /** True when the adapter guarantees the store is exactly at PRE (nothing of the change is left). */
  atPre: boolean;
  post?: Baseline;
  metrics: Record<string, number>;
  data?: DataChange[];
  statements?: StatementRun[];
  attempts?: { attempt: number; waited_ms: number; outcome: string; code?: string; blocker?: string }[];
  failure?: Issue;
}

export interface RollbackResult {
  ok: boolean;
  failure?: Issue;
  statements?: StatementRun[];
}

export interface BaselineCapability {
  captureBaseline(options: BaselineOptions): Promise<Baseline>;
}
export interface PreflightCapability {
  /** Static (and catalog-aware) analysis of scripts before anything runs; names resolved as the store will. */
  preflight(
    scripts: ScriptFile[],
    declaration: MigrationDeclaration,
    options: PreflightOptions,
  ): Promise<PreflightResult>;
}
export interface ApplyCapability {
  apply(request: ApplyRequest): Promise<ApplyResult>;
  runRollback(scripts: ScriptFile[], declaration: MigrationDeclaration, progress?: Progress): Promise<RollbackResult>;
}

/** One connected session to a store: the capabilities the lifecycle needs. */
export interface StoreSession
  extends BaselineCapability,
    PreflightCapability,
    LockCapability,
    LedgerCapability,
    PolicyCapability,
    ApplyCapability {
  /** `Engine version` for receipts and reports (e.g. `PostgreSQL 15.20`, `OpenSearch 2.19.6`). */
  readonly server: string;
  close(): Promise<void>;
}

// ------------------------------------------------------------------------------------------------
// Rehearsal, the adapter itself
// ------------------------------------------------------------------------------------------------

/** A disposable copy of a store, made for a rollback rehearsal. */
export interface ScratchStore {
  /** Connection values for the copy, by the same roles as the source's. Never logged, never written. */
  values: ConnectionValues;
  /** A policy-safe name for reports (e.g. the scratch database's name), never a connection value. */
  name: string;
  /**
   * True when the copy holds only what the declaration reaches (a search namespace), not the whole store:
   * the copy then matches the source when each of its objects has the source's digest, rather than when
   * the whole-store fingerprints are equal.
   */
  partial?: boolean;
  /** Drops the copy; safe to call more than once. */
  dispose(): Promise<void>;
}

/**
 * Optional: make a scratch copy of a store (schema and data) to rehearse forward + rollback on.
 * An adapter-level capability, not a session's: copying may need the source to have no session
 * open at all (PostgreSQL's CREATE DATABASE … TEMPLATE does), the runner's own included.
 */
export interface RehearsalCapability {
  createScratch(
    values: ConnectionValues,
    options: { label: string; applicationName: string; declaration: MigrationDeclaration },
  ): Promise<ScratchStore>;
}

export interface ConnectOptions {
  applicationName: string;
  progress?: Progress;
}

/** What a store package exports: the runner finds it by the declaration's `type`. */
export interface StoreAdapter {
  readonly type: string;
  /** One line for `--help` and reports. */
  readonly description: string;
  readonly vocabulary: StoreVocabulary;
  readonly language: ScriptLanguage;
  /** Connection roles and the environment variable each is read from by default. */
  readonly connection: Readonly<Record<string, string>>;
  /** Connects; unreachable stores throw KfmError(STORE_UNREACHABLE) with no connection value in it. */
  connect(values: ConnectionValues, options: ConnectOptions): Promise<StoreSession>;
  /** Present when the store can make scratch copies for `kfm-migrate rehearse`. */
  readonly rehearsal?: RehearsalCapability;
}
