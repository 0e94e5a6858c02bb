import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunReceipt } from '@kfm/migration-contracts';
import { writeArtifacts } from './artifact-writer.js';
import { digestInput } from './file-digest.js';
import { buildProv } from './prov.js';
import { buildReceiptRef } from './receipt-ref.js';
import { buildRunReceipt, digestOfReceipt, runDirectoryName, type BuildRunReceiptInput } from './receipt.js';
import { verifyBundle, verifyReceiptFile } from './verify.js';

let bundle: string;
beforeEach(async () => {
  bundle = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-verify-'));
});
afterEach(async () => {
  await fs.rm(bundle, { recursive: true, force: true });
});

const INPUTS: Record<string, string> = {
  'migration.yml': 'migration_id: PG-MIG-2026-03-01-01\ntype: postgis\nintent: Add spatial index\n',
  'forward.sql': 'CREATE INDEX parcels_geom_idx ON public.parcels USING gist (geom);\r\n',
  'rollback.sql': 'DROP INDEX public.parcels_geom_idx;\n',
};

function ok<T extends { ok: boolean }>(result: T): T & { ok: true } {
  if (!result.ok) throw new Error(`expected ok: ${JSON.stringify(result)}`);
  return result as T & { ok: true };
}

/** Writes a bundle the way the runner does: inputs, evidence, PROV, the per-run receipt and the latest copy. */
async function writeBundle(): Promise<{ receipt: RunReceipt; runDir: string }> {
  for (const [name, text] of Object.entries(INPUTS)) await fs.writeFile(path.join(bundle, name), text);
  const inputs = await Promise.all(
    Object.keys(INPUTS).map(async (name) => ({ path: name, digest: await digestInput(path.join(bundle, name)) })),
  );
  const evidence = ok(
    await writeArtifacts(bundle, [
      { path: 'baselines/pre.json', content: { kfm_baseline_version: 'v1', store: 'postgis', counts: { indexes: 1 } } },
      {
        path: 'baselines/post.json',
        content: { kfm_baseline_version: 'v1', store: 'postgis', counts: { indexes: 2 } },
      },
      {
        path: 'diffs/summary.json',
        content: { status: 'pass', changes: [{ kind: 'index', name: 'public.parcels_geom_idx', change: 'added' }] },
      },
      { path: 'diffs/touched.csv', content: 'kind,name,change\nindex,public.parcels_geom_idx,added\n' },
      { path: 'notes.md', content: '# Notes\nAdds a GiST index on geom.\n' },
    ]),
  );
  const base: BuildRunReceiptInput = {
    migrationId: 'PG-MIG-2026-03-01-01',
    operation: 'apply',
    store: 'postgis',
    actor: { principal: 'svc:migrations-runner', role: 'pipeline' },
    environment: { name: 'dev' },
    params: { env: 'dev' },
    inputs,
    outputs: evidence.written,
    checks: [{ name: 'scope_enforcement', status: 'pass', rule: 'scope' }],
    outcome: { status: 'committed', exit_code: 0 },
    policy: { policy_label: 'public' },
    previousReceipt: null,
    startedAt: '2026-03-01T18:30:00Z',
    finishedAt: '2026-03-01T18:31:12Z',
  };
  // PROV describes the run's evidence; the final receipt then lists PROV too (a receipt cannot list itself).
  const draft = buildRunReceipt(base);
  const runDir = `receipts/runs/${runDirectoryName(draft.run_id)}`;
  const prov = ok(await writeArtifacts(bundle, [{ path: `${runDir}/prov.jsonld`, content: buildProv(draft) }]));
  const receipt = buildRunReceipt({ ...base, outputs: [...evidence.written, ...prov.written] });
  expect(receipt.run_id).toBe(draft.run_id);
  ok(
    await writeArtifacts(bundle, [
      { path: `${runDir}/run_receipt.json`, content: receipt },
      { path: 'receipts/prov.jsonld', content: buildProv(draft) },
      { path: 'receipts/run_receipt.json', content: receipt },
    ]),
  );
  return { receipt, runDir };
}

