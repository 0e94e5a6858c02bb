// The receipt chain and signed statements end to end on the real PostgreSQL+PostGIS: every run that
// held the store lock names the previous receipt of the store and is recorded as the ledger's new head;
// verify --chain finds a removed receipt; DSSE signatures verify only with the signer's public key.
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOfReceipt } from '@kfm/receipts';
import { allBytes, bundle, dropDatabase, dsnFor, kfm, query, seededDatabase } from './postgis-harness.js';

let database: string;
let keys: string;
beforeAll(async () => {
  database = await seededDatabase();
  keys = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-keys-'));
});
afterAll(async () => {
  await dropDatabase(database);
  await fs.rm(keys, { recursive: true, force: true });
});

function keyPair() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    pub: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

const readReceipt = async (dir: string, run: string) =>
  JSON.parse(await fs.readFile(path.join(dir, 'receipts/runs', run, 'run_receipt.json'), 'utf8'));

describe('receipt chain and signatures on PostGIS', () => {
  it('chains every locked run, records the head in the ledger, signs statements and finds a removed receipt', async () => {
    const signer = keyPair();
    const other = keyPair();
    await fs.writeFile(path.join(keys, 'signer.pem'), signer.pem, { mode: 0o600 });
    await fs.writeFile(path.join(keys, 'signer.pub'), signer.pub);
    await fs.writeFile(path.join(keys, 'other.pub'), other.pub);
    const env = { KFM_PG_DSN: dsnFor(database), KFM_TEST_SIGNING_KEY: signer.pem };
    const dir = await bundle({
      forward: 'CREATE INDEX parcels_geom_gist ON public.parcels USING gist (geom);\n',
      rollback: 'DROP INDEX public.parcels_geom_gist;\n',
    });

    const sign = ['--sign-key', path.join(keys, 'signer.pem')];
    const runs = [
      await kfm([...sign, 'apply', dir], env),
      await kfm([...sign, 'rollback', dir], env),
      await kfm(['--sign-key-env', 'KFM_TEST_SIGNING_KEY', 'apply', dir], env),
      await kfm([...sign, 'apply', dir], env), // refused (already applied): still a locked run, still a link
    ];
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 1]);
    expect(runs[3]?.json.outcome.code).toBe('LEDGER_ALREADY_APPLIED');
    const dirs = (await fs.readdir(path.join(dir, 'receipts/runs'))).sort();
    expect(dirs).toHaveLength(4);
    const receipts = await Promise.all(dirs.map((d) => readReceipt(dir, d)));
    expect(receipts.map((r) => r.run_id)).toEqual(runs.map((r) => r.json.run_id));
    expect(receipts[0].previous_receipt).toBeNull();
    for (let i = 1; i < receipts.length; i++)
      expect(receipts[i].previous_receipt).toBe(digestOfReceipt(receipts[i - 1]));
    expect(receipts.every((r) => r.digest_algorithm === 'kfm-digest/v1')).toBe(true);

    // The store ledger's head is the newest receipt; migration state is untouched by receipt rows.
    const ledger = await query<{ status: string; receipt_digest: string | null }>(
      database,
      'SELECT status, receipt_digest FROM kfm_ledger.applied ORDER BY seq',
    );
    expect(ledger.map((row) => row.status)).toEqual([
      'applied',
      'receipt',
      'rolled_back',
      'receipt',
      'applied',
      'receipt',
      'receipt',
    ]);
    expect(ledger.filter((row) => row.status === 'receipt').map((row) => row.receipt_digest)).toEqual(
      receipts.map((r) => digestOfReceipt(r)),
    );

    // Signatures: the signer's key verifies; another key does not.
    const trusted = await kfm(['verify', dir, '--public-key', path.join(keys, 'signer.pub')], env);
    expect(trusted.code, JSON.stringify(trusted.json.issues)).toBe(0);
    expect(trusted.json.attestations.length).toBe(5);
    expect(trusted.json.attestations.every((a: { signature: string }) => a.signature === 'verified')).toBe(true);
    const untrusted = await kfm(['verify', dir, '--public-key', path.join(keys, 'other.pub')], env);
    expect(untrusted.code).toBe(1);
    expect(
      new Set(untrusted.json.issues.map((i: { code: string; file: string }) => `${i.code} ${path.basename(i.file)}`)),
    ).toEqual(new Set(['RECEIPT_DIGEST_MISMATCH statement.intoto.dsse.json']));
    // Key material never reaches an artifact or the output.
    const written = await allBytes(dir);
    for (const pem of [signer.pem])
      for (const line of pem.split('\n').filter((l) => l && !l.startsWith('-----')))
        expect(written).not.toContain(line);
    expect(runs.map((r) => r.stdout + r.stderr).join('')).not.toContain(signer.pem.split('\n')[1]);

    const chain = await kfm(['verify', '--chain', dir], env);
    expect(chain.code).toBe(0);
    expect(chain.json.chains).toHaveLength(1);
    expect(chain.json.chains[0].links).toHaveLength(4);
    expect(chain.json.chains[0].head).toBe(ledger[ledger.length - 1]?.receipt_digest);

    // Remove the second run's receipt (its own copy; the latest copy names the fourth run).
    await fs.rm(path.join(dir, 'receipts/runs', dirs[1] as string), { recursive: true });
    const broken = await kfm(['verify', '--chain', dir], env);
    expect(broken.code).toBe(1);
    expect(broken.json.breaks).toEqual([
      expect.objectContaining({
        file: `receipts/runs/${dirs[2]}/run_receipt.json`,
        expected: digestOfReceipt(receipts[0]),
        found: digestOfReceipt(receipts[1]),
        after: `receipts/runs/${dirs[0]}/run_receipt.json`,
      }),
    ]);
  });

  it('refuses an unusable signing key with exit 2 before touching the store', async () => {
    const dir = await bundle({
      forward: 'CREATE INDEX parcels_x ON public.parcels (id);\n',
      id: 'PG-MIG-2026-11-24-02',
    });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    const run = await kfm(['--sign-key-env', 'KFM_TEST_SIGNING_KEY', 'apply', dir], {
      KFM_PG_DSN: dsnFor(database),
      KFM_TEST_SIGNING_KEY: rsa,
    });
    expect(run.code).toBe(2);
    expect(run.json.issues[0]).toMatchObject({ code: 'ARGUMENT_INVALID', found: 'rsa' });
    expect(run.stdout).not.toContain(rsa.split('\n')[1]);
    await expect(fs.stat(path.join(dir, 'receipts'))).rejects.toThrow();
  });
});
