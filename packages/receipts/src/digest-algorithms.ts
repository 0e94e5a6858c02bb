// The digest rules a receipt names in `digest_algorithm`, by name. Verification dispatches on that name,
// so a future `kfm-digest/v2` can be added beside v1 and receipts written under v1 stay checkable; a
// name this verifier does not know is refused rather than checked with the wrong rules.
import type { Issue, RunReceipt } from '@kfm/migration-contracts';
import { DIGEST_ALGORITHM, cidOfJsonSync } from './digest.js';
import { digestInput, digestOutput } from './file-digest.js';

export interface DigestAlgorithm {
  name: string;
  /** Digest of an input file (declaration, scripts): line endings and BOM normalized. */
  input(absPath: string): Promise<string>;
  /** Digest of an output file, byte for byte. */
  output(absPath: string): Promise<string>;
  /** Digest of a receipt value: what `previous_receipt` and receipt_ref record. */
  receipt(receipt: unknown): string;
}

const V1: DigestAlgorithm = {
  name: DIGEST_ALGORITHM,
  input: digestInput,
  output: digestOutput,
  receipt: (receipt) => cidOfJsonSync(receipt),
};

const ALGORITHMS: ReadonlyMap<string, DigestAlgorithm> = new Map([[V1.name, V1]]);

export const KNOWN_DIGEST_ALGORITHMS: readonly string[] = [...ALGORITHMS.keys()];

/**
 * The rules for a receipt. A receipt without the field predates it and can only mean v1 (the only rules
 * there were); any other name is an issue naming the field, and the receipt's digests are not checked.
 */
export function digestAlgorithmOf(
  receipt: Pick<RunReceipt, 'digest_algorithm'> | Record<string, unknown>,
  file?: string,
): { ok: true; algorithm: DigestAlgorithm } | { ok: false; issue: Issue } {
  const name = (receipt as { digest_algorithm?: unknown }).digest_algorithm;
  if (name === undefined) return { ok: true, algorithm: V1 };
  const algorithm = typeof name === 'string' ? ALGORITHMS.get(name) : undefined;
  if (algorithm) return { ok: true, algorithm };
  return {
    ok: false,
    issue: {
      code: 'SCHEMA_ENUM',
      ...(file ? { file } : {}),
      pointer: '/digest_algorithm',
      message: `unknown digest algorithm ${JSON.stringify(name)}: this verifier cannot recompute its digests`,
      expected: `one of ${KNOWN_DIGEST_ALGORITHMS.join(', ')}`,
      found: String(name),
    },
  };
}
