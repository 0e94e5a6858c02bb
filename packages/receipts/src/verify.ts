// Independent verification of a bundle's evidence: every receipt must validate against its schema, and
// every file a receipt names must still have the digest it records. A receipt cannot hold its own digest,
// so receipts themselves are checked by schema, by the in-toto statement beside them (rebuilt from the
// receipt and the bundle), by its DSSE signature when public keys are given, and by receipt_ref.json.
// Digests are recomputed with the rules the receipt names in `digest_algorithm`.
import type { KeyObject } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  loadDeclaration,
  parseJson,
  resolveInBundle,
  validateValue,
  type Issue,
  type RunReceipt,
  type SchemaName,
} from '@kfm/migration-contracts';
import { checkAttestation, type AttestationCheck } from './attestation-verify.js';
import { LATEST_COMPANIONS, LATEST_RECEIPT, PLAN_FILE, RECEIPT_REF, RUNS_DIR, evidencePaths } from './bundle-layout.js';
import { canonicalJson, inspectCid } from './digest.js';
import { digestAlgorithmOf, type DigestAlgorithm } from './digest-algorithms.js';
import { digestInput, digestOutput } from './file-digest.js';
import { runDirectoryOf } from './statement.js';

export { LATEST_RECEIPT, RECEIPT_REF, RUNS_DIR };

export interface VerifiedFile {
  /** Bundle-relative path, as the receipt records it. */
  path: string;
  expected: string;
  actual?: string;
  status: 'ok' | 'mismatch' | 'missing';
  /** Which receipt (bundle-relative) first named the file, and as what. */
  receipt: string;
  kind: 'input' | 'output' | 'receipt';
}

export interface VerifyResult {
  ok: boolean;
  receipts: string[];
  files: VerifiedFile[];
  /** One per receipt: its in-toto statement and, with public keys, its signature. */
  attestations: AttestationCheck[];
  issues: Issue[];
}

export interface VerifyOptions {
  /** Ed25519 public keys: every receipt must then carry a statement whose DSSE envelope one of them verifies. */
  publicKeys?: readonly KeyObject[];
}

/** Verifies the latest receipt, every per-run receipt and receipt_ref.json of a bundle. */
export async function verifyBundle(bundleDir: string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const state = new VerifyState(bundleDir, options);
  const receipts = [LATEST_RECEIPT, ...(await perRunReceipts(bundleDir))];
  let found = 0;
  for (const receipt of receipts) {
    if (!(await isFile(path.join(bundleDir, receipt)))) continue;
    found++;
    // A receipt reached through a symlink leaving the bundle is not this bundle's evidence.
    const resolved = await resolveInBundle(bundleDir, receipt);
    if (!resolved.ok) state.issues.push({ ...resolved.issue, file: receipt });
    else await state.checkReceipt(receipt, resolved.path);
  }
  const hasRef = await isFile(path.join(bundleDir, RECEIPT_REF));
  if (hasRef) await state.checkReceiptRef(RECEIPT_REF);
  await state.checkEvidenceBinding();
  // A bundle whose receipt lives in an artifact store keeps only receipt_ref.json; with neither there is no evidence.
  if (found === 0 && !hasRef) {
    state.issues.push({
      code: 'RECEIPT_FILE_MISSING',
      file: LATEST_RECEIPT,
      message: 'the bundle has no run receipt (nor receipts/receipt_ref.json)',
    });
  }
  return state.result();
}

/** Verifies one receipt file against the bundle its paths are relative to. */
export async function verifyReceiptFile(
  receiptPath: string,
  bundleDir: string,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const state = new VerifyState(bundleDir, options);
  const relative = path.relative(bundleDir, path.resolve(receiptPath));
  const name =
    relative.startsWith('..') || path.isAbsolute(relative) ? receiptPath : relative.split(path.sep).join('/');
  if (!(await isFile(path.resolve(receiptPath)))) {
    state.issues.push({ code: 'RECEIPT_FILE_MISSING', file: name, message: 'the receipt file does not exist' });
  } else {
    await state.checkReceipt(name, path.resolve(receiptPath));
  }
  return state.result();
}

class VerifyState {
  readonly issues: Issue[] = [];
  /** Schema-valid receipts by bundle-relative name, for the evidence binding. */
  private readonly valid = new Map<string, RunReceipt>();
  private readonly receipts: string[] = [];
  private readonly files: VerifiedFile[] = [];
  private readonly attestations: AttestationCheck[] = [];
  private readonly checked = new Set<string>();

  constructor(
    private readonly bundleDir: string,
    private readonly options: VerifyOptions = {},
  ) {}

  result(): VerifyResult {
    return {
      ok: this.issues.length === 0,
      receipts: this.receipts,
      files: this.files,
      attestations: this.attestations,
      issues: this.issues,
    };
  }

