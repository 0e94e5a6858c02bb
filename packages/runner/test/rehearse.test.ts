// Rollback rehearsal against the real PostgreSQL+PostGIS, through the CLI: the forward and rollback run
// on a scratch copy (CREATE DATABASE … TEMPLATE); the real database must stay exactly as it was and the
// copy must be gone afterwards, whether the rehearsal passes or fails.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { admin, bundle, dsnFor, fingerprint, kfm, query, seededDatabasePerTest } from './postgis-harness.js';

const db = seededDatabasePerTest();

const exists = async (name: string) =>
  (await admin((c) => c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]))).rowCount === 1;
const columns = async (db: string) =>
  (
    await query<{ column_name: string }>(
      db,
      "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'parcels' ORDER BY 1",
    )
  ).map((r) => r.column_name);
const ADD_NOTE = 'ALTER TABLE public.parcels ADD COLUMN note text;\n';

describe('kfm-migrate rehearse on PostGIS', () => {
  it('passes when the rollback restores PRE, writes a rehearsal receipt beside (not over) real runs, and drops the copy', async () => {
    const before = await fingerprint(db.name);
    const columnsBefore = await columns(db.name);
    const dir = await bundle({ forward: ADD_NOTE, rollback: 'ALTER TABLE public.parcels DROP COLUMN note;\n' });
    const run = await kfm(['rehearse', dir], db.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.json.command).toBe('rehearse');
    expect(run.json.outcome.status).toBe('rolled_back');
    expect(run.json.fingerprints.pre).toBe(before);
    expect(run.json.fingerprints.after_rollback).toBe(before);
    expect(run.json.fingerprints.post).not.toBe(before);
    expect(run.json.rehearsal.scratch).toMatch(/^kfm_rehearsal_[0-9a-f]{12}$/);
    expect(await exists(run.json.rehearsal.scratch)).toBe(false);
    expect(await fingerprint(db.name)).toBe(before);
    expect(await columns(db.name)).toEqual(columnsBefore);
    // The real database never saw the migration: its ledger has no row for it.
    expect(await query(db.name, "SELECT 1 FROM pg_namespace WHERE nspname = 'kfm_ledger'")).toEqual([]);

    const runs = await fs.readdir(path.join(dir, 'receipts/runs'));
    expect(runs).toHaveLength(1);
    const receipt = JSON.parse(
      await fs.readFile(path.join(dir, 'receipts/runs', runs[0] as string, 'run_receipt.json'), 'utf8'),
    );
    expect(receipt).toMatchObject({
      run_type: 'rehearsal',
      operation: 'rehearse',
      digest_algorithm: 'kfm-digest/v1',
      outcome: { status: 'rolled_back', exit_code: 0 },
    });
    expect(receipt).not.toHaveProperty('previous_receipt');
    expect(receipt.validation.checks.map((c: { name: string; status: string }) => `${c.name}:${c.status}`)).toEqual(
      expect.arrayContaining([
        'scratch_copy_matches_source:pass',
        'rehearsal_apply_committed:pass',
        'rehearsal_rollback_restored_pre:pass',
        'real_store_untouched:pass',
        'rollback/rollback_restored_pre:pass',
      ]),
    );
    // The latest-run paths belong to real runs only.
    for (const latest of ['receipts/run_receipt.json', 'baselines/pre.json', 'diffs/summary.json'])
      await expect(fs.stat(path.join(dir, latest))).rejects.toThrow();
    const verify = await kfm(['verify', dir], db.env);
    expect(verify.code, JSON.stringify(verify.json.issues)).toBe(0);
    expect(verify.json.attestations).toEqual([expect.objectContaining({ statement: 'ok' })]);
  });

  it('fails with exit 1 when the rollback leaves a column behind; the real database is untouched and the copy dropped', async () => {
    const before = await fingerprint(db.name);
    const dir = await bundle({
      forward: `${ADD_NOTE}ALTER TABLE public.parcels ADD COLUMN memo text;\n`,
      rollback: 'ALTER TABLE public.parcels DROP COLUMN note;\n',
    });
    const run = await kfm(['rehearse', dir], db.env);
    expect(run.code).toBe(1);
    expect(run.json.outcome).toMatchObject({ status: 'rollback_failed', exit_code: 1 });
    expect(run.json.fingerprints.after_rollback).not.toBe(before);
    const failing = run.json.checks
      .filter((c: { status: string }) => c.status === 'fail')
      .map((c: { name: string }) => c.name);
    expect(failing).toEqual(
      expect.arrayContaining(['rehearsal_rollback_restored_pre', 'rollback/rollback_restored_pre']),
    );
    expect(failing).not.toContain('real_store_untouched');
    expect(await fingerprint(db.name)).toBe(before);
    expect(await columns(db.name)).not.toContain('memo');
    expect(await exists(run.json.rehearsal.scratch)).toBe(false);
    const verify = await kfm(['verify', dir], db.env);
    expect(verify.code).toBe(0);
  });

  it('refuses with exit 3 and a clear message while another session is connected to the source, creating nothing', async () => {
    const before = (
      await admin((c) => c.query("SELECT datname FROM pg_database WHERE datname LIKE 'kfm_rehearsal_%'"))
    ).rows.map((r) => r.datname);
    const other = new pg.Client({ connectionString: dsnFor(db.name), application_name: 'someone-else' });
    await other.connect();
    try {
      const dir = await bundle({ forward: ADD_NOTE, rollback: 'ALTER TABLE public.parcels DROP COLUMN note;\n' });
      const run = await kfm(['rehearse', dir], db.env);
      expect(run.code).toBe(3);
      expect(run.json.issues[0].code).toBe('STORE_UNREACHABLE');
      expect(run.json.issues[0].message).toContain('needs no other session connected');
      expect(run.json.issues[0].message).toContain('someone-else');
      const after = (
        await admin((c) => c.query("SELECT datname FROM pg_database WHERE datname LIKE 'kfm_rehearsal_%'"))
      ).rows.map((r) => r.datname);
      expect(after).toEqual(before);
    } finally {
      await other.end();
    }
  });

  it('ci --rehearse rehearses draft and approved bundles, skips stores without variables, and fails on a bad rollback', async () => {
    const root = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-ci-rehearse-'));
    try {
      const good = await bundle({
        id: 'PG-MIG-2026-11-24-01',
        forward: ADD_NOTE,
        rollback: 'ALTER TABLE public.parcels DROP COLUMN note;\n',
      });
      const bad = await bundle({ id: 'PG-MIG-2026-11-24-02', forward: ADD_NOTE, rollback: 'SELECT 1;\n' });
      const done = await bundle({ id: 'PG-MIG-2026-11-24-03', forward: ADD_NOTE, rollback: 'SELECT 1;\n' });
      const entries: unknown[] = [];
      for (const [dir, id, status] of [
        [good, 'PG-MIG-2026-11-24-01', 'draft'],
        [bad, 'PG-MIG-2026-11-24-02', 'approved'],
        [done, 'PG-MIG-2026-11-24-03', 'executed_prod'],
      ] as const) {
        await fs.cp(dir, path.join(root, 'migrations/postgis', id), { recursive: true });
        entries.push({
          migration_id: id,
          type: 'postgis',
          path: `postgis/${id}`,
          owners: ['kfm-platform'],
          status,
          history: [{ status, at: '2026-11-24T00:00:00Z' }],
        });
      }
      await fs.mkdir(path.join(root, 'migrations/registry'), { recursive: true });
      await fs.writeFile(
        path.join(root, 'migrations/registry/migrations.v1.json'),
        JSON.stringify({ kfm_migrations_registry_version: 'v1', migrations: entries }),
      );
      const before = await fingerprint(db.name);
      const run = await kfm(['ci', '--root', root, '--rehearse'], db.env);
      expect(
        run.json.rehearsals.map((r: { migration_id: string; status: string }) => `${r.migration_id}:${r.status}`),
      ).toEqual(['PG-MIG-2026-11-24-01:passed', 'PG-MIG-2026-11-24-02:failed']);
      expect(run.code).toBe(1);
      expect(
        run.json.findings.filter((f: { gate: string }) => f.gate === 'rehearsal').map((f: { file: string }) => f.file),
      ).toEqual(expect.arrayContaining(['migrations/postgis/PG-MIG-2026-11-24-02']));
      expect(await fingerprint(db.name)).toBe(before);

      const skipped = await kfm(['ci', '--root', root, '--rehearse'], { KFM_PG_DSN: '' });
      expect(skipped.json.rehearsals.map((r: { status: string; note: string }) => `${r.status}:${r.note}`)).toEqual([
        'skipped:environment variable KFM_PG_DSN (dsn) is not set',
        'skipped:environment variable KFM_PG_DSN (dsn) is not set',
      ]);
    } finally {
      await fs.rm(root, { recursive: true, force: true });
    }
  });
});
