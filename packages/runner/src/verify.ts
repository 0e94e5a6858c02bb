// `kfm-migrate verify`: everything a reviewer can check from the bundle — every receipt's schema and
// digests, the in-toto statements, the reviewer-facing evidence bound byte for byte to the latest run —
// plus what the policy demands (signatures by trusted keys) and, with --against-store, what only the
// store can tell: the ledger's receipts for this migration must be exactly the bundle's, so a truncated,
// re-digested or swapped bundle fails.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import {
  ExitCode,
  exitCodeFor,
  loadArtifact,
  loadDeclaration,
  type Issue,
  type Policy,
  type RunReceipt,
} from '@kfm/migration-contracts';
import {
  LATEST_RECEIPT,
  RUNS_DIR,
  digestOfReceipt,
  keyIdOf,
  parseVerifyKey,
  verifyBundle,
  verifyChain,
  verifyReceiptFile,
  type VerifyResult,
} from '@kfm/receipts';
import { loadAdapter } from './adapters.js';
import { resolveConnection } from './connection.js';
import { findMigrationsRoot } from './migrations-registry.js';
import { loadRepositoryPolicy } from './policy.js';
import { faultIssue } from './run-context.js';

export interface VerifyOptions {
  /** Ed25519 public keys given on the command line. */
  publicKeys?: readonly KeyObject[];
  /** Compare the bundle's receipts with the store's ledger (connection variables from the declaration). */
  againstStore?: { env: Readonly<Record<string, string | undefined>> };
}

export type VerifyOutcome = VerifyResult & {
  status: 'passed' | 'failed';
  exit_code: ExitCode;
  ledger?: LedgerComparison;
};

/** The keys a policy trusts: its PEM keys, and the given keys whose id (`sha256:<hex>`) it lists. */
export function trustedKeys(
  policy: Policy | undefined,
  given: readonly KeyObject[],
): { keys: KeyObject[]; issues: Issue[] } {
  const listed = policy?.trusted_keys;
  if (!listed) return { keys: [...given], issues: [] };
  const keys: KeyObject[] = [];
  const issues: Issue[] = [];
  for (const [i, entry] of listed.entries()) {
    if (!entry.includes('BEGIN')) continue;
    const parsed = parseVerifyKey(entry, `policy trusted_keys/${i}`);
    if (parsed.ok) keys.push(parsed.key);
    else issues.push({ ...parsed.issue, pointer: `/trusted_keys/${i}` });
  }
  for (const key of given)
    if (listed.includes(`sha256:${keyIdOf(key)}`) && !keys.some((k) => keyIdOf(k) === keyIdOf(key))) keys.push(key);
  return { keys, issues };
}

/** Every receipt file of a bundle (latest and per run), bundle-relative. */
async function receiptNames(bundleDir: string): Promise<string[]> {
  const runs = await fs.readdir(path.join(bundleDir, RUNS_DIR)).catch(() => [] as string[]);
  return [LATEST_RECEIPT, ...runs.sort().map((run) => `${RUNS_DIR}/${run}/run_receipt.json`)];
}

export async function verifyTarget(
  target: string,
  options: VerifyOptions = {},
): Promise<VerifyOutcome | { status: 'failed'; exit_code: ExitCode; issues: Issue[] }> {
  const stat = await fs.stat(target).catch(() => undefined);
  if (!stat)
    return {
      status: 'failed',
      exit_code: ExitCode.InvalidInput,
      issues: [{ code: 'FILE_NOT_FOUND', file: target, message: 'no such bundle or receipt' }],
    };
  const bundleDir = stat.isDirectory() ? target : await bundleOf(target);
  const policy = await loadRepositoryPolicy(await findMigrationsRoot(bundleDir));
  if (!policy.ok) return { status: 'failed', exit_code: exitCodeFor(policy.issues), issues: policy.issues };
  const repositoryPolicy = policy.loaded?.policy;
  const required = repositoryPolicy?.require_signatures === true;
  const trusted = trustedKeys(repositoryPolicy, options.publicKeys ?? []);
  const keys = required || options.publicKeys?.length ? trusted.keys : [];
  const result = stat.isDirectory()
    ? await verifyBundle(target, keys.length ? { publicKeys: keys } : {})
    : await verifyReceiptFile(target, bundleDir, keys.length ? { publicKeys: keys } : {});
  const issues = [...result.issues, ...trusted.issues];
  if (required) {
    if (keys.length === 0)
      issues.push({
        code: 'RECEIPT_UNSIGNED',
        file: policy.loaded?.file,
        pointer: '/trusted_keys',
        message:
          'the policy requires signed receipts but names no trusted key that is available here (list PEM keys, or pass --public-key for a listed key id)',
      });
    for (const attestation of result.attestations) {
      if (attestation.signature !== 'verified')
        issues.push({
          code: 'RECEIPT_UNSIGNED',
          file: attestation.receipt,
          message: `the policy requires signatures: ${attestation.receipt} is ${attestation.signature === 'invalid' ? 'signed by a key the policy does not trust' : 'not signed'}`,
        });
    }
  }
  let ledger: LedgerComparison | undefined;
  if (options.againstStore && stat.isDirectory()) {
    ledger = await compareWithStore(target, options.againstStore.env);
    issues.push(...ledger.issues);
  }
  const ok = issues.length === 0;
  return {
    ...result,
    ok,
    issues,
    ...(ledger ? { ledger } : {}),
    status: ok ? 'passed' : 'failed',
    exit_code: ok ? ExitCode.Passed : exitCodeFor(issues) || ExitCode.CheckFailed,
  };
}

