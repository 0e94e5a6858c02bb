// The in-toto Statement v1 of a run receipt: the subject is the migration bundle itself (declaration +
// forward + rollback, line endings normalized), the predicate is the receipt with its PRE baseline as the
// resolved dependency and the other evidence (POST, diff, PROV, …) as byproducts. Pure: everything it
// names comes from the receipt and the digests handed in, so a verifier can rebuild it byte for byte.
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { FileDigest, RunReceipt } from '@kfm/migration-contracts';
import { canonicalJson, inspectCid } from './digest.js';
import { runDirectoryName } from './receipt.js';
import { RUNS_DIR } from './bundle-layout.js';

export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const RUN_RECEIPT_PREDICATE_TYPE = 'https://schemas.kfm.dev/migrations/predicate/run-receipt/v1';

/** An in-toto ResourceDescriptor: a bundle file by path and sha-256 (the CID kept as an annotation). */
export interface ResourceDescriptor {
  name: string;
  digest: { sha256: string };
  mediaType?: string;
  annotations?: Record<string, string>;
}

export interface RunReceiptStatement {
  _type: typeof STATEMENT_TYPE;
  subject: [{ name: string; digest: { sha256: string } }];
  predicateType: typeof RUN_RECEIPT_PREDICATE_TYPE;
  predicate: { receipt: RunReceipt; resolvedDependencies: ResourceDescriptor[]; byproducts: ResourceDescriptor[] };
}

/**
 * The bundle digest (hex sha-256): over the canonical JSON of `[{digest, path}]` of the declaration and
 * every script, sorted by path, where each digest is the input's CID (BOM dropped, CRLF/CR → LF). By hand:
 * `jq -cj '[.inputs[] | {digest, path}] | sort_by(.path)' run_receipt.json | sha256sum`.
 */
export function bundleDigest(inputs: readonly Pick<FileDigest, 'path' | 'digest'>[]): string {
  const list = inputs
    .map((file) => ({ digest: file.digest, path: file.path }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return createHash('sha256').update(canonicalJson(list)).digest('hex');
}

/**
 * The bundle's one identity, `sha256:<bundleDigest>`: what approvals name, what the store ledger records
 * for an applied migration (a changed declaration or script is drift), and the in-toto subject.
 */
export function bundleId(inputs: readonly Pick<FileDigest, 'path' | 'digest'>[]): string {
  return `sha256:${bundleDigest(inputs)}`;
}

/** The sha-256 (hex) a digest string holds: inside a CID, or after `sha256:`; '' when it holds none. */
export function sha256HexOf(digest: string): string {
  if (digest.startsWith('sha256:')) return digest.slice('sha256:'.length).toLowerCase();
  try {
    return inspectCid(digest).sha256Hex;
  } catch {
    // A malformed (e.g. tampered) CID: the statement cannot match, and the file check reports it.
    return '';
  }
}

/** Where a run's per-run evidence lives: `receipts/runs/<run-dir>`. */
export function runDirectoryOf(receipt: Pick<RunReceipt, 'run_id'>): string {
  return `${RUNS_DIR}/${runDirectoryName(receipt.run_id)}`;
}

export interface StatementInput {
  receipt: RunReceipt;
  /** bundleDigest() of the declaration and scripts as they are now. */
  bundleDigest: string;
  /** Digest of the run's PROV document (per-run copy), which the receipt cannot list. */
  provDigest?: string;
}

/** Builds the statement; the same inputs always give the same canonical bytes. */
export function buildStatement(input: StatementInput): RunReceiptStatement {
  const { receipt } = input;
  const files: FileDigest[] = [...receipt.outputs];
  if (input.provDigest) files.push({ path: `${runDirectoryOf(receipt)}/prov.jsonld`, digest: input.provDigest });
  const isPre = (file: FileDigest) => file.path.endsWith('baselines/pre.json');
  return {
    _type: STATEMENT_TYPE,
    subject: [
      { name: receipt.migration_id ?? receipt.subject ?? receipt.run_id, digest: { sha256: input.bundleDigest } },
    ],
    predicateType: RUN_RECEIPT_PREDICATE_TYPE,
    predicate: {
      receipt,
      resolvedDependencies: descriptors(files.filter(isPre)),
      byproducts: descriptors(files.filter((file) => !isPre(file))),
    },
  };
}

function descriptors(files: FileDigest[]): ResourceDescriptor[] {
  return files
    .map((file) => ({
      name: file.path,
      digest: { sha256: sha256HexOf(file.digest) },
      mediaType: mediaTypeOf(file.path),
      annotations: { digest: file.digest },
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const MEDIA_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.jsonld': 'application/ld+json',
  '.csv': 'text/csv',
  '.md': 'text/markdown',
};

function mediaTypeOf(name: string): string {
  return MEDIA_TYPES[path.posix.extname(name).toLowerCase()] ?? 'application/octet-stream';
}
