// Content addressing: RFC 8785 canonical JSON and CIDv1 (sha2-256) digests.
// JSON artifacts use the json codec over canonical bytes (bagaaiera…), files the raw codec (bafkrei…).
import canonicalizeModule from 'canonicalize';
import { JSON_CODEC, RAW_CODEC, cidOf, parseCid } from './cid.js';

const canonicalizeFn = canonicalizeModule as unknown as (value: unknown) => string | undefined;

/** The versioned name of the digest rules, recorded in every receipt so old receipts stay checkable. */
export const DIGEST_ALGORITHM = 'kfm-digest/v1';

/** RFC 8785 (JCS) canonical JSON text. */
export function canonicalJson(value: unknown): string {
  const text = canonicalizeFn(value);
  if (text === undefined) throw new TypeError('value cannot be represented as JSON');
  return text;
}

export function canonicalBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}

/** CIDv1, json codec, sha2-256, over the canonical JSON of `value`. */
export async function cidOfJson(value: unknown): Promise<string> {
  return cidOf(JSON_CODEC, canonicalJson(value));
}

/** Synchronous cidOfJson (same result), for pure builders that should not be async. */
export function cidOfJsonSync(value: unknown): string {
  return cidOf(JSON_CODEC, canonicalJson(value));
}

/** CIDv1, raw codec, sha2-256, over bytes. */
export async function cidOfBytes(bytes: Uint8Array): Promise<string> {
  return cidOf(RAW_CODEC, bytes);
}

/**
 * Digest of a script: text normalized first (UTF-8 BOM dropped, CRLF/CR → LF), so a checkout
 * on another platform never changes a migration's identity.
 */
export async function cidOfScript(text: string): Promise<string> {
  const normalized = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  return cidOf(RAW_CODEC, normalized);
}

/** Parses a CID string and returns its codec name and hex sha2-256 digest (for by-hand checks). */
export function inspectCid(cid: string): { codec: 'json' | 'raw' | 'other'; sha256Hex: string } {
  const parsed = parseCid(cid);
  const codec = parsed.codec === JSON_CODEC ? 'json' : parsed.codec === RAW_CODEC ? 'raw' : 'other';
  return { codec, sha256Hex: Buffer.from(parsed.digest).toString('hex') };
}