async function bundleOf(receiptFile: string): Promise<string> {
  let dir = path.dirname(path.resolve(receiptFile));
  while (dir !== path.dirname(dir)) {
    if (
      await fs.access(path.join(dir, 'migration.yml')).then(
        () => true,
        () => false,
      )
    )
      return dir;
    dir = path.dirname(dir);
  }
  return path.dirname(path.resolve(receiptFile));
}

export interface LedgerComparison {
  migration_id?: string;
  /** Receipt digests the store's ledger recorded for this migration, oldest first. */
  ledger: string[];
  /** Digests of the bundle's chained receipts (those that name previous_receipt), oldest first. */
  bundle: string[];
  status: 'match' | 'mismatch' | 'unreachable' | 'not_checked';
  issues: Issue[];
}

/**
 * The store's word against the bundle's: every receipt the ledger recorded for this migration must be in
 * the bundle, and the ledger's newest must be the bundle's newest chained receipt. A truncated bundle
 * misses ledger receipts; a re-digested or swapped one has receipts the ledger never recorded.
 */
export async function compareWithStore(
  bundleDir: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<LedgerComparison> {
  const loaded = await loadDeclaration(bundleDir);
  if (!loaded.ok) return { ledger: [], bundle: [], status: 'not_checked', issues: loaded.issues };
  const { declaration } = loaded;
  const adapter = await loadAdapter(declaration.type);
  const base = { migration_id: declaration.migration_id, ledger: [] as string[], bundle: [] as string[] };
  if (!adapter)
    return {
      ...base,
      status: 'not_checked',
      issues: [
        {
          code: 'ARGUMENT_INVALID',
          file: loaded.file,
          pointer: '/type',
          message: `no store adapter registered for type ${declaration.type}`,
        },
      ],
    };
  const chained: { digest: string; finished: string; file: string }[] = [];
  for (const name of await receiptNames(bundleDir)) {
    if (name === LATEST_RECEIPT) continue;
    const receipt = await loadArtifact<RunReceipt>(path.join(bundleDir, name), 'run_receipt.v1');
    if (!receipt.ok || receipt.value.previous_receipt === undefined || receipt.value.run_type === 'rehearsal') continue;
    chained.push({ digest: digestOfReceipt(receipt.value), finished: receipt.value.finished_at, file: name });
  }
  chained.sort((a, b) => (a.finished < b.finished ? -1 : a.finished > b.finished ? 1 : 0));
  const bundleDigests = chained.map((entry) => entry.digest);
  const connection = resolveConnection(adapter, declaration, env);
  if (!connection.ok) return { ...base, bundle: bundleDigests, status: 'unreachable', issues: connection.issues };
  let history;
  try {
    const session = await adapter.connect(connection.values, { applicationName: 'kfm-migrate verify' });
    try {
      history = await session.ledgerHistory(declaration.migration_id);
    } finally {
      await session.close().catch(() => undefined);
    }
  } catch (error) {
    return { ...base, bundle: bundleDigests, status: 'unreachable', issues: [faultIssue(error)] };
  }
  const ledgerDigests = history
    .filter((row) => row.status === 'receipt' && row.receipt_digest)
    .map((row) => row.receipt_digest as string);
  const issues: Issue[] = [];
  const inBundle = new Set(bundleDigests);
  const inLedger = new Set(ledgerDigests);
  const missing = ledgerDigests.find((digest) => !inBundle.has(digest));
  if (missing)
    issues.push({
      code: 'LEDGER_MISMATCH',
      file: RUNS_DIR,
      message: `the store's ledger records receipt ${missing} for ${declaration.migration_id}, which the bundle does not hold (truncated or swapped evidence)`,
      expected: missing,
      found: 'no such receipt in the bundle',
    });
  const unknown = chained.find((entry) => !inLedger.has(entry.digest));
  if (unknown)
    issues.push({
      code: 'LEDGER_MISMATCH',
      file: unknown.file,
      message: `${unknown.file} is not a receipt the store's ledger recorded (edited, re-digested or from another store)`,
      expected: 'a digest in the ledger',
      found: unknown.digest,
    });
  const ledgerHead = ledgerDigests[ledgerDigests.length - 1];
  const bundleHead = bundleDigests[bundleDigests.length - 1];
  if (!missing && !unknown && ledgerHead !== bundleHead)
    issues.push({
      code: 'LEDGER_MISMATCH',
      file: RUNS_DIR,
      message: `the ledger's newest receipt for ${declaration.migration_id} is not the bundle's newest`,
      expected: ledgerHead ?? 'none',
      found: bundleHead ?? 'none',
    });
  return {
    ...base,
    ledger: ledgerDigests,
    bundle: bundleDigests,
    status: issues.length ? 'mismatch' : 'match',
    issues,
  };
}

export type ChainCheckResult = Awaited<ReturnType<typeof verifyChain>> & {
  status: 'passed' | 'failed';
  exit_code: ExitCode;
};

/** `verify --chain DIR`: every store's receipt chain found under a directory, with the first break of each. */
export async function verifyChainDirectory(
  dir: string,
): Promise<ChainCheckResult | { status: 'failed'; exit_code: ExitCode; issues: Issue[] }> {
  const stat = await fs.stat(dir).catch(() => undefined);
  if (!stat?.isDirectory())
    return {
      status: 'failed',
      exit_code: ExitCode.InvalidInput,
      issues: [{ code: 'FILE_NOT_FOUND', file: dir, message: 'no such directory of receipts' }],
    };
  const result = await verifyChain(dir);
  const issues = result.issues.map((issue) =>
    issue.pointer === '/previous_receipt' ? { ...issue, code: 'CHAIN_BROKEN' as const } : issue,
  );
  const exit = result.ok ? ExitCode.Passed : exitCodeFor(issues) || ExitCode.CheckFailed;
  return { ...result, issues, status: result.ok ? 'passed' : 'failed', exit_code: exit };
}
