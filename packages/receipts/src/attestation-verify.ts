// Checks the in-toto statement beside a receipt (and, given public keys, its DSSE signature): the
// statement is rebuilt from the receipt, the bundle's declaration and scripts as they are now and the
// PROV file, and must match what is on disk; the signed payload must be exactly the statement's bytes.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import { parseJson, resolveInBundle, validateValue, type Issue, type RunReceipt } from '@kfm/migration-contracts';
import { ENVELOPE_FILE, STATEMENT_FILE } from './bundle-layout.js';
import { canonicalJson, cidOfJsonSync } from './digest.js';
import type { DigestAlgorithm } from './digest-algorithms.js';
import { verifyEnvelope } from './dsse.js';
import {
  buildStatement,
  bundleDigest,
  runDirectoryOf,
  type ResourceDescriptor,
  type RunReceiptStatement,
} from './statement.js';

export interface AttestationCheck {
  /** Bundle-relative receipt the statement belongs to. */
  receipt: string;
  statement: 'ok' | 'absent' | 'mismatch';
  signature: 'verified' | 'absent' | 'invalid' | 'not_checked';
  /** Key id (sha-256 of the public key) whose signature verified. */
  keyid?: string;
}

export interface AttestationArgs {
  bundleDir: string;
  /** Bundle-relative receipt name, e.g. receipts/runs/<dir>/run_receipt.json. */
  receiptName: string;
  receiptAbs: string;
  receipt: RunReceipt;
  algorithm: DigestAlgorithm;
  /** With keys, every receipt needs a statement and an envelope that verifies with one of them. */
  publicKeys?: readonly KeyObject[];
}

export async function checkAttestation(args: AttestationArgs): Promise<{ check: AttestationCheck; issues: Issue[] }> {
  const { receiptName, receipt } = args;
  const dir = path.posix.dirname(receiptName);
  const statementName = `${dir}/${STATEMENT_FILE}`;
  const envelopeName = `${dir}/${ENVELOPE_FILE}`;
  const statementAbs = path.join(path.dirname(args.receiptAbs), STATEMENT_FILE);
  const envelopeAbs = path.join(path.dirname(args.receiptAbs), ENVELOPE_FILE);
  const keys = args.publicKeys ?? [];
  const check: AttestationCheck = {
    receipt: receiptName,
    statement: 'absent',
    signature: keys.length ? 'absent' : 'not_checked',
  };
  const issues: Issue[] = [];

  const statementText = await readText(statementAbs);
  if (statementText === undefined) {
    // Receipts written before statements existed have none; a signature, when asked for, needs one.
    if (keys.length)
      issues.push({
        code: 'RECEIPT_FILE_MISSING',
        file: statementName,
        message: `${receiptName} has no in-toto statement to check a signature of`,
      });
    return { check, issues };
  }
  const parsed = parseJson(statementText, statementName);
  if (!parsed.ok) return { check: { ...check, statement: 'mismatch' }, issues: parsed.issues };
  const schemaIssues = validateValue('run_receipt_statement.v1', parsed.document.value, parsed.document);
  const found = parsed.document.value as RunReceiptStatement;
  const expected = buildStatement({
    receipt,
    bundleDigest: await currentBundleDigest(args),
    ...(await provDigest(args)),
  });
  const differences = schemaIssues.length
    ? schemaIssues
    : compareStatements(expected, found, statementName, receiptName);
  issues.push(...differences);
  check.statement = differences.length ? 'mismatch' : 'ok';

  if (keys.length) {
    const envelopeText = await readText(envelopeAbs);
    if (envelopeText === undefined) {
      issues.push({
        code: 'RECEIPT_FILE_MISSING',
        file: envelopeName,
        message: `${statementName} is not signed (no DSSE envelope beside it)`,
      });
      return { check, issues };
    }
    const envelope = parseJson(envelopeText, envelopeName);
    const verified = envelope.ok
      ? verifyEnvelope(envelope.document.value, keys)
      : { ok: false as const, reason: 'the envelope is not valid JSON' };
    if (!verified.ok) {
      check.signature = 'invalid';
      issues.push({
        code: 'RECEIPT_DIGEST_MISMATCH',
        file: envelopeName,
        message: `signature check failed: ${verified.reason}`,
      });
    } else if (verified.payload.toString('utf8') !== statementText) {
      check.signature = 'invalid';
      issues.push({
        code: 'RECEIPT_DIGEST_MISMATCH',
        file: statementName,
        message: `the signed payload in ${envelopeName} is not this statement`,
        expected: cidOfJsonSync(safeParse(verified.payload.toString('utf8'))),
        found: cidOfJsonSync(found),
      });
    } else {
      check.signature = 'verified';
      check.keyid = verified.keyid;
    }
  }
  return { check, issues };
}

