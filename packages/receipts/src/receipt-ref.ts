// receipt_ref.json: the pointer a bundle keeps in git when the receipt itself lives in an immutable
// artifact store (the production preference). It pins the receipt by digest, so the copy can be checked.
import { validateValue, type Issue, type ReceiptRef, type RunReceipt } from '@kfm/migration-contracts';

export interface BuildReceiptRefInput {
  receipt: Pick<RunReceipt, 'run_id' | 'migration_id'>;
  /** Digest of the receipt as stored (see digestOfReceipt / digestOutput). */
  receiptDigest: string;
  /** Where the receipt is kept: a URI, or a path relative to the bundle. Never a URL with credentials. */
  location: string;
  bytes?: number;
  /** RFC 3339, injected. */
  storedAt?: string;
  mediaType?: string;
}

export function buildReceiptRef(input: BuildReceiptRefInput): ReceiptRef {
  const ref: ReceiptRef = {
    kfm_receipt_ref_version: 'v1',
    run_id: input.receipt.run_id,
    migration_id: input.receipt.migration_id ?? '',
    receipt_digest: input.receiptDigest,
    location: input.location,
    media_type: input.mediaType ?? 'application/json',
  };
  if (input.bytes !== undefined) ref.bytes = input.bytes;
  if (input.storedAt !== undefined) ref.stored_at = input.storedAt;
  return ref;
}

/** Schema validation of a receipt_ref; [] when valid. */
export function validateReceiptRef(value: unknown): Issue[] {
  return validateValue('receipt_ref.v1', value);
}
