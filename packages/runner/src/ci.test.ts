import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import { evaluate, renderTouchedCsv } from '@kfm/diff';
import type { Baseline } from '@kfm/migration-contracts';
import { postgisAdapter } from '@kfm/baseline-postgis';
import { cidOfJson } from '@kfm/receipts';
import { registerAdapter } from './adapters.js';
import { prepareBundle, type PreparedBundle } from './bundle.js';
import { runCi } from './ci.js';
import { silentReporter } from './progress.js';
import { writeRun } from './evidence.js';

registerAdapter(postgisAdapter);

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BUNDLE = 'postgis/PG-MIG-2026-02-28-01';
let root: string;

async function baseline(objects: { kind: string; name: string; table: string; schema?: string }[]): Promise<Baseline> {
  const objs = await Promise.all(
    objects.map(async (o) => ({
      kind: o.kind,
      name: o.name,
      scope: { schemas: [o.schema ?? 'public'], tables: [`${o.schema ?? 'public'}.${o.table}`, o.table] },
      digest: await cidOfJson(o),
    })),
  );
  return {
    kfm_baseline_version: 'v1',
    store: 'postgis',
    server: { product: 'PostgreSQL', version: '15' },
    counts: { indexes: objs.filter((o) => o.kind === 'index').length },
    objects: objs,
    fingerprints: { schema: await cidOfJson(objs.map((o) => [o.kind, o.name, o.digest])) },
  };
}

async function committedRun(bundle: PreparedBundle, post: Baseline, forgeStatus = false) {
  const pre = await baseline([{ kind: 'table', name: 'public.parcels', table: 'parcels' }]);
  const summary = evaluate(
    bundle.loaded.declaration,
    { pre, post, metrics: { rows_affected: 0 } },
    postgisAdapter.vocabulary,
  );
  if (forgeStatus) {
    summary.status = 'pass';
    for (const check of summary.checks) check.status = 'pass';
  }
  const written = await writeRun(
    bundle,
    {
      bundle: bundle.loaded.bundleDir,
      environment: 'dev',
      actor: { principal: 'svc:test' },
      env: {},
      runnerVersion: 'test',
      now: () => new Date('2026-11-24T10:00:00Z'),
      reporter: silentReporter(),
    },
    {
      operation: 'apply',
      store: 'postgis',
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      checks: summary.checks,
      outcome: { status: 'committed', exit_code: 0 },
      pre,
      post,
      summary,
      touchedCsv: renderTouchedCsv(summary),
      details: {},
    },
    { dir: bundle.loaded.bundleDir, latest: true },
  );
  expect(written.ok).toBe(true);
}

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-ci-'));
  await fs.mkdir(path.join(root, 'migrations/registry'), { recursive: true });
  await fs.cp(path.join(repo, 'migrations', BUNDLE), path.join(root, 'migrations', BUNDLE), { recursive: true });
  const registry = JSON.parse(await fs.readFile(path.join(repo, 'migrations/registry/migrations.v1.json'), 'utf8'));
  // The bundle as authored: registered as a draft, never run (its committed evidence is not part of these cases).
  registry.migrations = registry.migrations
    .filter((m: { path: string }) => m.path === BUNDLE)
    .map((m: object) => ({ ...m, status: 'draft', history: [{ status: 'draft', at: '2026-02-28T09:00:00Z' }] }));
  await fs.writeFile(path.join(root, 'migrations/registry/migrations.v1.json'), JSON.stringify(registry));
  // Start from the bundle as authored: the committed evidence of its real run is not part of these cases.
  for (const evidence of ['receipts', 'baselines', 'diffs', 'plan.json'])
    await fs.rm(path.join(root, 'migrations', BUNDLE, evidence), { recursive: true, force: true });
});

