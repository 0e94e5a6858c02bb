// Evidence that cannot be forged, dropped or truncated without verify and ci failing — tried as a hostile
// reviewer would, after real runs on the real PostgreSQL+PostGIS: one byte at a conventional path, a
// stale file, a removed middle run, a truncated history, a re-digested run, evidence deleted while the
// registry says executed, concurrent registry updates, and signatures the policy requires.
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunReceipt } from '@kfm/migration-contracts';
import { attestationFiles, buildProv, canonicalJson, digestOutput, digestOfReceipt } from '@kfm/receipts';
import {
  dsnFor,
  dropDatabase,
  kfm,
  query,
  readJson,
  repository,
  seededDatabase,
  seededDatabasePerTest,
} from './postgis-harness.js';

const db = seededDatabasePerTest();
const FORWARD = 'CREATE INDEX parcels_geom_gist ON public.parcels USING gist (geom);\n';
const ROLLBACK = 'DROP INDEX IF EXISTS public.parcels_geom_gist;\n';

async function copyRepo(root: string): Promise<string> {
  const copy = `${root}-copy-${Math.random().toString(36).slice(2, 8)}`;
  await fs.cp(root, copy, { recursive: true });
  return copy;
}

const indexExists = async (name = 'parcels_geom_gist') =>
  (await query(db.name, `SELECT 1 FROM pg_indexes WHERE indexname = '${name}'`)).length === 1;

describe('evidence at the paths a reviewer reads is bound to the latest run', () => {
  it('fails verify and ci, naming the file and both digests, for one changed byte, whitespace, an emptied summary, a removed CSV row and a stale file', async () => {
    const { root, rel } = await repository({ forward: FORWARD, rollback: ROLLBACK });
    const applied = await kfm(['apply', path.join(root, 'migrations', rel)], db.env);
    expect(applied.code).toBe(0);
    expect((await kfm(['verify', path.join(root, 'migrations', rel)], db.env)).code).toBe(0);
    expect((await kfm(['ci', '--root', root], db.env)).code).toBe(0);

    const forgeries: [string, string, (file: string) => Promise<void>][] = [
      [
        'baselines/pre.json',
        'EVIDENCE_MISMATCH',
        async (file) => fs.writeFile(file, (await fs.readFile(file, 'utf8')).replace(/"v1"/, '"v2"')),
      ],
      ['baselines/post.json', 'EVIDENCE_MISMATCH', async (file) => fs.appendFile(file, '\n')],
      [
        'diffs/summary.json',
        'EVIDENCE_MISMATCH',
        async (file) => fs.writeFile(file, canonicalJson({ ...(await readJson(file)), changes: [] })),
      ],
      [
        'diffs/touched.csv',
        'EVIDENCE_MISMATCH',
        async (file) =>
          fs.writeFile(file, (await fs.readFile(file, 'utf8')).split('\r\n').slice(0, 1).join('\r\n') + '\r\n'),
      ],
      [
        'baselines/after_rollback.json',
        'EVIDENCE_STALE',
        async (file) => fs.copyFile(file.replace('after_rollback', 'pre'), file),
      ],
      ['receipts/prov.jsonld', 'EVIDENCE_MISMATCH', async (file) => fs.appendFile(file, ' ')],
    ];
    for (const [relative, code, forge] of forgeries) {
      const copy = await copyRepo(root);
      const dir = path.join(copy, 'migrations', rel);
      await forge(path.join(dir, relative));
      const verified = await kfm(['verify', dir], db.env);
      expect(verified.code, relative).toBe(1);
      const issue = verified.json.issues.find((i: { file?: string }) => i.file === relative);
      expect(issue, `${relative}: ${JSON.stringify(verified.json.issues)}`).toMatchObject({ code });
      if (code === 'EVIDENCE_MISMATCH') {
        expect(issue.expected).toMatch(/^b[a-z2-7]+$/);
        expect(issue.found).toBe(await digestOutput(path.join(dir, relative)));
      }
      const ci = await kfm(['ci', '--root', copy], db.env);
      expect(ci.code, relative).toBe(1);
      expect(
        ci.json.findings.some((f: { code: string; file?: string }) => f.code === code && f.file?.endsWith(relative)),
      ).toBe(true);
    }
  });

  it('leaves no stale after_rollback.json behind a re-apply, and reviewer paths always name the latest run', async () => {
    const { root, rel } = await repository({ forward: FORWARD, rollback: ROLLBACK });
    const dir = path.join(root, 'migrations', rel);
    expect((await kfm(['apply', dir], db.env)).code).toBe(0);
    expect((await kfm(['rollback', dir], db.env)).code).toBe(0);
    expect(
      await fs.stat(path.join(dir, 'baselines/after_rollback.json')).then(
        () => true,
        () => false,
      ),
    ).toBe(true);
    // The rollback run produced no diff summary: the apply's is in its own run directory only.
    expect(
      await fs.stat(path.join(dir, 'diffs/summary.json')).then(
        () => true,
        () => false,
      ),
    ).toBe(false);
    expect((await kfm(['apply', dir], db.env)).code).toBe(0);
    expect(
      await fs.stat(path.join(dir, 'baselines/after_rollback.json')).then(
        () => true,
        () => false,
      ),
    ).toBe(false);
    expect((await kfm(['verify', dir], db.env)).code).toBe(0);
    expect((await kfm(['ci', '--root', root], db.env)).code).toBe(0);
  });
});