  async checkReceipt(name: string, absolute = path.join(this.bundleDir, name)): Promise<void> {
    this.receipts.push(name);
    const issuesBefore = this.issues.length;
    const value = await this.load(name, absolute, 'run_receipt.v1');
    if (value === undefined) return;
    const algorithm = digestAlgorithmOf(value as Record<string, unknown>, name);
    if (!algorithm.ok) {
      this.issues.push(algorithm.issue);
      return;
    }
    for (const kind of ['input', 'output'] as const) {
      const entries = (value as Record<string, unknown>)[`${kind}s`];
      if (!Array.isArray(entries)) continue;
      for (const entry of entries) {
        if (!isFileDigest(entry)) continue;
        await this.checkFile(entry.path, entry.digest, kind, name, algorithm.algorithm);
      }
    }
    // Statements are rebuilt from a schema-valid receipt only; an invalid one is already reported.
    if (this.issues.length > issuesBefore && this.issues.slice(issuesBefore).some((issue) => issue.file === name))
      return;
    const receipt = value as unknown as RunReceipt;
    this.valid.set(name, receipt);
    if (name === LATEST_RECEIPT) await this.checkLatestCopy(receipt);
    const attestation = await checkAttestation({
      bundleDir: this.bundleDir,
      receiptName: name,
      receiptAbs: absolute,
      receipt,
      algorithm: algorithm.algorithm,
      ...(this.options.publicKeys ? { publicKeys: this.options.publicKeys } : {}),
    });
    this.attestations.push(attestation.check);
    this.issues.push(...attestation.issues);
  }

  /** The latest receipt is a copy of its run's own receipt: they must not differ. */
  private async checkLatestCopy(receipt: RunReceipt): Promise<void> {
    const perRun = `${runDirectoryOf(receipt)}/run_receipt.json`;
    const resolved = await resolveInBundle(this.bundleDir, perRun);
    if (!resolved.ok || !resolved.exists) return;
    const copy = parseJson(await fs.readFile(resolved.path, 'utf8'), perRun);
    if (copy.ok && canonicalJson(copy.document.value) !== canonicalJson(receipt)) {
      this.issues.push({
        code: 'RECEIPT_DIGEST_MISMATCH',
        file: LATEST_RECEIPT,
        message: `the latest receipt differs from its run's own copy ${perRun}`,
      });
    }
  }

  /**
   * The files a reviewer reads are bound to the latest run: every file at a conventional or declared
   * evidence path (and the receipt's companions at receipts/) must be byte-identical to that run's own
   * copy, and must not exist when that run did not produce it. plan.json is bound to the newest plan run.
   */
  async checkEvidenceBinding(): Promise<void> {
    const latest = this.valid.get(LATEST_RECEIPT);
    // An unreadable latest receipt is reported already; binding files to it would only repeat that.
    if (!latest && this.receipts.includes(LATEST_RECEIPT)) return;
    const declared = await loadDeclaration(this.bundleDir);
    const paths = evidencePaths(declared.ok ? declared.declaration.artifacts : undefined);
    const runDir = latest ? runDirectoryOf(latest) : undefined;
    const recorded = new Map((latest?.outputs ?? []).map((output) => [output.path, output.digest]));
    for (const { latest: file, runCopy } of paths) {
      // A receipt that names the reviewer's path itself (hand-written layouts) binds it by its own digest check.
      if (recorded.has(file)) continue;
      const copy = runDir ? `${runDir}/${runCopy}` : undefined;
      await this.bind(
        file,
        copy && recorded.has(copy) ? { copy, digest: recorded.get(copy) as string } : undefined,
        latest ? `the latest run ${latest.run_id}` : 'no run',
      );
    }
    for (const companion of LATEST_COMPANIONS) {
      const file = `receipts/${companion}`;
      if (recorded.has(file)) continue;
      const copy = runDir ? `${runDir}/${companion}` : undefined;
      const copyExists = copy ? await isFile(path.join(this.bundleDir, copy)) : false;
      // The run copy's recorded digest when the receipt lists it (PROV of hand-built layouts), else its bytes.
      const digest =
        copy && copyExists ? (recorded.get(copy) ?? (await digestOutput(path.join(this.bundleDir, copy)))) : undefined;
      await this.bind(
        file,
        copy && digest ? { copy, digest } : undefined,
        latest ? `the latest run ${latest.run_id}` : 'no run',
      );
    }
    const plans = [...this.valid.entries()]
      .filter(([name, receipt]) => name !== LATEST_RECEIPT && receipt.operation === 'plan')
      .sort(([, a], [, b]) => (a.finished_at < b.finished_at ? -1 : a.finished_at > b.finished_at ? 1 : 0));
    const newestPlan = plans[plans.length - 1]?.[1];
    const planCopy = newestPlan ? `${runDirectoryOf(newestPlan)}/${PLAN_FILE}` : undefined;
    const planDigest = newestPlan?.outputs.find((output) => output.path === planCopy)?.digest;
    await this.bind(
      PLAN_FILE,
      planCopy && planDigest ? { copy: planCopy, digest: planDigest } : undefined,
      newestPlan ? `the newest plan run ${newestPlan.run_id}` : 'no plan run',
    );
  }

