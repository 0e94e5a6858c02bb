// Writes a run's evidence: per-run files under receipts/runs/<run>/ (append-only, never
// overwritten), the latest copies at the bundle's conventional paths, the run receipt, PROV and the
// in-toto statement (DSSE-signed when a key is given). Rehearsals write their run directory only: the
// conventional paths keep describing the latest real run. Everything passes the policy-safe scan first.
import path from 'node:path';
import { LATEST_RECEIPT, RUNS_DIR, attestationFiles, buildProv, buildRunReceipt, canonicalJson, digestInput, digestOfReceipt, digestOutputBytes, runDirectoryName, scanArtifact, writeArtifacts, type BuildRunReceiptInput, type PolicyFinding } from '@kfm/receipts';
import type { Baseline, Check, DiffSummary, FileDigest, Issue, LoadedDeclaration, ReceiptLedgerCapability, RunReceipt } from '@kfm/migration-contracts';
import type { RunOptions } from './run-context.js';

export interface RunEvidence {
  operation: 'apply' | 'rollback' | 'plan' | 'rehearse';
  store: string;
  startedAt: string;
  finishedAt: string;
  forwardDigest: string;
  checks: Check[];
  outcome: NonNullable<RunReceipt['outcome']>;
  pre?: Baseline;
  post?: Baseline;
  afterRollback?: Baseline;
  summary?: DiffSummary;
  touchedCsv?: string;
  /** Graph stores: per-label / per-type deltas and degree-distribution changes for reviewers. */
  temporal?: unknown;
  plan?: unknown;
  /** The store chain's head when the run read the ledger under the store lock; undefined: not chained. */
  previousReceipt?: string | null;
  /** Where to record this run's receipt digest once written (the session holding the lock). */
  receiptLedger?: ReceiptLedgerCapability;
}

export interface WrittenRun {
  runId: string;
  receipt: RunReceipt;
  receiptDigest: string;
  paths: string[];
}

type ArtifactFile = { path: string; content: string | object };

/** The evidence files of a run, keyed by their conventional bundle path. */
export function evidenceFiles(evidence: Pick<RunEvidence, 'pre' | 'post' | 'afterRollback' | 'summary' | 'touchedCsv' | 'temporal' | 'plan'>): ArtifactFile[] {
  const files: ArtifactFile[] = [];
  if (evidence.pre) files.push({ path: 'baselines/pre.json', content: evidence.pre });
  if (evidence.post) files.push({ path: 'baselines/post.json', content: evidence.post });
  if (evidence.afterRollback) files.push({ path: 'baselines/after_rollback.json', content: evidence.afterRollback });
  if (evidence.summary) files.push({ path: 'diffs/summary.json', content: evidence.summary });
  if (evidence.touchedCsv !== undefined) files.push({ path: 'diffs/touched.csv', content: evidence.touchedCsv });
  if (evidence.temporal) files.push({ path: 'diffs/temporal.json', content: evidence.temporal });
  if (evidence.plan) files.push({ path: 'plan.json', content: evidence.plan });
  return files;
}

/** Scans evidence before anything is committed or written; returns failing checks (never the secret). */
export async function scanEvidence(files: ArtifactFile[]): Promise<Check[]> {
  const findings: PolicyFinding[] = [];
  for (const file of files) {
    const text = typeof file.content === 'string' ? file.content : canonicalJson(file.content);
    const result = await scanArtifact(file.path, text);
    findings.push(...result.findings);
  }
  return findings.map((f) => ({ name: `policy_scan:${f.file}`, rule: 'policy', status: 'fail', code: 'POLICY_SCAN_HIT', message: `${f.file}:${f.line} ${f.rule}: ${f.message}` }));
}

/** The run's parameters: only their digest enters the receipt. */
function runParams(loaded: LoadedDeclaration, options: RunOptions, evidence: RunEvidence) {
  return { environment: options.environment, approval: options.approval ?? null, transactional: loaded.declaration.transactional !== false, forward_digest: evidence.forwardDigest, operation: evidence.operation };
}

