// Writes a run's evidence: per-run files under receipts/runs/<run>/ (append-only, never overwritten), the
// run receipt (built once), PROV and the in-toto statement (DSSE-signed when a key is given). A real run
// then refreshes what a reviewer reads — the declared or conventional evidence paths and receipts/ — with
// exactly its own copies, and removes any such file it did not produce, so nothing stale stays beside the
// latest receipt. Rehearsals and dry runs write their run directory only. Everything passes the
// policy-safe scan first; the latest receipt is written last.
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  EVIDENCE_ROLES,
  LATEST_COMPANIONS,
  LATEST_RECEIPT,
  PLAN_FILE,
  RUNS_DIR,
  attestationFiles,
  buildProv,
  buildRunReceipt,
  canonicalJson,
  digestOfReceipt,
  digestOutputBytes,
  evidencePaths,
  runDirectoryName,
  scanArtifact,
  serializeArtifact,
  writeArtifacts,
  type BuildRunReceiptInput,
  type EvidenceRole,
  type PolicyFinding,
  type ReceiptDetails,
} from '@kfm/receipts';
import type { Baseline, Check, DiffSummary, FileDigest, Issue, Plan, RunReceipt } from '@kfm/migration-contracts';
import type { PreparedBundle } from './bundle.js';
import type { RunOptions } from './run-context.js';

export type Operation = NonNullable<RunReceipt['operation']>;

export interface RunEvidence {
  operation: Operation;
  store: string;
  startedAt: string;
  finishedAt: string;
  checks: Check[];
  outcome: NonNullable<RunReceipt['outcome']>;
  pre?: Baseline;
  post?: Baseline;
  afterRollback?: Baseline;
  summary?: DiffSummary;
  touchedCsv?: string;
  /** Structural before/after (graph stores: per-label counts and degree histograms). */
  temporal?: unknown;
  plan?: Plan;
  /** The store chain's head when the run read the ledger under the store lock; undefined: not chained. */
  previousReceipt?: string | null;
  /** Optional receipt sections (policies, lock, statements, data changes, lint, drift, metrics…). */
  details: ReceiptDetails;
  /** Inputs of an administrative run (e.g. the pushed policy file); bundle runs use the bundle's. */
  inputs?: FileDigest[];
}

export interface WrittenRun {
  runId: string;
  receipt: RunReceipt;
  receiptDigest: string;
  paths: string[];
}

type ArtifactFile = { path: string; content: string | object };

/** The evidence files of a run, by role. */
function evidenceByRole(evidence: RunEvidence): Partial<Record<EvidenceRole, string | object>> {
  const files: Partial<Record<EvidenceRole, string | object>> = {};
  if (evidence.pre) files.pre = evidence.pre;
  if (evidence.post) files.post = evidence.post;
  if (evidence.afterRollback) files.after_rollback = evidence.afterRollback;
  if (evidence.summary) files.summary = evidence.summary;
  if (evidence.touchedCsv !== undefined) files.touched = evidence.touchedCsv;
  if (evidence.temporal) files.temporal = evidence.temporal;
  return files;
}

/** Evidence under its conventional names, for the scan at the commit point. */
export function evidenceFiles(evidence: RunEvidence): ArtifactFile[] {
  return filesByRole(evidenceByRole(evidence), evidence.plan);
}

function filesByRole(byRole: Partial<Record<EvidenceRole, string | object>>, plan?: object): ArtifactFile[] {
  const files: ArtifactFile[] = Object.entries(byRole).map(([role, content]) => ({
    path: EVIDENCE_ROLES[role as EvidenceRole],
    content: content as string | object,
  }));
  if (plan) files.push({ path: PLAN_FILE, content: plan });
  return files;
}

/** Scans the PRE baseline as soon as it is captured, so the commit-point scan need not read it again. */
export function scanPre(pre: Baseline): Promise<Check[]> {
  return scanEvidence([{ path: EVIDENCE_ROLES.pre, content: pre }]);
}

/**
 * The scan at the commit point, kept short because the store may be holding the migration's locks: PRE
 * was scanned when it was captured (`scanPre`), and of POST only what PRE does not hold verbatim can
 * carry anything new (the objects that differ, and everything around them). A hit is looked for again
 * in the whole evidence, so its file and line are the written file's.
 */
export async function scanAtCommit(evidence: RunEvidence, preFindings: Check[]): Promise<Check[]> {
  const pre = evidence.pre;
  const unseen = pre ? notInPre(pre.objects) : () => true;
  const files = evidenceFiles(evidence)
    .filter((file) => !(pre && file.path === EVIDENCE_ROLES.pre))
    .map((file) =>
      file.path === EVIDENCE_ROLES.post && evidence.post
        ? { ...file, content: { ...evidence.post, objects: evidence.post.objects.filter(unseen) } }
        : file,
    );
  const found = await scanEvidence(files);
  if (found.length === 0) return preFindings;
  const exact = await scanEvidence(evidenceFiles(evidence));
  return exact.length ? exact : [...preFindings, ...found];
}