  /** `file` must equal the run copy's recorded digest, or not exist when there is no copy. */
  private async bind(file: string, copy: { copy: string; digest: string } | undefined, which: string): Promise<void> {
    const absolute = path.join(this.bundleDir, file);
    const exists = await isFile(absolute);
    if (!copy) {
      if (exists)
        this.issues.push({
          code: 'EVIDENCE_STALE',
          file,
          message: `${file} exists but ${which === 'no run' || which === 'no plan run' ? `there is ${which} that produced it` : `${which} did not produce it`}: it is stale or planted evidence`,
          expected: 'no file',
          found: await digestOutput(absolute),
        });
      return;
    }
    if (!exists) {
      this.issues.push({
        code: 'EVIDENCE_MISMATCH',
        file,
        message: `${file} is missing although ${which} produced ${copy.copy}`,
        expected: copy.digest,
        found: 'nothing',
      });
      return;
    }
    const actual = await digestOutput(absolute);
    if (!digestsMatch(copy.digest, actual)) {
      this.issues.push({
        code: 'EVIDENCE_MISMATCH',
        file,
        message: `${file} differs from ${which}'s copy ${copy.copy} (byte for byte)`,
        expected: copy.digest,
        found: actual,
      });
    }
  }

  async checkReceiptRef(name: string): Promise<void> {
    this.receipts.push(name);
    const value = await this.load(name, path.join(this.bundleDir, name), 'receipt_ref.v1');
    if (value === undefined) return;
    const { location, receipt_digest: digest } = value as { location?: unknown; receipt_digest?: unknown };
    // Only a location inside the bundle can be checked here; a URI is fetched and checked by its consumer.
    if (typeof location === 'string' && typeof digest === 'string' && !/^[a-z][a-z0-9+.-]*:/i.test(location)) {
      await this.checkFile(location, digest, 'receipt', name);
    }
  }

  /** Reads, parses and schema-checks a receipt; undefined when it cannot be used for digest checks. */
  private async load(name: string, absolute: string, schema: SchemaName): Promise<unknown> {
    const parsed = parseJson(await fs.readFile(absolute, 'utf8'), name);
    if (!parsed.ok) {
      this.issues.push(...parsed.issues);
      return undefined;
    }
    this.issues.push(...validateValue(schema, parsed.document.value, parsed.document));
    const value = parsed.document.value;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  }

  private async checkFile(
    relative: string,
    expected: string,
    kind: VerifiedFile['kind'],
    receipt: string,
    algorithm?: DigestAlgorithm,
  ): Promise<void> {
    const key = `${kind}\u0000${relative}\u0000${expected}`;
    if (this.checked.has(key)) return;
    this.checked.add(key);
    const entry: VerifiedFile = { path: relative, expected, status: 'missing', receipt, kind };
    this.files.push(entry);
    const resolved = await resolveInBundle(this.bundleDir, relative);
    if (!resolved.ok) {
      this.issues.push({
        ...resolved.issue,
        file: relative,
        message: `${resolved.issue.message} (named by ${receipt})`,
      });
      return;
    }
    if (!resolved.exists || !(await isFile(resolved.path))) {
      this.issues.push({
        code: 'RECEIPT_FILE_MISSING',
        file: relative,
        message: `${receipt} names ${relative}, which does not exist`,
        expected,
        found: 'nothing',
      });
      return;
    }
    const actual =
      kind === 'input'
        ? await (algorithm?.input ?? digestInput)(resolved.path)
        : await (algorithm?.output ?? digestOutput)(resolved.path);
    entry.actual = actual;
    if (digestsMatch(expected, actual)) {
      entry.status = 'ok';
      return;
    }
    entry.status = 'mismatch';
    this.issues.push({
      code: 'RECEIPT_DIGEST_MISMATCH',
      file: relative,
      message: `${relative} no longer has the digest ${receipt} records`,
      expected,
      found: actual,
    });
  }
}

/**
 * A CID must match exactly (codec and hash); a `sha256:<hex>` digest, as hand-written receipts use, is
 * compared with the sha-256 inside the recomputed CID, i.e. over the same (normalized for inputs) bytes.
 */
export function digestsMatch(expected: string, actual: string): boolean {
  if (expected.startsWith('sha256:'))
    return expected.slice('sha256:'.length).toLowerCase() === inspectCid(actual).sha256Hex;
  return expected === actual;
}

async function perRunReceipts(bundleDir: string): Promise<string[]> {
  let entries: string[];
  try {
    entries = await fs.readdir(path.join(bundleDir, RUNS_DIR));
  } catch {
    return [];
  }
  const receipts: string[] = [];
  for (const entry of entries.sort()) {
    const candidate = `${RUNS_DIR}/${entry}/run_receipt.json`;
    if (await isFile(path.join(bundleDir, candidate))) receipts.push(candidate);
  }
  return receipts;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

function isFileDigest(value: unknown): value is { path: string; digest: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { path?: unknown }).path === 'string' &&
    typeof (value as { digest?: unknown }).digest === 'string'
  );
}