/** The bundle digest over the inputs as they are now; a missing input keeps its recorded digest (reported elsewhere). */
async function currentBundleDigest(args: AttestationArgs): Promise<string> {
  const inputs = await Promise.all(
    args.receipt.inputs.map(async (file) => {
      const resolved = await resolveInBundle(args.bundleDir, file.path);
      if (!resolved.ok || !resolved.exists) return { path: file.path, digest: file.digest };
      try {
        return { path: file.path, digest: await args.algorithm.input(resolved.path) };
      } catch {
        return { path: file.path, digest: file.digest };
      }
    }),
  );
  return bundleDigest(inputs);
}

async function provDigest(args: AttestationArgs): Promise<{ provDigest?: string }> {
  const resolved = await resolveInBundle(args.bundleDir, `${runDirectoryOf(args.receipt)}/prov.jsonld`);
  if (!resolved.ok || !resolved.exists) return {};
  try {
    return { provDigest: await args.algorithm.output(resolved.path) };
  } catch {
    return {};
  }
}

/**
 * Names each part that differs: the receipt, the bundle (subject), a dependency / byproduct file. As for
 * files, `expected` is what the statement records and `found` what the receipt and the files give now.
 */
function compareStatements(
  expected: RunReceiptStatement,
  found: RunReceiptStatement,
  file: string,
  receiptName: string,
): Issue[] {
  if (canonicalJson(expected) === canonicalJson(found)) return [];
  const issues: Issue[] = [];
  if (canonicalJson(found.predicate.receipt) !== canonicalJson(expected.predicate.receipt)) {
    issues.push({
      code: 'RECEIPT_DIGEST_MISMATCH',
      file,
      pointer: '/predicate/receipt',
      message: `the statement's receipt is not ${receiptName}`,
      expected: cidOfJsonSync(found.predicate.receipt),
      found: cidOfJsonSync(expected.predicate.receipt),
    });
  }
  const [want] = expected.subject;
  const [got] = found.subject;
  if (got.name !== want.name || got.digest.sha256 !== want.digest.sha256) {
    issues.push({
      code: 'RECEIPT_DIGEST_MISMATCH',
      file,
      pointer: '/subject/0',
      message: 'the bundle (declaration + forward + rollback) does not have the digest the statement names',
      expected: `${got.name} sha256:${got.digest.sha256}`,
      found: `${want.name} sha256:${want.digest.sha256}`,
    });
  }
  for (const part of ['resolvedDependencies', 'byproducts'] as const) {
    issues.push(...compareDescriptors(expected.predicate[part], found.predicate[part], file, `/predicate/${part}`));
  }
  if (issues.length === 0)
    issues.push({
      code: 'RECEIPT_DIGEST_MISMATCH',
      file,
      message: 'the statement differs from the one its receipt and bundle give',
      expected: cidOfJsonSync(found),
      found: cidOfJsonSync(expected),
    });
  return issues;
}

function compareDescriptors(
  expected: ResourceDescriptor[],
  found: ResourceDescriptor[],
  file: string,
  pointer: string,
): Issue[] {
  const issues: Issue[] = [];
  const byName = new Map(found.map((d) => [d.name, d]));
  for (const want of expected) {
    const got = byName.get(want.name);
    byName.delete(want.name);
    if (!got)
      issues.push({ code: 'RECEIPT_FILE_MISSING', file, pointer, message: `the statement does not name ${want.name}` });
    else if (canonicalJson(got) !== canonicalJson(want)) {
      issues.push({
        code: 'RECEIPT_DIGEST_MISMATCH',
        file,
        pointer,
        message: `${want.name} does not have the digest the statement records`,
        expected: `sha256:${got.digest.sha256}`,
        found: `sha256:${want.digest.sha256}`,
      });
    }
  }
  for (const extra of byName.keys())
    issues.push({
      code: 'RECEIPT_DIGEST_MISMATCH',
      file,
      pointer,
      message: `the statement names ${extra}, which its receipt does not`,
    });
  return issues;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
