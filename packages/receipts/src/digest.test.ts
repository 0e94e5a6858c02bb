import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CID } from 'multiformats/cid';
import { create as createDigest } from 'multiformats/hashes/digest';
import { canonicalJson, cidOfBytes, cidOfJson, cidOfJsonSync, cidOfScript, inspectCid } from './digest.js';
import { fingerprintOf } from './fingerprint.js';

/** RFC 4648 base32 (lowercase, no padding), written out here so the CID check does not reuse multiformats. */
function base32Decode(text: string): Uint8Array {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of text) {
    const index = alphabet.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

/** Decodes a base32 CIDv1 by hand: multibase 'b', version 1, codec, sha2-256 (0x12), length 32, digest. */
function decodeCid(cid: string): { codec: number; digestHex: string } {
  expect(cid[0]).toBe('b');
  const bytes = base32Decode(cid.slice(1));
  expect(bytes[0]).toBe(0x01);
  // Codecs used here fit in one or two varint bytes: raw 0x55, json 0x0200 (0x80 0x04).
  let offset = 1;
  let codec = bytes[offset++] as number;
  if (codec & 0x80) codec = (codec & 0x7f) | ((bytes[offset++] as number) << 7);
  expect(bytes[offset]).toBe(0x12);
  expect(bytes[offset + 1]).toBe(32);
  const digest = bytes.slice(offset + 2);
  expect(digest.length).toBe(32);
  return { codec, digestHex: Buffer.from(digest).toString('hex') };
}

function doubleFromHex(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe('canonicalJson (RFC 8785)', () => {
  it('serializes the RFC 8785 section 3.2.2 example exactly', () => {
    const input = JSON.parse(String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`);
    expect(canonicalJson(input)).toBe(
      String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
    );
  });

  it('sorts keys by UTF-16 code units (RFC 8785 section 3.2.3)', () => {
    const input = JSON.parse(String.raw`{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }`);
    // Object.keys would reorder "1" (an array index) first, so the check reads the text itself.
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('formats the IEEE 754 value %s as %s (RFC 8785 appendix B)', (hex, expected) => {
    expect(canonicalJson(doubleFromHex(hex))).toBe(expected);
  });

  it('rejects values JSON cannot represent', () => {
    expect(() => canonicalJson(Number.NaN)).toThrow();
    expect(() => canonicalJson(Number.POSITIVE_INFINITY)).toThrow();
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
  });

  it('does not depend on key insertion order', () => {
    expect(canonicalJson({ b: [2, { y: 1, x: 2 }], a: 1 })).toBe(canonicalJson({ a: 1, b: [2, { x: 2, y: 1 }] }));
  });
});

describe('CIDs', () => {
  it('cidOfJson is CIDv1/json over sha256 of the canonical bytes, checkable without multiformats', async () => {
    const value = { z: 'last', a: [1, 2.5, 'x'], m: { nested: true } };
    const cid = await cidOfJson(value);
    expect(cid.startsWith('bagaaiera')).toBe(true);
    const decoded = decodeCid(cid);
    expect(decoded.codec).toBe(0x0200);
    expect(decoded.digestHex).toBe(createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex'));
    expect(inspectCid(cid)).toEqual({ codec: 'json', sha256Hex: decoded.digestHex });
    expect(cidOfJsonSync(value)).toBe(cid);
  });

  it('cidOfBytes is CIDv1/raw over sha256 of the bytes', async () => {
    const bytes = Uint8Array.from([0, 1, 2, 250, 255, 10, 13]);
    const cid = await cidOfBytes(bytes);
    expect(cid.startsWith('bafkrei')).toBe(true);
    const decoded = decodeCid(cid);
    expect(decoded.codec).toBe(0x55);
    expect(decoded.digestHex).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(CID.parse(cid).toString()).toBe(cid);
  });

  it('cidOfScript ignores a BOM and line-ending style but nothing else', async () => {
    const lf = await cidOfScript('CREATE INDEX a ON t (c);\nSELECT 1;\n');
    expect(await cidOfScript('\uFEFFCREATE INDEX a ON t (c);\r\nSELECT 1;\r\n')).toBe(lf);
    expect(await cidOfScript('CREATE INDEX a ON t (c);\rSELECT 1;\r')).toBe(lf);
    expect(await cidOfScript('CREATE INDEX b ON t (c);\nSELECT 1;\n')).not.toBe(lf);
    expect(decodeCid(lf).digestHex).toBe(
      createHash('sha256').update('CREATE INDEX a ON t (c);\nSELECT 1;\n').digest('hex'),
    );
  });

  it('builds the very strings multiformats builds, and reads them back as CID.parse does', async () => {
    // Digests are built directly (one-shot sha-256, a fixed prefix, base32), not through multiformats.
    for (let length = 0; length < 70; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 37 + length * 11) & 0xff);
      const sha = createHash('sha256').update(bytes).digest();
      const viaMultiformats = CID.create(1, 0x55, createDigest(0x12, sha)).toString();
      expect(await cidOfBytes(bytes)).toBe(viaMultiformats);
      const value = { length, text: Buffer.from(bytes).toString('latin1') };
      const canonical = createHash('sha256').update(canonicalJson(value), 'utf8').digest();
      expect(cidOfJsonSync(value)).toBe(CID.create(1, 0x0200, createDigest(0x12, canonical)).toString());
      for (const cid of [viaMultiformats, cidOfJsonSync(value)]) {
        const parsed = CID.parse(cid);
        expect(inspectCid(cid)).toEqual({
          codec: parsed.code === 0x0200 ? 'json' : 'raw',
          sha256Hex: Buffer.from(parsed.multihash.digest).toString('hex'),
        });
      }
    }
  });

  it('refuses a CID that is truncated, not base32 or not multibase-prefixed', async () => {
    const cid = await cidOfBytes(Uint8Array.of(1, 2, 3));
    expect(() => inspectCid(cid.slice(0, -4))).toThrow();
    expect(() => inspectCid(`${cid.slice(0, -1)}1`)).toThrow();
    expect(() => inspectCid(cid.slice(1))).toThrow();
  });
});

describe('fingerprintOf', () => {
  it('hashes the same bytes as the canonical JSON of the sorted triples, across chunk boundaries', async () => {
    const awkward = [
      'plain',
      'quote " and \\ backslash',
      'tab\tnewline\n\u0001',
      'é ü 中文 🙂',
      '\ud800 lone',
      '\u2028',
    ];
    const objects = Array.from({ length: 6000 }, (_, i) => ({
      kind: i % 3 === 0 ? 'table' : 'column',
      name: `${awkward[i % awkward.length]}.${(i * 7919) % 6000}`,
      digest: `bagaaiera${i.toString(36)}`,
    }));
    const triples = objects
      .map((object) => [object.kind, object.name, object.digest])
      .sort((a, b) => (a.join('\u0000') < b.join('\u0000') ? -1 : 1));
    expect(canonicalJson(triples).length).toBeGreaterThan(2 * 65536);
    expect(await fingerprintOf(objects)).toBe(await cidOfJson(triples));
    expect(await fingerprintOf([])).toBe(await cidOfJson([]));
  });
});