function receiptInput(loaded: LoadedDeclaration, options: RunOptions, evidence: RunEvidence, inputs: FileDigest[], outputs: FileDigest[]): BuildRunReceiptInput {
  const { declaration } = loaded;
  return {
    migrationId: declaration.migration_id,
    operation: evidence.operation,
    store: evidence.store,
    actor: options.actor,
    environment: { name: options.environment, ...(options.gitCommit ? { git_commit: options.gitCommit } : {}), runner_version: options.runnerVersion },
    params: runParams(loaded, options, evidence),
    inputs,
    outputs,
    checks: evidence.checks,
    outcome: evidence.outcome,
    fingerprints: {
      ...(evidence.pre ? { pre: evidence.pre.fingerprints.schema } : {}),
      ...(evidence.post ? { post: evidence.post.fingerprints.schema } : {}),
      ...(evidence.afterRollback ? { after_rollback: evidence.afterRollback.fingerprints.schema } : {}),
    },
    policy: { policy_label: 'public', ...(options.approval ? { approval_ref: options.approval } : {}), ...(declaration.approvals.exception_ref ? { notes: `exception ${declaration.approvals.exception_ref}` } : {}) },
    ...(evidence.previousReceipt !== undefined ? { previousReceipt: evidence.previousReceipt } : {}),
    runType: evidence.operation === 'rehearse' ? 'rehearsal' : 'migration',
    startedAt: evidence.startedAt,
    finishedAt: evidence.finishedAt,
  };
}

/** Digests of the run's inputs: the declaration and every script, normalized for line endings. */
export async function inputDigests(loaded: LoadedDeclaration): Promise<FileDigest[]> {
  const files = [loaded.file, ...loaded.forward, ...loaded.rollback];
  return Promise.all(files.map(async (abs) => ({ path: rel(loaded.bundleDir, abs), digest: await digestInput(abs) })));
}

/** The run id is fixed by the inputs, parameters and start time, so it is known before the store is touched. */
export async function runIdentity(loaded: LoadedDeclaration, options: RunOptions, evidence: RunEvidence): Promise<string> {
  return buildRunReceipt(receiptInput(loaded, options, evidence, await inputDigests(loaded), [])).run_id;
}

/** Writes per-run evidence, the receipt and PROV, then the latest copies. */
export async function writeRun(loaded: LoadedDeclaration, options: RunOptions, evidence: RunEvidence): Promise<{ ok: true; run: WrittenRun } | { ok: false; issues: Issue[] }> {
  const { bundleDir } = loaded;
  const inputs = await inputDigests(loaded);
  const runId = buildRunReceipt(receiptInput(loaded, options, evidence, inputs, [])).run_id;
  const runDir = `${RUNS_DIR}/${runDirectoryName(runId)}`;
  const files = evidenceFiles(evidence);
  const writtenEvidence = await writeArtifacts(bundleDir, files.map((f) => ({ ...f, path: `${runDir}/${f.path}` })));
  if (!writtenEvidence.ok) return { ok: false, issues: [...writtenEvidence.issues, ...findingsToIssues(writtenEvidence.findings)] };
  const receipt = buildRunReceipt(receiptInput(loaded, options, evidence, inputs, writtenEvidence.written.map((w) => ({ path: w.path, digest: w.digest, bytes: w.bytes }))));
  // PROV is derived from the receipt, so the receipt cannot name it; verify can rebuild and compare it.
  const prov = buildProv(receipt);
  const provDigest = await digestOutputBytes('prov.jsonld', new TextEncoder().encode(canonicalJson(prov)));
  const latest = evidence.operation !== 'rehearse';
  const attestation = attestationFiles({ receipt, provDigest, ...(options.signingKey ? { signingKey: options.signingKey } : {}), directories: latest ? [runDir, 'receipts'] : [runDir] });
  const written = await writeArtifacts(bundleDir, [
    { path: `${runDir}/run_receipt.json`, content: receipt },
    { path: `${runDir}/prov.jsonld`, content: prov },
    ...attestation,
    ...(latest ? [{ path: LATEST_RECEIPT, content: receipt }, { path: 'receipts/prov.jsonld', content: prov }, ...files] : []),
  ]);
  if (!written.ok) return { ok: false, issues: [...written.issues, ...findingsToIssues(written.findings)] };
  return {
    ok: true,
    run: { runId: receipt.run_id, receipt, receiptDigest: digestOfReceipt(receipt), paths: [...writtenEvidence.written.map((w) => w.path), ...written.written.map((w) => w.path)].sort() },
  };
}

function rel(bundleDir: string, abs: string): string {
  return path.relative(bundleDir, abs).split(path.sep).join('/');
}

function findingsToIssues(findings: PolicyFinding[]): Issue[] {
  return findings.map((f) => ({ code: 'POLICY_SCAN_HIT', file: f.file, line: f.line, message: `${f.rule}: ${f.message}` }));
}