/**
 * Is a POST object absent from PRE verbatim? The same object (an incremental POST capture hands on the
 * unchanged relations' objects themselves) is PRE's by definition; any other is compared, as JSON, with
 * the PRE object of its kind and name. Serializing every PRE object to compare took ~100 ms of held locks
 * at 2,000 tables; this serializes only the objects that were captured anew.
 */
function notInPre(
  preObjects: readonly Baseline['objects'][number][],
): (object: Baseline['objects'][number]) => boolean {
  const same = new Set(preObjects);
  const byName = new Map(preObjects.map((object) => [`${object.kind}\u0000${object.name}`, object]));
  return (object) => {
    if (same.has(object)) return false;
    const earlier = byName.get(`${object.kind}\u0000${object.name}`);
    return earlier === undefined || JSON.stringify(earlier) !== JSON.stringify(object);
  };
}

/** Scans evidence before anything is committed or written; returns failing checks (never the secret). */
export async function scanEvidence(files: ArtifactFile[]): Promise<Check[]> {
  const findings: PolicyFinding[] = [];
  for (const file of files) {
    const text = typeof file.content === 'string' ? file.content : canonicalJson(file.content);
    findings.push(...(await scanArtifact(file.path, text)).findings);
  }
  return findings.map((f) => ({
    name: `policy_scan:${f.file}`,
    rule: 'policy',
    status: 'fail',
    code: 'POLICY_SCAN_HIT',
    message: `${f.file}:${f.line} ${f.rule}: ${f.message}`,
  }));
}

function receiptInput(
  bundle: PreparedBundle | undefined,
  options: RunOptions,
  evidence: RunEvidence,
  outputs: BuildRunReceiptInput['outputs'],
): BuildRunReceiptInput {
  const declaration = bundle?.loaded.declaration;
  return {
    ...(declaration ? { migrationId: declaration.migration_id } : {}),
    operation: evidence.operation,
    store: evidence.store,
    actor: options.actor,
    environment: {
      name: options.environment,
      ...(options.gitCommit ? { git_commit: options.gitCommit } : {}),
      runner_version: options.runnerVersion,
    },
    params: {
      environment: options.environment,
      approval: options.approval ?? null,
      transactional: declaration ? declaration.transactional !== false : null,
      bundle_digest: bundle?.bundleDigest ?? null,
      operation: evidence.operation,
    },
    inputs: evidence.inputs ?? bundle?.inputs ?? [],
    outputs,
    checks: evidence.checks,
    outcome: evidence.outcome,
    fingerprints: {
      ...(evidence.pre ? { pre: evidence.pre.fingerprints.schema } : {}),
      ...(evidence.post ? { post: evidence.post.fingerprints.schema } : {}),
      ...(evidence.afterRollback ? { after_rollback: evidence.afterRollback.fingerprints.schema } : {}),
    },
    policy: {
      policy_label: 'public',
      ...(options.approval ? { approval_ref: options.approval } : {}),
      ...(declaration?.approvals.exception_ref ? { notes: `exception ${declaration.approvals.exception_ref}` } : {}),
    },
    ...(evidence.previousReceipt !== undefined ? { previousReceipt: evidence.previousReceipt } : {}),
    runType: evidence.operation === 'rehearse' ? 'rehearsal' : 'migration',
    startedAt: evidence.startedAt,
    finishedAt: evidence.finishedAt,
    details: { ...(bundle ? { bundle_digest: bundle.bundleDigest } : {}), ...evidence.details },
  };
}

/** The run id is fixed by the inputs, parameters and start time, so it is known before the store is touched. */
export function runIdentity(
  bundle: PreparedBundle | undefined,
  options: RunOptions,
  evidence: Pick<RunEvidence, 'operation' | 'store' | 'startedAt'>,
): string {
  const probe: RunEvidence = {
    ...evidence,
    finishedAt: evidence.startedAt,
    checks: [],
    outcome: { status: 'failed', exit_code: 1 },
    details: {},
  };
  return buildRunReceipt(receiptInput(bundle, options, probe, [])).run_id;
}

export interface WriteTarget {
  /** The bundle directory (or, for administrative runs, the registry directory). */
  dir: string;
  /** True for real runs of a bundle: refresh the reviewer-facing paths. */
  latest: boolean;
}

