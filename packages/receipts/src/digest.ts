// Content addressing: RFC 8785 canonical JSON and CIDv1 (sha2-256) digests.
// JSON artifacts use the json codec over canonical bytes (bagaaiera…), files the raw codec (bafkrei…).
import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import { CID } from 'multiformats/cid';
import * as json from 'multiformats/codecs/json';
import * as raw from 'multiformats/codecs/raw';
import { create as createDigest } from 'multiformats/hashes/digest';
import { sha256 } from 'multiformats/hashes/sha2';

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
  return CID.create(1, json.code, await sha256.digest(canonicalBytes(value))).toString();
}

/** Synchronous cidOfJson (same result), for pure builders that should not be async. */
export function cidOfJsonSync(value: unknown): string {
  const digest = createHash('sha256').update(canonicalBytes(value)).digest();
  return CID.create(1, json.code, createDigest(sha256.code, new Uint8Array(digest))).toString();
}

/** CIDv1, raw codec, sha2-256, over bytes. */
export async function cidOfBytes(bytes: Uint8Array): Promise<string> {
  return CID.create(1, raw.code, await sha256.digest(bytes)).toString();
}

/**
 * Digest of a script: text normalized first (UTF-8 BOM dropped, CRLF/CR → LF), so a checkout
 * on another platform never changes a migration's identity.
 */
export async function cidOfScript(text: string): Promise<string> {
  const normalized = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  return cidOfBytes(new TextEncoder().encode(normalized));
}

/** Parses a CID string and returns its codec name and hex sha2-256 digest (for by-hand checks). */
export function inspectCid(cid: string): { codec: 'json' | 'raw' | 'other'; sha256Hex: string } {
  const parsed = CID.parse(cid);
  const codec = parsed.code === json.code ? 'json' : parsed.code === raw.code ? 'raw' : 'other';
  return { codec, sha256Hex: Buffer.from(parsed.multihash.digest).toString('hex') };
}
