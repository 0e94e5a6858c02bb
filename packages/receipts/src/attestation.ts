// The attestation files written beside a receipt: its in-toto statement (canonical JSON) and, when a
// signing key is given, the DSSE envelope over exactly those bytes. Pure: the caller writes them (through
// writeArtifacts, so they pass the policy scan like every other artifact).
import type { KeyObject } from 'node:crypto';
import type { RunReceipt } from '@kfm/migration-contracts';
import type { ArtifactFile } from './artifact-writer.js';
import { ENVELOPE_FILE, STATEMENT_FILE } from './bundle-layout.js';
import { canonicalJson } from './digest.js';
import { signEnvelope } from './dsse.js';
import { buildStatement, bundleDigest } from './statement.js';

export interface AttestationInput {
  /** The receipt as written; its inputs (declaration + scripts) give the statement's subject. */
  receipt: RunReceipt;
  /** Digest of the run's per-run prov.jsonld. */
  provDigest?: string;
  /** Ed25519 private key; without it no envelope is written. It never enters an artifact. */
  signingKey?: KeyObject;
  /** Bundle-relative directories to write the files into (e.g. the run's directory and receipts/). */
  directories: readonly string[];
}

export function attestationFiles(input: AttestationInput): ArtifactFile[] {
  const statement = buildStatement({
    receipt: input.receipt,
    bundleDigest: bundleDigest(input.receipt.inputs),
    ...(input.provDigest ? { provDigest: input.provDigest } : {}),
  });
  const text = canonicalJson(statement);
  const envelope = input.signingKey ? signEnvelope(new TextEncoder().encode(text), input.signingKey) : undefined;
  return input.directories.flatMap((dir) => [
    { path: `${dir}/${STATEMENT_FILE}`, content: text },
    ...(envelope ? [{ path: `${dir}/${ENVELOPE_FILE}`, content: envelope }] : []),
  ]);
}