async function flipByte(relative: string, at = 0.5): Promise<void> {
  const file = path.join(bundle, relative);
  const bytes = await fs.readFile(file);
  const index = Math.floor(bytes.length * at);
  bytes[index] = (bytes[index] as number) ^ 0x01;
  await fs.writeFile(file, bytes);
}

describe('verifyBundle', () => {
  it('passes a bundle written with writeArtifacts and a receipt, checking every file', async () => {
    const { receipt, runDir } = await writeBundle();
    const result = await verifyBundle(bundle);
    expect(result.issues).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.receipts).toEqual(['receipts/run_receipt.json', `${runDir}/run_receipt.json`]);
    const named = [...receipt.inputs, ...receipt.outputs].map((file) => file.path).sort();
    expect(result.files.map((file) => file.path).sort()).toEqual(named);
    expect(named).toContain(`${runDir}/prov.jsonld`);
    expect(result.files.every((file) => file.status === 'ok' && file.actual === file.expected)).toBe(true);
  });

  it('fails naming the file when one byte of ANY input or output changes', async () => {
    const { receipt } = await writeBundle();
    const files = [...receipt.inputs, ...receipt.outputs].map((file) => file.path);
    expect(files.length).toBe(9);
    for (const file of files) {
      const original = await fs.readFile(path.join(bundle, file));
      await flipByte(file);
      const result = await verifyBundle(bundle);
      expect(result.ok, file).toBe(false);
      expect(
        result.issues.map((issue) => `${issue.code} ${issue.file}`),
        file,
      ).toEqual([`RECEIPT_DIGEST_MISMATCH ${file}`]);
      expect(result.files.find((entry) => entry.path === file)?.status).toBe('mismatch');
      await fs.writeFile(path.join(bundle, file), original);
    }
    expect((await verifyBundle(bundle)).ok).toBe(true);
  });

  it('reports RECEIPT_FILE_MISSING for a deleted file', async () => {
    await writeBundle();
    await fs.rm(path.join(bundle, 'diffs/touched.csv'));
    const result = await verifyBundle(bundle);
    expect(result.ok).toBe(false);
    expect(result.issues.map((issue) => `${issue.code} ${issue.file}`)).toEqual([
      'RECEIPT_FILE_MISSING diffs/touched.csv',
    ]);
    expect(result.files.find((entry) => entry.path === 'diffs/touched.csv')).toMatchObject({ status: 'missing' });
    expect(result.files.find((entry) => entry.path === 'diffs/touched.csv')?.actual).toBeUndefined();
  });

  it('checks a receipt against its schema', async () => {
    const { receipt } = await writeBundle();
    await fs.writeFile(
      path.join(bundle, 'receipts/run_receipt.json'),
      JSON.stringify({ ...receipt, run_type: 'deploy' }, null, 2),
    );
    const result = await verifyBundle(bundle);
    expect(result.ok).toBe(false);
    expect(result.issues).toEqual([
      expect.objectContaining({
        code: 'SCHEMA_ENUM',
        file: 'receipts/run_receipt.json',
        pointer: '/run_type',
        line: expect.any(Number),
      }),
    ]);
  });

  it('reports a bundle with no receipt at all', async () => {
    const result = await verifyBundle(bundle);
    expect(result.ok).toBe(false);
    expect(result.issues.map((issue) => issue.code)).toEqual(['RECEIPT_FILE_MISSING']);
  });

  it('accepts sha256:<hex> digests (as in the source README) over the same bytes', async () => {
    await fs.writeFile(path.join(bundle, 'forward.sql'), 'SELECT 1;\r\n');
    await fs.mkdir(path.join(bundle, 'baselines'));
    await fs.writeFile(path.join(bundle, 'baselines/pre.json'), '{"a":1}');
    const sha = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
    const receipt = buildRunReceipt({
      migrationId: 'PG-MIG-2026-03-01-01',
      operation: 'apply',
      store: 'postgis',
      actor: { principal: 'svc:ci' },
      environment: { name: 'dev' },
      params: {},
      inputs: [{ path: 'forward.sql', digest: sha('SELECT 1;\n') }],
      outputs: [{ path: 'baselines/pre.json', digest: sha('{"a":1}') }],
      checks: [],
      outcome: { status: 'committed', exit_code: 0 },
      policy: {},
      previousReceipt: null,
      startedAt: '2026-03-01T18:30:00Z',
      finishedAt: '2026-03-01T18:31:12Z',
    });
    ok(await writeArtifacts(bundle, [{ path: 'receipts/run_receipt.json', content: receipt }]));
    expect((await verifyBundle(bundle)).issues).toEqual([]);
    await fs.writeFile(path.join(bundle, 'baselines/pre.json'), '{"a":2}');
    expect((await verifyBundle(bundle)).issues.map((issue) => issue.code)).toEqual(['RECEIPT_DIGEST_MISMATCH']);
  });

  it('checks receipt_ref.json against the receipt it points to inside the bundle', async () => {
    const { receipt, runDir } = await writeBundle();
    const ref = buildReceiptRef({
      receipt,
      receiptDigest: digestOfReceipt(receipt),
      location: `${runDir}/run_receipt.json`,
      storedAt: '2026-03-01T18:31:20Z',
    });
    ok(await writeArtifacts(bundle, [{ path: 'receipts/receipt_ref.json', content: ref }]));
    const passing = await verifyBundle(bundle);
    expect(passing.issues).toEqual([]);
    expect(passing.receipts).toContain('receipts/receipt_ref.json');
    // Rewriting the per-run receipt (still schema-valid) breaks the pin.
    await fs.writeFile(
      path.join(bundle, runDir, 'run_receipt.json'),
      JSON.stringify({ ...receipt, policy: { policy_label: 'restricted' } }),
    );
    const failing = await verifyBundle(bundle);
    // Pinned by the ref, and the latest copy no longer agrees with the run's own.
    expect(failing.issues.map((issue) => `${issue.code} ${issue.file}`).sort()).toEqual([
      'RECEIPT_DIGEST_MISMATCH receipts/run_receipt.json',
      `RECEIPT_DIGEST_MISMATCH ${runDir}/run_receipt.json`,
    ]);
  });

  it('refuses receipt paths that leave the bundle', async () => {
    const { receipt } = await writeBundle();
    const evil = {
      ...receipt,
      outputs: [...receipt.outputs, { path: '../../etc/passwd', digest: receipt.outputs[0]!.digest }],
    };
    await fs.writeFile(path.join(bundle, 'receipts/run_receipt.json'), JSON.stringify(evil));
    const result = await verifyBundle(bundle);
    expect(result.issues.map((issue) => `${issue.code} ${issue.file}`)).toEqual([
      'ARTIFACT_PATH_TRAVERSAL ../../etc/passwd',
      'RECEIPT_DIGEST_MISMATCH receipts/run_receipt.json',
    ]);
  });
});

describe('verifyReceiptFile', () => {
  it('verifies one receipt and names the file that changed', async () => {
    const { runDir } = await writeBundle();
    const receiptPath = path.join(bundle, runDir, 'run_receipt.json');
    const passing = await verifyReceiptFile(receiptPath, bundle);
    expect(passing.ok).toBe(true);
    expect(passing.receipts).toEqual([`${runDir}/run_receipt.json`]);
    await flipByte('rollback.sql', 0);
    const failing = await verifyReceiptFile(receiptPath, bundle);
    expect(failing.issues.map((issue) => `${issue.code} ${issue.file}`)).toEqual([
      'RECEIPT_DIGEST_MISMATCH rollback.sql',
    ]);
    expect((await verifyReceiptFile(path.join(bundle, 'nope.json'), bundle)).issues.map((issue) => issue.code)).toEqual(
      ['RECEIPT_FILE_MISSING'],
    );
  });
});