/** Writes per-run evidence, the receipt and PROV; for a latest run, then the reviewer-facing copies. */
export async function writeRun(
  bundle: PreparedBundle | undefined,
  options: RunOptions,
  evidence: RunEvidence,
  target: WriteTarget,
): Promise<{ ok: true; run: WrittenRun } | { ok: false; issues: Issue[] }> {
  const runId = runIdentity(bundle, options, evidence);
  const runDir = `${RUNS_DIR}/${runDirectoryName(runId)}`;
  // Serialized once: the per-run copy and the reviewer-facing one are the same text (at 2,000 tables,
  // serializing PRE and POST again for the second copy cost a quarter of a second).
  const byRole = Object.fromEntries(
    Object.entries(evidenceByRole(evidence)).map(([role, content]) => [role, serializeArtifact(content)]),
  ) as Partial<Record<EvidenceRole, string>>;
  const perRun = filesByRole(byRole, evidence.plan).map((file) => ({ ...file, path: `${runDir}/${file.path}` }));
  const writtenEvidence = await writeArtifacts(target.dir, perRun);
  if (!writtenEvidence.ok)
    return { ok: false, issues: [...writtenEvidence.issues, ...findingsToIssues(writtenEvidence.findings)] };
  const receipt = buildRunReceipt(
    receiptInput(
      bundle,
      options,
      evidence,
      writtenEvidence.written.map((w) => ({ path: w.path, digest: w.digest, bytes: w.bytes })),
    ),
  );
  // PROV is derived from the receipt, so the receipt cannot name it; verify rebuilds and compares it.
  const prov = buildProv(receipt);
  const provDigest = await digestOutputBytes('prov.jsonld', new TextEncoder().encode(canonicalJson(prov)));
  const attestation = attestationFiles({
    receipt,
    provDigest,
    ...(options.signingKey ? { signingKey: options.signingKey } : {}),
    directories: target.latest ? [runDir, 'receipts'] : [runDir],
  });
  const perRunReceipt = await writeArtifacts(target.dir, [
    { path: `${runDir}/run_receipt.json`, content: receipt },
    { path: `${runDir}/prov.jsonld`, content: prov },
    ...attestation.filter((file) => file.path.startsWith(runDir)),
  ]);
  if (!perRunReceipt.ok)
    return { ok: false, issues: [...perRunReceipt.issues, ...findingsToIssues(perRunReceipt.findings)] };
  const paths = [...writtenEvidence.written.map((w) => w.path), ...perRunReceipt.written.map((w) => w.path)];
  if (target.latest && bundle) {
    const latest = await refreshLatest(bundle, byRole, {
      prov,
      attestation: attestation.filter((file) => file.path.startsWith('receipts/')),
    });
    if (!latest.ok) return latest;
    // The latest receipt last: until it names this run, the reviewer-facing files it binds are not read as this run's.
    const head = await writeArtifacts(target.dir, [{ path: LATEST_RECEIPT, content: receipt }]);
    if (!head.ok) return { ok: false, issues: head.issues };
    paths.push(...latest.paths, LATEST_RECEIPT);
  }
  return {
    ok: true,
    run: { runId: receipt.run_id, receipt, receiptDigest: digestOfReceipt(receipt), paths: paths.sort() },
  };
}

/** Copies this run's evidence to the reviewer-facing paths and removes those it did not produce. */
async function refreshLatest(
  bundle: PreparedBundle,
  byRole: Partial<Record<EvidenceRole, string>>,
  companions: { prov: object; attestation: ArtifactFile[] },
): Promise<{ ok: true; paths: string[] } | { ok: false; issues: Issue[] }> {
  const files: ArtifactFile[] = [];
  const stale: string[] = [];
  for (const { role, latest } of evidencePaths(bundle.loaded.declaration.artifacts)) {
    const content = byRole[role];
    if (content === undefined) stale.push(latest);
    else files.push({ path: latest, content });
  }
  files.push({ path: 'receipts/prov.jsonld', content: companions.prov }, ...companions.attestation);
  const present = new Set(companions.attestation.map((file) => file.path));
  for (const companion of LATEST_COMPANIONS)
    if (companion !== 'prov.jsonld' && !present.has(`receipts/${companion}`)) stale.push(`receipts/${companion}`);
  const written = await writeArtifacts(bundle.loaded.bundleDir, files);
  if (!written.ok) return { ok: false, issues: [...written.issues, ...findingsToIssues(written.findings)] };
  for (const file of stale) await fs.rm(path.join(bundle.loaded.bundleDir, file), { force: true });
  return { ok: true, paths: written.written.map((w) => w.path) };
}

function findingsToIssues(findings: PolicyFinding[]): Issue[] {
  return findings.map((f) => ({
    code: 'POLICY_SCAN_HIT',
    file: f.file,
    line: f.line,
    message: `${f.rule}: ${f.message}`,
  }));
}
