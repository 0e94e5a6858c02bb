// CIDv1 strings (multibase base32, sha2-256) built and read directly: a one-shot sha-256 plus a fixed
// byte prefix per codec, encoded in base32. The same strings multiformats produces (the tests check
// both ways), without loading it: CID.create + toString per digest was most of a baseline's digesting
// time, and its modules part of every command's start-up.
import { Buffer } from 'node:buffer';
import { hash } from 'node:crypto';

/** Multicodec codes of the two codecs our digests use. */
export const JSON_CODEC = 0x0200;
export const RAW_CODEC = 0x55;
const SHA2_256 = 0x12;
const DAG_PB = 0x70;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

const ALPHABET_CODES = Buffer.from(ALPHABET, 'latin1');

/**
 * RFC 4648 base32, lowercase, no padding, after `lead` (ASCII). Written into a buffer and decoded once:
 * appending character by character left each CID a rope of ~50 string fragments, and a baseline holds one
 * CID per object (at 10,000 tables, 3.5 million fragments and most of the capture's heap).
 */
function base32(bytes: Uint8Array, lead = ''): string {
  const out = Buffer.allocUnsafe(lead.length + Math.ceil((bytes.length * 8) / 5));
  let length = out.write(lead, 'latin1');
  let value = 0;
  let bits = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out[length++] = ALPHABET_CODES[(value >>> (bits - 5)) & 31] as number;
      bits -= 5;
    }
  }
  if (bits > 0) out[length++] = ALPHABET_CODES[(value << (5 - bits)) & 31] as number;
  return out.toString('latin1', 0, length);
}

function base32Decode(text: string): Uint8Array {
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let value = 0;
  let bits = 0;
  let length = 0;
  for (const char of text) {
    const index = ALPHABET.indexOf(char);
    if (index < 0) throw new SyntaxError(`Non-base32 character in CID: ${JSON.stringify(char)}`);
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out[length++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  if (bits >= 5 || (value & ((1 << bits) - 1)) !== 0) throw new SyntaxError('Unexpected end of base32 CID');
  return out.subarray(0, length);
}

/** `b` + base32 of [version 1, codec, sha2-256, 32]: the CID string up to its digest when it ends on a 5-byte boundary. */
const PREFIX_BYTES: Record<number, Uint8Array> = {
  [JSON_CODEC]: Uint8Array.of(0x01, 0x80, 0x04, SHA2_256, 32), // 5 bytes: encodes to exactly 8 characters
  [RAW_CODEC]: Uint8Array.of(0x01, RAW_CODEC, SHA2_256, 32),
};
const JSON_PREFIX = `b${base32(PREFIX_BYTES[JSON_CODEC] as Uint8Array)}`;

/** The CIDv1 string (base32) of a sha-256 digest under a codec. */
export function cidFromSha256(codec: typeof JSON_CODEC | typeof RAW_CODEC, digest: Uint8Array): string {
  // The json prefix is 5 bytes, so its 8 base32 characters never change: only the digest is encoded.
  if (codec === JSON_CODEC) return base32(digest, JSON_PREFIX);
  const prefix = PREFIX_BYTES[codec] as Uint8Array;
  const bytes = new Uint8Array(prefix.length + digest.length);
  bytes.set(prefix);
  bytes.set(digest, prefix.length);
  return base32(bytes, 'b');
}

/** CIDv1 (base32) over sha-256 of `bytes`, hashed in one call. */
export function cidOf(codec: typeof JSON_CODEC | typeof RAW_CODEC, bytes: Uint8Array | string): string {
  return cidFromSha256(codec, hash('sha256', bytes, 'buffer'));
}

function varint(bytes: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  for (let shift = 0, i = at; i < bytes.length && shift < 49; i++, shift += 7) {
    const byte = bytes[i] as number;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, i + 1];
  }
  throw new RangeError('Could not decode varint');
}

/** A base32 CID's codec code and the digest bytes of its multihash (CIDv1, or a CIDv0 written in base32). */
export function parseCid(cid: string): { codec: number; hashCode: number; digest: Uint8Array } {
  if (cid[0] !== 'b')
    throw new Error('To parse non base32, base36 or base58btc encoded CID multibase decoder must be provided');
  const bytes = base32Decode(cid.slice(1));
  let offset = 0;
  let version: number;
  let codec: number;
  if (bytes[0] === SHA2_256) {
    version = 0;
    codec = DAG_PB;
  } else {
    [version, offset] = varint(bytes, 0);
    [codec, offset] = varint(bytes, offset);
  }
  if (version !== 0 && version !== 1) throw new RangeError(`Invalid CID version ${version}`);
  const [hashCode, afterCode] = varint(bytes, offset);
  const [size, afterSize] = varint(bytes, afterCode);
  const digest = bytes.subarray(afterSize);
  if (digest.length !== size) throw new Error('Incorrect length');
  return { codec, hashCode, digest };
}
