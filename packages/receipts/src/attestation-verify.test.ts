import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunReceipt } from '@kfm/migration-contracts';
import { writeArtifacts } from './artifact-writer.js';
import { attestationFiles } from './attestation.js';
import { canonicalJson } from './digest.js';
import { digestInput, digestOutputBytes } from './file-digest.js';
import { buildProv } from './prov.js';
import { buildRunReceipt, runDirectoryName } from './receipt.js';
import { verifyBundle } from './verify.js';

let bundle: string;
beforeEach(async () => {
  bundle = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-attest-'));
});
afterEach(async () => {
  await fs.rm(bundle, { recursive: true, force: true });
});

const INPUTS: Record<string, string> = {
  'migration.yml': 'migration_id: PG-MIG-2026-03-01-01\ntype: postgis\nintent: Add a note column\n',
  'forward.sql': 'ALTER TABLE public.parcels ADD COLUMN note text;\n',
  'rollback.sql': 'ALTER TABLE public.parcels DROP COLUMN note;\n',
};

function ok<T extends { ok: boolean }>(result: T): T & { ok: true } {
  if (!result.ok) throw new Error(`expected ok: ${JSON.stringify(result)}`);
  return result as T & { ok: true };
}

/** As the runner writes a run: per-run evidence, receipt, PROV, statement (+ envelope), and the latest copies. */
async function writeRun(signingKey?: KeyObject): Promise<{ receipt: RunReceipt; runDir: string }> {
  for (const [name, text] of Object.entries(INPUTS)) await fs.writeFile(path.join(bundle, name), text);
  const inputs = await Promise.all(
    Object.keys(INPUTS).map(async (name) => ({ path: name, digest: await digestInput(path.join(bundle, name)) })),
  );
  const facts = {
    migrationId: 'PG-MIG-2026-03-01-01',
    operation: 'apply' as const,
    store: 'postgis',
    actor: { principal: 'svc:ci' },
    environment: { name: 'dev' as const },
    params: {},
    inputs,
    checks: [],
    outcome: { status: 'committed' as const, exit_code: 0 as const },
    policy: {},
    previousReceipt: null,
    startedAt: '2026-03-01T18:30:00Z',
    finishedAt: '2026-03-01T18:31:12Z',
  };
  const runDir = `receipts/runs/${runDirectoryName(buildRunReceipt({ ...facts, outputs: [] }).run_id)}`;
  const files = [
    {
      path: 'baselines/pre.json',
      content: { kfm_baseline_version: 'v1', store: 'postgis', fingerprints: { schema: 'a' } },
    },
    {
      path: 'baselines/post.json',
      content: { kfm_baseline_version: 'v1', store: 'postgis', fingerprints: { schema: 'b' } },
    },
    { path: 'diffs/summary.json', content: { status: 'pass', changes: [] } },
  ];
  const evidence = ok(
    await writeArtifacts(
      bundle,
      files.map((file) => ({ ...file, path: `${runDir}/${file.path}` })),
    ),
  );
  ok(await writeArtifacts(bundle, files));
  const receipt = buildRunReceipt({ ...facts, outputs: evidence.written });
  const prov = buildProv(receipt);
  const provDigest = await digestOutputBytes('prov.jsonld', new TextEncoder().encode(canonicalJson(prov)));
  ok(
    await writeArtifacts(bundle, [
      { path: `${runDir}/run_receipt.json`, content: receipt },
      { path: `${runDir}/prov.jsonld`, content: prov },
      { path: 'receipts/prov.jsonld', content: prov },
      { path: 'receipts/run_receipt.json', content: receipt },
      ...attestationFiles({
        receipt,
        provDigest,
        ...(signingKey ? { signingKey } : {}),
        directories: [runDir, 'receipts'],
      }),
    ]),
  );
  return { receipt, runDir };
}

async function flip(relative: string, index: number): Promise<Buffer> {
  const file = path.join(bundle, relative);
  const original = await fs.readFile(file);
  const bytes = Buffer.from(original);
  bytes[index] = (bytes[index] as number) ^ 0x01;
  await fs.writeFile(file, bytes);
  return original;
}