describe('history that cannot be dropped, truncated or re-digested', () => {
  it('catches a removed middle run (ci), a truncated bundle (ci and --against-store), a re-digested run (--against-store) and deleted evidence (ci)', async () => {
    const { root, rel, id } = await repository({ forward: FORWARD, rollback: ROLLBACK });
    const dir = path.join(root, 'migrations', rel);
    for (const command of ['apply', 'rollback', 'apply']) expect((await kfm([command, dir], db.env)).code).toBe(0);
    const runs = (await fs.readdir(path.join(dir, 'receipts/runs'))).sort();
    expect(runs).toHaveLength(3);
    expect((await kfm(['verify', dir, '--against-store'], db.env)).json.ledger.status).toBe('match');

    // A removed middle run: the chain breaks where the next receipt names it.
    {
      const copy = await copyRepo(root);
      await fs.rm(path.join(copy, 'migrations', rel, 'receipts/runs', runs[1] as string), { recursive: true });
      const ci = await kfm(['ci', '--root', copy], db.env);
      expect(ci.code).toBe(1);
      expect(ci.json.findings.map((f: { code: string }) => f.code)).toContain('CHAIN_BROKEN');
    }

    // Truncation: the latest run removed and the previous run's files copied back to every reviewer path.
    {
      const copy = await copyRepo(root);
      const cdir = path.join(copy, 'migrations', rel);
      await fs.rm(path.join(cdir, 'receipts/runs', runs[2] as string), { recursive: true });
      const previous = path.join(cdir, 'receipts/runs', runs[1] as string);
      for (const file of ['baselines/pre.json', 'baselines/post.json', 'baselines/after_rollback.json'])
        await fs.copyFile(path.join(previous, file), path.join(cdir, file));
      for (const file of ['diffs/summary.json', 'diffs/touched.csv'])
        await fs.rm(path.join(cdir, file), { force: true });
      for (const file of ['run_receipt.json', 'prov.jsonld', 'statement.intoto.json'])
        await fs.copyFile(path.join(previous, file), path.join(cdir, 'receipts', file));
      expect((await kfm(['verify', cdir], db.env)).code).toBe(0); // the bundle alone is self-consistent…
      const ci = await kfm(['ci', '--root', copy], db.env);
      expect(ci.json.findings.map((f: { code: string }) => f.code)).toContain('REGISTRY_MISMATCH'); // …but the registry names a run it lacks
      const against = await kfm(['verify', cdir, '--against-store'], db.env);
      expect(against.code).toBe(1);
      expect(against.json.issues[0]).toMatchObject({ code: 'LEDGER_MISMATCH' });
    }

    // Re-digesting an edited run with the project's own library: consistent on disk, unknown to the store.
    {
      const copy = await copyRepo(root);
      const cdir = path.join(copy, 'migrations', rel);
      const runDir = `receipts/runs/${runs[2]}`;
      const post = await readJson(path.join(cdir, runDir, 'baselines/post.json'));
      post.counts.indexes = 999;
      for (const target of [path.join(cdir, runDir, 'baselines/post.json'), path.join(cdir, 'baselines/post.json')])
        await fs.writeFile(target, canonicalJson(post));
      const receipt = await readJson<RunReceipt>(path.join(cdir, runDir, 'run_receipt.json'));
      const output = receipt.outputs.find((o) => o.path === `${runDir}/baselines/post.json`)!;
      output.digest = await digestOutput(path.join(cdir, runDir, 'baselines/post.json'));
      output.bytes = (await fs.stat(path.join(cdir, runDir, 'baselines/post.json'))).size;
      const prov = buildProv(receipt);
      for (const target of [runDir, 'receipts']) {
        await fs.writeFile(path.join(cdir, target, 'run_receipt.json'), canonicalJson(receipt));
        await fs.writeFile(path.join(cdir, target, 'prov.jsonld'), canonicalJson(prov));
      }
      const provDigest = await digestOutput(path.join(cdir, runDir, 'prov.jsonld'));
      for (const file of attestationFiles({ receipt, provDigest, directories: [runDir, 'receipts'] }))
        await fs.writeFile(
          path.join(cdir, file.path),
          typeof file.content === 'string' ? file.content : canonicalJson(file.content),
        );
      expect((await kfm(['verify', cdir], db.env)).code).toBe(0);
      const against = await kfm(['verify', cdir, '--against-store'], db.env);
      expect(against.code).toBe(1);
      expect(against.json.issues.map((i: { code: string }) => i.code)).toContain('LEDGER_MISMATCH');
      expect(JSON.stringify(against.json.issues)).toContain(digestOfReceipt(receipt));
    }

    // Everything deleted while the registry says the bundle ran.
    {
      const copy = await copyRepo(root);
      const cdir = path.join(copy, 'migrations', rel);
      for (const evidence of ['receipts', 'baselines', 'diffs'])
        await fs.rm(path.join(cdir, evidence), { recursive: true, force: true });
      const ci = await kfm(['ci', '--root', copy], db.env);
      expect(ci.code).toBe(1);
      expect(ci.json.findings).toContainEqual(
        expect.objectContaining({
          code: 'EVIDENCE_MISSING',
          message: expect.stringContaining(`${id} is executed_dev`),
        }),
      );
    }

    // status shows the same comparison per bundle.
    const status = await kfm(['status', '--root', root], db.env);
    expect(status.json.migrations[0]).toMatchObject({
      migration_id: id,
      ledger: 'applied',
      evidence: 'match',
      drift: 0,
    });
  });
});

