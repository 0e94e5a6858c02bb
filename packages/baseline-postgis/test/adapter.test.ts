// The StoreAdapter lifecycle against the real server: lock, ledger, transactional apply (commit,
// abort, failing statement), rows measured, non-transactional apply + rollback, unreachable server.
import type { ApplyRequest, Baseline, MigrationDeclaration, ScriptFile, StoreSession } from '@kfm/migration-contracts';
import { KfmError } from '@kfm/migration-contracts';
import { cidOfScript } from '@kfm/receipts';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SIGNATURES_QUERY } from '../src/catalog-queries.js';
import { capturePostgisBaseline, postgisAdapter } from '../src/index.js';
import { countQueries, createTestDatabase, type TestDatabase } from './database.js';

let db: TestDatabase;
let session: StoreSession;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.client.query(`
    CREATE TABLE public.parcels (id integer PRIMARY KEY, geom geometry(Polygon, 4326) NOT NULL, area_m2 double precision);
    INSERT INTO public.parcels SELECT i, ST_MakeEnvelope(i * 0.01, 0, i * 0.01 + 0.009, 0.009, 4326) FROM generate_series(1, 120) AS i;
  `);
});

beforeEach(async () => {
  session = await postgisAdapter.connect({ dsn: db.dsn }, { applicationName: 'kfm-migrate-test' });
});

afterEach(async () => {
  await session.close();
});

afterAll(async () => {
  await db?.drop();
});

const declaration = (extra: Partial<MigrationDeclaration> = {}): MigrationDeclaration => ({
  migration_id: 'PG-MIG-2026-03-01-01',
  type: 'postgis',
  intent: 'test',
  scope: { allowed_schemas: ['public'], allowed_tables: ['parcels'] },
  limits: {},
  requires_rollback: true,
  approvals: {},
  runner: { lock_timeout: '2s' },
  artifacts: { forward: ['forward.sql'], rollback: ['rollback.sql'] },
  ...extra,
});

async function script(path: string, text: string): Promise<ScriptFile> {
  return { path, text, digest: await cidOfScript(text) };
}

async function request(
  forward: string,
  decide: (post: Baseline, metrics: Record<string, number>) => boolean,
  extra: Partial<ApplyRequest> = {},
): Promise<ApplyRequest> {
  const file = await script('forward.sql', forward);
  return {
    declaration: declaration(),
    scripts: [file],
    transactional: true,
    baseline: {},
    ledger: { migration_id: 'PG-MIG-2026-03-01-01', bundle_digest: file.digest, run_id: 'run-1', status: 'applied' },
    decide: async ({ post, metrics }) => decide(post, metrics),
    ...extra,
  };
}

const lease = (owner: string) => ({ owner, run_id: `run-of-${owner}`, ttlMs: 30_000, waitMs: 0 });

const fingerprint = async () => (await capturePostgisBaseline(db.client)).fingerprints.schema;