describe('statements and signatures', () => {
  it('passes an untouched run and checks both statements', async () => {
    const { runDir } = await writeRun();
    const result = await verifyBundle(bundle);
    expect(result.issues).toEqual([]);
    expect(result.attestations.map((a) => `${a.receipt} ${a.statement} ${a.signature}`).sort()).toEqual([
      'receipts/run_receipt.json ok not_checked',
      `${runDir}/run_receipt.json ok not_checked`,
    ]);
  });

  it('fails for a flipped byte anywhere in the receipt, the baselines, the scripts, PROV or the statement', async () => {
    const { runDir } = await writeRun();
    const targets = [
      `${runDir}/run_receipt.json`,
      'receipts/run_receipt.json',
      `${runDir}/baselines/pre.json`,
      `${runDir}/baselines/post.json`,
      'forward.sql',
      'rollback.sql',
      'migration.yml',
      `${runDir}/prov.jsonld`,
      `${runDir}/statement.intoto.json`,
    ];
    let tried = 0;
    for (const target of targets) {
      const size = (await fs.stat(path.join(bundle, target))).size;
      // ~48 positions spread over each file, the first and the last byte included.
      const step = Math.max(1, Math.floor((size - 1) / 47));
      for (let index = 0; index < size; index += step) {
        const original = await flip(target, index);
        const result = await verifyBundle(bundle);
        expect(result.ok, `${target} byte ${index}`).toBe(false);
        await fs.writeFile(path.join(bundle, target), original);
        tried++;
      }
    }
    expect(tried).toBeGreaterThan(400);
    expect((await verifyBundle(bundle)).ok).toBe(true);
  });

  it('names the bundle as changed when a script changes, and accepts CRLF and a BOM', async () => {
    const { runDir } = await writeRun();
    await fs.writeFile(path.join(bundle, 'forward.sql'), `\uFEFF${INPUTS['forward.sql']!.replace(/\n/g, '\r\n')}`);
    expect((await verifyBundle(bundle)).issues).toEqual([]);
    await fs.writeFile(path.join(bundle, 'forward.sql'), INPUTS['forward.sql']!.replace('note', 'memo'));
    const result = await verifyBundle(bundle);
    expect(
      result.issues
        .filter((i) => i.pointer === '/subject/0')
        .map((i) => i.file)
        .sort(),
    ).toEqual([`${runDir}/statement.intoto.json`, 'receipts/statement.intoto.json']);
    expect(result.issues.filter((i) => i.file === 'forward.sql').map((i) => i.code)).toEqual([
      'RECEIPT_DIGEST_MISMATCH',
    ]);
  });

  it('checks signatures with the given public keys; another key fails; a missing envelope fails', async () => {
    const signer = generateKeyPairSync('ed25519');
    const other = generateKeyPairSync('ed25519');
    const { runDir } = await writeRun(signer.privateKey);
    const signed = await verifyBundle(bundle, { publicKeys: [signer.publicKey] });
    expect(signed.issues).toEqual([]);
    expect(signed.attestations.every((a) => a.signature === 'verified')).toBe(true);
    const wrong = await verifyBundle(bundle, { publicKeys: [other.publicKey] });
    expect(wrong.issues.map((i) => `${i.code} ${i.file}`).sort()).toEqual([
      `RECEIPT_DIGEST_MISMATCH ${runDir}/statement.intoto.dsse.json`,
      'RECEIPT_DIGEST_MISMATCH receipts/statement.intoto.dsse.json',
    ]);
    await fs.rm(path.join(bundle, runDir, 'statement.intoto.dsse.json'));
    const missing = await verifyBundle(bundle, { publicKeys: [signer.publicKey] });
    // The latest copy of the envelope is now stale too: its run's own copy is gone.
    expect(missing.issues.map((i) => `${i.code} ${i.file}`)).toEqual([
      `RECEIPT_FILE_MISSING ${runDir}/statement.intoto.dsse.json`,
      'EVIDENCE_STALE receipts/statement.intoto.dsse.json',
    ]);
    // No key material anywhere in the bundle.
    const pem = signer.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const everything = await Promise.all(
      (await fs.readdir(bundle, { recursive: true })).map((f) =>
        fs.readFile(path.join(bundle, String(f))).catch(() => Buffer.alloc(0)),
      ),
    );
    expect(Buffer.concat(everything).toString()).not.toContain(pem.split('\n')[1]);
  });

  it('refuses an unknown digest algorithm with a clear issue and checks nothing else of that receipt', async () => {
    const { runDir } = await writeRun();
    const file = path.join(bundle, runDir, 'run_receipt.json');
    const receipt = JSON.parse(await fs.readFile(file, 'utf8')) as RunReceipt;
    await fs.writeFile(file, canonicalJson({ ...receipt, digest_algorithm: 'kfm-digest/v9' }));
    const result = await verifyBundle(bundle);
    expect(result.issues).toContainEqual(
      expect.objectContaining({
        code: 'SCHEMA_ENUM',
        file: `${runDir}/run_receipt.json`,
        pointer: '/digest_algorithm',
        expected: 'one of kfm-digest/v1',
        found: 'kfm-digest/v9',
      }),
    );
  });
});
