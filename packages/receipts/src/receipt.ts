// Run receipts: one per execution, pass or fail. Building is pure (time, actor and digests are handed in)
// so the same run always yields the same bytes, and the run id is derived, never random.
import { createHash } from 'node:crypto';
import { validateValue, type Check, type FileDigest, type Issue, type RunReceipt } from '@kfm/migration-contracts';
import { DIGEST_ALGORITHM, canonicalJson, cidOfJsonSync } from './digest.js';

export type ReceiptOperation = NonNullable<RunReceipt['operation']>;
export type ReceiptOutcome = NonNullable<RunReceipt['outcome']>;

/**
 * The facts of one run. Nested objects use the receipt's own (snake_case) field names, so what is passed
 * in is what appears in the receipt; only `params_digest`, the run id and the sort order are derived.
 */
/** Optional sections of a receipt, passed through as recorded (schema field names). */
export type ReceiptDetails = Partial<
  Pick<
    RunReceipt,
    | 'bundle_digest'
    | 'policies'
    | 'lock'
    | 'attempts'
    | 'statements'
    | 'data_changes'
    | 'lint'
    | 'metrics'
    | 'drift'
    | 'subject'
  >
>;

export interface BuildRunReceiptInput {
  /** Absent only for administrative runs (policy_push, unlock), which act on a store, not a migration. */
  migrationId?: string;
  operation: ReceiptOperation;
  /** The store type the run touched (postgis, search, graph, …). */
  store: string;
  actor: RunReceipt['actor'];
  /** `server`, when given, is a policy-safe description (product and version), never a DSN. */
  environment: Omit<RunReceipt['environment'], 'params_digest'>;
  /** The run's parameters (flags, declaration digest, …); only their digest (cidOfJson) enters the receipt. */
  params: unknown;
  inputs: readonly FileDigest[];
  outputs: readonly FileDigest[];
  /** Every check of the run, in lifecycle order. */
  checks: readonly Check[];
  /** Defaults to `fail` when any check failed, else `pass`. */
  validationStatus?: 'pass' | 'fail';
  outcome: ReceiptOutcome;
  fingerprints?: RunReceipt['fingerprints'];
  policy: RunReceipt['policy'];
  /**
   * The store's receipt chain: digestOfReceipt() of the receipt recorded before this one in the store's
   * ledger, or null for the store's first. Leave it undefined (the field is then omitted) when this
   * receipt will not be recorded in a store ledger: the run never held the store lock, or it ran on a
   * scratch copy. Chain verification skips receipts without the field.
   */
  previousReceipt?: string | null;
  runType?: RunReceipt['run_type'];
  /** RFC 3339 timestamps, injected: this module never reads a clock. */
  startedAt: string;
  finishedAt: string;
  details?: ReceiptDetails;
}

/** Builds a complete, schema-valid run receipt from the facts of one run. Pure and synchronous. */
export function buildRunReceipt(input: BuildRunReceiptInput): RunReceipt {
  const paramsDigest = cidOfJsonSync(input.params ?? null);
  const inputs = sortFileDigests(input.inputs);
  const outputs = sortFileDigests(input.outputs);
  const checks = input.checks.map((check) => dropUndefined({ ...check }));
  const status = input.validationStatus ?? (checks.some((check) => check.status === 'fail') ? 'fail' : 'pass');
  const runId = runIdFor({
    ...(input.migrationId ? { migrationId: input.migrationId } : { operation: input.operation }),
    startedAt: input.startedAt,
    seed: {
      migration_id: input.migrationId ?? null,
      operation: input.operation,
      store: input.store,
      environment: input.environment.name,
      params_digest: paramsDigest,
      inputs,
      started_at: input.startedAt,
    },
  });
  const details = dropUndefined({ ...(input.details ?? {}) });
  return {
    kfm_run_receipt_version: 'v1',
    run_id: runId,
    run_type: input.runType ?? 'migration',
    ...(input.migrationId ? { migration_id: input.migrationId } : {}),
    operation: input.operation,
    store: input.store,
    actor: dropUndefined({ ...input.actor }),
    environment: dropUndefined({ ...input.environment, params_digest: paramsDigest }),
    inputs,
    outputs,
    validation: { status, checks },
    outcome: dropUndefined({ ...input.outcome }),
    fingerprints: dropUndefined({ ...input.fingerprints }),
    policy: dropUndefined({ ...input.policy }),
    digest_algorithm: DIGEST_ALGORITHM,
    ...(input.previousReceipt !== undefined ? { previous_receipt: input.previousReceipt } : {}),
    ...details,
    started_at: input.startedAt,
    finished_at: input.finishedAt,
  };
}

/**
 * `kfm://run/<started_at>.migration.<migration_id>.<8 hex>`: the suffix is the first 8 hex characters of
 * sha256 over the canonical JSON of `seed`, so reruns with the same inputs at the same time share an id
 * and any other run gets a different one.
 */
export function runIdFor(args: { migrationId?: string; operation?: string; startedAt: string; seed: unknown }): string {
  const short = createHash('sha256').update(canonicalJson(args.seed)).digest('hex').slice(0, 8);
  const what = args.migrationId ? `migration.${args.migrationId}` : `admin.${args.operation ?? 'run'}`;
  return `kfm://run/${args.startedAt}.${what}.${short}`;
}

/**
 * Directory name for a run's receipt under `receipts/runs/`: the run id without its scheme, with `:` made
 * safe for every file system (Windows forbids it).
 */
export function runDirectoryName(runId: string): string {
  return runId.replace(/^kfm:\/\/run\//, '').replace(/[:/\\]/g, '-');
}

/** The digest of a receipt as written (canonical JSON, json codec): what `previous_receipt` and receipt_ref record. */
export function digestOfReceipt(receipt: RunReceipt): string {
  return cidOfJsonSync(receipt);
}

/** Schema validation of a run receipt; [] when valid. */
export function validateRunReceipt(value: unknown): Issue[] {
  return validateValue('run_receipt.v1', value);
}

function sortFileDigests(files: readonly FileDigest[]): FileDigest[] {
  return files
    .map((file) => dropUndefined({ path: file.path, digest: file.digest, bytes: file.bytes, role: file.role }))
    .sort((a, b) => compare(a.path, b.path) || compare(a.digest, b.digest));
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Optional fields are left out rather than set to undefined, so the schema and canonical JSON agree. */
function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