describe('postgisAdapter', () => {
  it('declares its type, scripts and connection variable', () => {
    expect(postgisAdapter).toMatchObject({
      type: 'postgis',
      language: { forward: 'forward.sql', rollback: 'rollback.sql' },
      connection: { dsn: 'KFM_PG_DSN' },
      vocabulary: { idPrefix: 'PG' },
    });
  });

  it('fails fast when another session holds the lock, naming the holder', async () => {
    const other = await postgisAdapter.connect({ dsn: db.dsn }, { applicationName: 'kfm-migrate' });
    try {
      expect(await other.lock(lease('run-A'))).toMatchObject({ acquired: true });
      const otherPid = (
        await db.client.query(`SELECT pid FROM pg_stat_activity WHERE application_name = 'kfm-migrate run-A'`)
      ).rows[0]?.pid;
      expect(otherPid).toBeTypeOf('number');
      const denied = await session.lock(lease('run-B'));
      expect(denied.acquired).toBe(false);
      if (denied.acquired) return;
      expect(denied.holder.description).toContain(`pid ${otherPid}`);
      expect(denied.holder.description).toContain('kfm-migrate run-A');
      expect(denied.holder.description).toMatch(/since \d{4}-\d\d-\d\dT/);
      await other.unlock();
      expect(await session.lock(lease('run-B'))).toMatchObject({ acquired: true });
      await session.unlock();
    } finally {
      await other.close();
    }
  });

  it('reads an absent ledger without creating it', async () => {
    expect(await session.ledgerState('PG-MIG-2026-03-01-01')).toEqual({ state: 'absent' });
    const schemas = await db.client.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'kfm_ledger'`);
    expect(schemas.rowCount).toBe(0);
  });

  it('runs the change detector only for a capture another may follow: `once` reads the same baseline without it', async () => {
    // The real connection's query method, recorded: which SQL the session sends the server.
    const { sent } = countQueries((session as unknown as { client: pg.Client }).client);
    const detectorRuns = () => sent.filter((sql) => sql === SIGNATURES_QUERY).length;
    const once = await session.captureBaseline({ capturedAt: '2026-03-01T00:00:00Z', once: true });
    expect(detectorRuns()).toBe(0);
    const followed = await session.captureBaseline({ capturedAt: '2026-03-01T00:00:00Z' });
    expect(detectorRuns()).toBe(1);
    expect(JSON.stringify(once)).toBe(JSON.stringify(followed));
  });

  it('aborts at the commit point when decide says no, leaving the fingerprint at PRE and no ledger row', async () => {
    const pre = await fingerprint();
    let seen: Baseline | undefined;
    const result = await session.apply(
      await request('CREATE INDEX parcels_geom_idx ON parcels USING gist (geom);', (post) => {
        seen = post;
        return false;
      }),
    );
    expect(result).toMatchObject({ status: 'aborted', atPre: true });
    // The POST baseline was captured inside the transaction: it saw the uncommitted index.
    expect(seen?.objects.some((object) => object.name === 'public.parcels_geom_idx')).toBe(true);
    expect(await fingerprint()).toBe(pre);
    expect((await session.ledgerState('PG-MIG-2026-03-01-01')).state).toBe('absent');
  });

  it('rolls everything back when a statement fails halfway, pointing at file:line', async () => {
    const pre = await fingerprint();
    const forward =
      'CREATE INDEX parcels_geom_idx ON parcels USING gist (geom);\nALTER TABLE parcels ADD COLUMN note text;\n\nUPDATE parcels SET missing_column = 1;\n';
    const result = await session.apply(await request(forward, () => true));
    expect(result).toMatchObject({
      status: 'failed',
      atPre: true,
      failure: { code: 'STATEMENT_FAILED', file: 'forward.sql', line: 4 },
    });
    expect(result.failure?.message).toMatch(/missing_column/);
    expect(result.metrics.statements).toBe(2);
    expect(await fingerprint()).toBe(pre);
  });

  it('measures rows_affected of a backfill and commits with the ledger row when decide says yes', async () => {
    const pre = await capturePostgisBaseline(db.client);
    let metricsSeen: Record<string, number> = {};
    const result = await session.apply(
      await request(
        'CREATE INDEX parcels_geom_idx ON parcels USING gist (geom);\nUPDATE parcels SET area_m2 = ST_Area(geom::geography) WHERE id <= 75;',
        (_post, metrics) => {
          metricsSeen = metrics;
          return true;
        },
      ),
    );
    expect(result.status).toBe('committed');
    expect(metricsSeen).toMatchObject({ statements: 2, rows_affected: 75 });
    expect(metricsSeen.post_capture_ms).toBeTypeOf('number');
    const post = await capturePostgisBaseline(db.client);
    expect(post.fingerprints.schema).toBe(result.post?.fingerprints.schema);
    expect(post.fingerprints.schema).not.toBe(pre.fingerprints.schema);
    expect((await db.client.query('SELECT count(*)::int AS n FROM parcels WHERE area_m2 > 0')).rows[0].n).toBe(75);
    expect(await session.ledgerState('PG-MIG-2026-03-01-01')).toMatchObject({ state: 'applied', run_id: 'run-1' });
  });

  it('keeps an append-only ledger history and returns the latest state and newest receipt', async () => {
    await session.recordLedger({
      migration_id: 'PG-MIG-2026-03-01-01',
      bundle_digest: 'bafkreia',
      run_id: 'run-2',
      status: 'rolled_back',
      receipt_digest: 'bagaaierareceipt1',
    });
    await session.recordLedger({
      migration_id: 'PG-MIG-2026-03-02-01',
      bundle_digest: 'bafkreib',
      run_id: 'run-3',
      status: 'applied',
    });
    expect(await session.ledgerState('PG-MIG-2026-03-01-01')).toEqual({
      state: 'rolled_back',
      bundle_digest: 'bafkreia',
      run_id: 'run-2',
      last_receipt_digest: 'bagaaierareceipt1',
    });
    await expect(db.client.query(`DELETE FROM kfm_ledger.applied`)).rejects.toThrow(/append-only/);
    const versions = await db.client.query('SELECT id, name FROM kfm_ledger.migrations ORDER BY id');
    expect(versions.rows).toEqual([
      { id: 0, name: 'create-migrations-table' },
      { id: 1, name: 'create-applied' },
      { id: 2, name: 'receipt-rows' },
      { id: 3, name: 'bundle-identity-states-policy' },
    ]);
  });

  it('runs a non-transactional forward in autocommit; when refused, the rollback restores PRE', async () => {
    const pre = await fingerprint();
    const forward = 'CREATE INDEX CONCURRENTLY parcels_area_idx ON parcels (area_m2);';
    const result = await session.apply(
      await request(forward, () => false, { transactional: false, declaration: declaration({ transactional: false }) }),
    );
    expect(result).toMatchObject({ status: 'applied', atPre: false });
    expect(await fingerprint()).not.toBe(pre);
    const rollback = await session.runRollback(
      [await script('rollback.sql', 'DROP INDEX CONCURRENTLY IF EXISTS parcels_area_idx;')],
      declaration({ transactional: false }),
    );
    expect(rollback).toMatchObject({ ok: true });
    expect(rollback.statements?.map((s) => s.outcome)).toEqual(rollback.statements?.map(() => 'ok'));
    expect(await fingerprint()).toBe(pre);
  });

  it('reports a failing rollback statement as ROLLBACK_FAILED with file:line and leaves the transaction clean', async () => {
    const pre = await fingerprint();
    const rollback = await session.runRollback(
      [await script('rollback.sql', 'DROP INDEX IF EXISTS nothing_here;\nDROP TABLE no_such_table;')],
      declaration(),
    );
    expect(rollback).toMatchObject({ ok: false, failure: { code: 'ROLLBACK_FAILED', file: 'rollback.sql', line: 2 } });
    expect(await fingerprint()).toBe(pre);
  });
});

describe('connect', () => {
  it('throws STORE_UNREACHABLE naming host:port only, never the DSN, user or password', async () => {
    const dsn = 'postgres://secret_user:VerySecretPassword@127.0.0.1:1/kfm_test';
    const error = await postgisAdapter
      .connect({ dsn }, { applicationName: 'kfm-test' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KfmError);
    expect((error as KfmError).code).toBe('STORE_UNREACHABLE');
    const text = `${(error as Error).message} ${JSON.stringify(error)}`;
    expect(text).toContain('127.0.0.1:1');
    for (const secret of ['secret_user', 'VerySecretPassword', dsn]) expect(text).not.toContain(secret);
  });

  it('masks the user name PostgreSQL itself echoes when it refuses a connection', async () => {
    const url = new URL(db.dsn);
    url.username = 'no_such_role_42';
    const error = await postgisAdapter
      .connect({ dsn: url.toString() }, { applicationName: 'kfm-test' })
      .catch((caught: unknown) => caught);
    expect((error as KfmError).code).toBe('STORE_UNREACHABLE');
    expect((error as Error).message).toMatch(/role "\*\*\*" does not exist/);
    expect((error as Error).message).not.toContain('no_such_role_42');
  });
});
