// @kfm/receipts: content addressing, run receipts, PROV, verification and the policy-safe scan.
export { DIGEST_ALGORITHM, canonicalBytes, canonicalJson, cidOfBytes, cidOfJson, cidOfScript, inspectCid } from './digest.js';
