import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, cidOfJson, cidOfScript, inspectCid } from './digest.js';
import { digestInput, digestOutput, digestOutputBytes, normalizeInputBytes, outputCodec } from './file-digest.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-file-digest-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function write(name: string, content: string | Uint8Array): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, content);
  return file;
}

function flipEachByte(bytes: Uint8Array): Uint8Array[] {
  return [...bytes.keys()].map((i) => {
    const copy = Uint8Array.from(bytes);
    copy[i] = (copy[i] as number) ^ 0x01;
    return copy;
  });
}

describe('digestInput', () => {
  it('equals cidOfScript of the text and ignores BOM and line endings', async () => {
    const text =
      'ALTER TABLE parcels ADD COLUMN note text;\nCREATE INDEX parcels_geom_idx ON parcels USING gist (geom);\n';
    const lf = await digestInput(await write('forward-lf.sql', text));
    expect(lf).toBe(await cidOfScript(text));
    expect(await digestInput(await write('forward-crlf.sql', '\uFEFF' + text.replace(/\n/g, '\r\n')))).toBe(lf);
  });

  it('changes when any byte changes (other than CR→LF, which the normalization folds on purpose)', async () => {
    const bytes = new TextEncoder().encode('name: PG-MIG-2026-03-01-01\nscope: {}\n');
    const original = await digestInput(await write('decl.yml', bytes));
    const seen = new Set([original]);
    for (const [i, changed] of flipEachByte(bytes).entries())
      seen.add(await digestInput(await write(`decl-${i}.yml`, changed)));
    expect(seen.size).toBe(bytes.length + 1);
  });

  it('hashes invalid UTF-8 losslessly (two different invalid bytes differ)', async () => {
    const a = await digestInput(await write('bad-a.sql', Uint8Array.from([0x41, 0xff, 0x42])));
    const b = await digestInput(await write('bad-b.sql', Uint8Array.from([0x41, 0xfe, 0x42])));
    expect(a).not.toBe(b);
    expect(Buffer.from(normalizeInputBytes(Uint8Array.from([0xef, 0xbb, 0xbf, 0x61, 0x0d, 0x0a, 0x62, 0x0d])))).toEqual(
      Buffer.from('a\nb\n'),
    );
  });
});

describe('digestOutput', () => {
  it('streams large files in chunks to exactly the digest of their bytes', async () => {
    // 2.5 MiB of varying bytes: chunk boundaries fall mid-file, and the last chunk is partial.
    const bytes = Buffer.alloc(Math.floor(2.5 * 1024 * 1024));
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 13)) & 0xff;
    const file = path.join(await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-stream-')), 'big.csv');
    await fs.writeFile(file, bytes);
    const streamed = await digestOutput(file);
    expect(streamed).toBe(await digestOutputBytes('big.csv', bytes));
    expect(inspectCid(streamed).sha256Hex).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('uses the json codec over the exact bytes of .json/.jsonld files: sha256sum of the file matches', async () => {
    const value = { kfm_baseline_version: 'v1', objects: [{ name: 'public.parcels', kind: 'table' }] };
    const text = canonicalJson(value);
    for (const name of ['pre.json', 'prov.jsonld']) {
      const cid = await digestOutput(await write(name, text));
      expect(inspectCid(cid)).toEqual({ codec: 'json', sha256Hex: createHash('sha256').update(text).digest('hex') });
      expect(cid).toBe(await cidOfJson(value));
    }
  });

  it('uses the raw codec for other files', async () => {
    const csv = 'kind,name,change\ntable,public.parcels,modified\n';
    const cid = await digestOutput(await write('touched.csv', csv));
    expect(inspectCid(cid)).toEqual({ codec: 'raw', sha256Hex: createHash('sha256').update(csv).digest('hex') });
    expect(outputCodec('notes.md')).toBe('raw');
    expect(outputCodec('a/B.JSON')).toBe('json');
  });

  it('changes when any single byte changes, CR and LF included', async () => {
    const bytes = new TextEncoder().encode('{"a":"x\\r\\n","b":[1,2]}\r\n');
    const original = await digestOutput(await write('summary.json', bytes));
    const seen = new Set([original]);
    for (const [i, changed] of flipEachByte(bytes).entries())
      seen.add(await digestOutput(await write(`summary-${i}.json`, changed)));
    expect(seen.size).toBe(bytes.length + 1);
  });
});
