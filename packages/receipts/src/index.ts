// @kfm/receipts: content addressing, run receipts, PROV, verification and the policy-safe scan.
export { DIGEST_ALGORITHM, canonicalBytes, canonicalJson, cidOfBytes, cidOfJson, cidOfJsonSync, cidOfScript, inspectCid } from './digest.js';
export { digestInput, digestInputBytes, digestInputText, digestOutput, digestOutputBytes, normalizeInputBytes, outputCodec } from './file-digest.js';
export {
  buildRunReceipt,
  digestOfReceipt,
  runDirectoryName,
  runIdFor,
  validateRunReceipt,
  type BuildRunReceiptInput,
  type ReceiptOperation,
  type ReceiptOutcome,
} from './receipt.js';
export { PROV_CONTEXT, buildProv, type ProvDocument, type ProvNode } from './prov.js';
export { buildReceiptRef, validateReceiptRef, type BuildReceiptRefInput } from './receipt-ref.js';
export { assertPolicySafe, policyFindingToIssue, scanArtifact, type PolicyFinding, type ScanResult } from './policy-scan.js';
export { serializeArtifact, writeArtifacts, type ArtifactFile, type WriteArtifactsResult, type WrittenArtifact } from './artifact-writer.js';
export { LATEST_RECEIPT, RECEIPT_REF, RUNS_DIR, digestsMatch, verifyBundle, verifyReceiptFile, type VerifiedFile, type VerifyResult } from './verify.js';