describe('kfm-migrate ci gates', () => {
  it('passes a valid, registered bundle', async () => {
    const result = await runCi(root);
    expect(result.findings).toEqual([]);
    expect(result.exit_code).toBe(0);
  });

  it('finds an unregistered bundle and a registry entry without a bundle', async () => {
    await fs.cp(path.join(root, 'migrations', BUNDLE), path.join(root, 'migrations/postgis/PG-MIG-2026-02-28-02'), {
      recursive: true,
    });
    const yml = path.join(root, 'migrations/postgis/PG-MIG-2026-02-28-02/migration.yml');
    await fs.writeFile(yml, (await fs.readFile(yml, 'utf8')).replace('PG-MIG-2026-02-28-01', 'PG-MIG-2026-02-28-02'));
    await fs.rm(path.join(root, 'migrations', BUNDLE), { recursive: true });
    const result = await runCi(root);
    expect(result.findings.map((f) => [f.gate, f.code])).toEqual([
      ['registry', 'REGISTRY_MISMATCH'],
      ['registry', 'REGISTRY_MISMATCH'],
    ]);
    expect(result.exit_code).toBe(1);
  });

  it('preflights a bundle not run yet without a store: forbidden names and escapes in either script, with file:line', async () => {
    const dir = path.join(root, 'migrations', BUNDLE);
    await fs.appendFile(
      path.join(dir, 'forward.sql'),
      'CREATE INDEX CONCURRENTLY sites_idx ON public.authority_sites (category);\n',
    );
    await fs.appendFile(
      path.join(dir, 'rollback.sql'),
      "SELECT dblink_exec('dbname=kfm', 'DELETE FROM governance.decisions');\n",
    );
    const result = await runCi(root);
    const scope = result.findings.filter((f) => f.gate === 'scope');
    expect(scope.map((f) => f.code)).toEqual(['PREFLIGHT_FORBIDDEN', 'PREFLIGHT_FORBIDDEN']);
    expect(scope[0]?.message).toMatch(/forward\.sql:\d+ names public\.authority_sites/);
    expect(scope[0]?.pointer).toBe('/scope/forbidden_tables/0');
    expect(scope[1]?.message).toMatch(/rollback\.sql:\d+ .*dblink_exec.*\[out-of-transaction-channel\]/);
    expect(result.exit_code).toBe(1);
  });

  it('fails the secrets gate on a DSN with a password in any committed file, without echoing it', async () => {
    await fs.appendFile(
      path.join(root, 'migrations', BUNDLE, 'notes.md'),
      '\nconnect with postgres://svc:Sup3rS3cret@db.internal:5432/kfm\n',
    );
    const result = await runCi(root);
    // Both secretlint's basic-auth rule and our DSN rule may name it; every finding is that file's.
    expect(result.findings.length).toBeGreaterThan(0);
    expect(new Set(result.findings.map((f) => `${f.gate}:${f.code}:${path.basename(f.file ?? '')}`))).toEqual(
      new Set(['secrets:POLICY_SCAN_HIT:notes.md']),
    );
    expect(result.exit_code).toBe(1);
    expect(JSON.stringify(result)).not.toContain('Sup3rS3cret');
  });

  it('refuses a reused id in the registry', async () => {
    const file = path.join(root, 'migrations/registry/migrations.v1.json');
    const registry = JSON.parse(await fs.readFile(file, 'utf8'));
    registry.migrations.push(registry.migrations[0]);
    await fs.writeFile(file, JSON.stringify(registry));
    expect((await runCi(root)).findings.map((f) => f.code)).toContain('REGISTRY_INVALID');
  });

  it('accepts honest committed evidence and catches a forged summary and a tampered receipt output', async () => {
    const prepared = await prepareBundle(path.join(root, 'migrations', BUNDLE));
    if (!prepared.ok) throw new Error(`fixture bundle invalid: ${JSON.stringify(prepared.issues)}`);
    const loaded = prepared.bundle;
    const inScope = await baseline([
      { kind: 'table', name: 'public.parcels', table: 'parcels' },
      { kind: 'index', name: 'public.parcels_geom_gist', table: 'parcels' },
    ]);
    await committedRun(loaded, inScope);
    expect((await runCi(root)).findings).toEqual([]);

    // A run that touched the forbidden authority_sites table, with a summary forged to say pass.
    const outOfScope = await baseline([
      { kind: 'table', name: 'public.parcels', table: 'parcels' },
      { kind: 'index', name: 'public.authority_sites_idx', table: 'authority_sites' },
    ]);
    await committedRun(loaded, outOfScope, true);
    const forged = await runCi(root);
    expect(
      forged.findings.some(
        (f) => f.gate === 'scope' && f.code === 'DIFF_SCOPE_MISMATCH' && /forbidden_tables/.test(f.message),
      ),
    ).toBe(true);

    await committedRun(loaded, inScope);
    await fs.appendFile(
      path.join(root, 'migrations', BUNDLE, 'diffs/touched.csv'),
      'added,index,public.other,public,other\n',
    );
    const runs = await fs.readdir(path.join(root, 'migrations', BUNDLE, 'receipts/runs'));
    const latest = runs.sort().at(-1) as string;
    await fs.appendFile(path.join(root, 'migrations', BUNDLE, 'receipts/runs', latest, 'diffs/touched.csv'), 'x');
    const tampered = await runCi(root);
    const codes = tampered.findings.filter((f) => f.gate === 'receipts').map((f) => f.code);
    expect(codes).toContain('RECEIPT_DIGEST_MISMATCH');
    expect(codes).toContain('EVIDENCE_MISMATCH');
  });
});