describe('the registry never loses a write', () => {
  it('records all 8 transitions of 8 concurrent applies (8 databases, one repository), each once', async () => {
    const { root } = await repository({ forward: FORWARD, rollback: ROLLBACK, id: 'PG-MIG-2026-11-24-01' });
    const databases = await Promise.all(Array.from({ length: 8 }, () => seededDatabase()));
    try {
      const registryFile = path.join(root, 'migrations/registry/migrations.v1.json');
      const registry = await readJson(registryFile);
      const template = path.join(root, 'migrations/postgis/PG-MIG-2026-11-24-01');
      const ids = Array.from({ length: 8 }, (_, i) => `PG-MIG-2026-11-25-${String(i + 1).padStart(2, '0')}`);
      for (const id of ids) {
        await fs.cp(template, path.join(root, 'migrations/postgis', id), { recursive: true });
        const yml = path.join(root, 'migrations/postgis', id, 'migration.yml');
        await fs.writeFile(yml, (await fs.readFile(yml, 'utf8')).replace('PG-MIG-2026-11-24-01', id));
        registry.migrations.push({
          migration_id: id,
          type: 'postgis',
          path: `postgis/${id}`,
          status: 'draft',
          history: [{ status: 'draft', at: '2026-11-25T00:00:00Z' }],
        });
      }
      await fs.writeFile(registryFile, JSON.stringify(registry, null, 2));
      const runs = await Promise.all(
        ids.map((id, i) =>
          kfm(['apply', path.join(root, 'migrations/postgis', id)], { KFM_PG_DSN: dsnFor(databases[i] as string) }),
        ),
      );
      expect(runs.map((r) => r.code)).toEqual(ids.map(() => 0));
      const after = await readJson(registryFile);
      for (const [i, id] of ids.entries()) {
        const entry = after.migrations.find((m: { migration_id: string }) => m.migration_id === id);
        const executed = entry.history.filter((h: { status: string }) => h.status === 'executed_dev');
        expect(executed, id).toHaveLength(1);
        expect(executed[0].run_id).toBe(runs[i]?.json.run_id);
        expect(entry.status).toBe('executed_dev');
      }
    } finally {
      await Promise.all(databases.map((name) => dropDatabase(name)));
    }
  });
});

describe('signatures the policy requires', () => {
  it('refuses to apply without a signing key before touching the store, and verify refuses receipts not signed by a trusted key', async () => {
    const key = () => {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      return {
        pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        pub: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      };
    };
    const trusted = key();
    const stranger = key();
    const policy = {
      ...(await readJson(path.resolve(__dirname, '../../../migrations/registry/policy.v1.json'))),
      require_signatures: true,
      trusted_keys: [trusted.pub],
    };
    const { root, rel } = await repository({ forward: FORWARD, rollback: ROLLBACK, policy });
    const dir = path.join(root, 'migrations', rel);
    const unsigned = await kfm(['apply', dir], db.env);
    expect(unsigned.code).toBe(2);
    expect(unsigned.json.issues[0].code).toBe('POLICY_SIGNATURE_REQUIRED');
    expect(await indexExists()).toBe(false);
    expect(
      await fs.stat(path.join(dir, 'receipts')).then(
        () => true,
        () => false,
      ),
    ).toBe(false);

    const strangerSigned = await kfm(['apply', dir], { ...db.env, KFM_KEY: stranger.pem }).then(() =>
      kfm(['--sign-key-env', 'KFM_KEY', 'apply', dir], { ...db.env, KFM_KEY: stranger.pem }),
    );
    expect(strangerSigned.code).toBe(0);
    const refused = await kfm(['verify', dir], db.env);
    expect(refused.code).toBe(1);
    expect(refused.json.issues.map((i: { code: string }) => i.code)).toContain('RECEIPT_UNSIGNED');

    await kfm(['--sign-key-env', 'KFM_KEY', 'rollback', dir], { ...db.env, KFM_KEY: trusted.pem });
    // The stranger's receipt stays in the history: verify keeps refusing it, as it should.
    const mixed = await kfm(['verify', dir], db.env);
    expect(mixed.json.issues.filter((i: { code: string }) => i.code === 'RECEIPT_UNSIGNED').length).toBeGreaterThan(0);
  });
});
