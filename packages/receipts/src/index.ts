// @kfm/receipts: content addressing, run receipts, PROV, verification and the policy-safe scan.
export {
  DIGEST_ALGORITHM,
  canonicalBytes,
  canonicalJson,
  cidOfBytes,
  cidOfJson,
  cidOfJsonSync,
  cidOfScript,
  inspectCid,
} from './digest.js';
export { fingerprintOf } from './fingerprint.js';
export {
  digestInput,
  digestInputBytes,
  digestInputText,
  digestOutput,
  digestOutputBytes,
  normalizeInputBytes,
  outputCodec,
} from './file-digest.js';
export {
  buildRunReceipt,
  digestOfReceipt,
  runDirectoryName,
  runIdFor,
  validateRunReceipt,
  type BuildRunReceiptInput,
  type ReceiptDetails,
  type ReceiptOperation,
  type ReceiptOutcome,
} from './receipt.js';
export { PROV_CONTEXT, buildProv, type ProvDocument, type ProvNode } from './prov.js';
export { buildReceiptRef, validateReceiptRef, type BuildReceiptRefInput } from './receipt-ref.js';
export {
  assertPolicySafe,
  policyFindingToIssue,
  scanArtifact,
  type PolicyFinding,
  type ScanResult,
} from './policy-scan.js';
export {
  serializeArtifact,
  writeArtifacts,
  type ArtifactFile,
  type WriteArtifactsResult,
  type WrittenArtifact,
} from './artifact-writer.js';
export {
  LATEST_RECEIPT,
  RECEIPT_REF,
  RUNS_DIR,
  digestsMatch,
  verifyBundle,
  verifyReceiptFile,
  type VerifiedFile,
  type VerifyOptions,
  type VerifyResult,
} from './verify.js';
export {
  ENVELOPE_FILE,
  EVIDENCE_ROLES,
  LATEST_COMPANIONS,
  PLAN_FILE,
  RECEIPT_FILE,
  STATEMENT_FILE,
  evidencePaths,
  type DeclaredEvidence,
  type EvidenceRole,
} from './bundle-layout.js';
export { KNOWN_DIGEST_ALGORITHMS, digestAlgorithmOf, type DigestAlgorithm } from './digest-algorithms.js';
export {
  RUN_RECEIPT_PREDICATE_TYPE,
  STATEMENT_TYPE,
  buildStatement,
  bundleDigest,
  bundleId,
  runDirectoryOf,
  sha256HexOf,
  type ResourceDescriptor,
  type RunReceiptStatement,
  type StatementInput,
} from './statement.js';
export {
  DSSE_PAYLOAD_TYPE,
  keyIdOf,
  parseSigningKey,
  parseVerifyKey,
  preAuthEncoding,
  signEnvelope,
  verifyEnvelope,
  type DsseEnvelope,
  type DsseSignature,
  type EnvelopeCheck,
  type KeyResult,
} from './dsse.js';
export { attestationFiles, type AttestationInput } from './attestation.js';
export { checkAttestation, type AttestationCheck } from './attestation-verify.js';
export { verifyChain, type Chain, type ChainBreak, type ChainLink, type ChainResult } from './chain.js';
