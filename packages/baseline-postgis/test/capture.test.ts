// Baseline capture against the real server: determinism, exclusions, and which changes move which
// fingerprint. Each assertion reads the database state back through a fresh capture.
import { validateValue } from '@kfm/migration-contracts';
import type { Baseline } from '@kfm/migration-contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturePostgisBaseline, ensureLedger } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from './database.js';

let db: TestDatabase;

const SCHEMA_SQL = `
    CREATE SCHEMA governance;
    CREATE TABLE public.parcels (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, parcel_no text NOT NULL UNIQUE,
      geom geometry(MultiPolygon, 4326) NOT NULL, area_m2 double precision, updated_at timestamptz DEFAULT now());
    CREATE TABLE public.authority_sites (id integer PRIMARY KEY, geom geometry(Point, 4326));
    CREATE INDEX authority_sites_geom_idx ON public.authority_sites USING gist (geom);
    CREATE TABLE governance.decisions (id integer PRIMARY KEY, outcome text NOT NULL, decided_at timestamptz NOT NULL DEFAULT '2026-01-01 12:00+00');
    CREATE VIEW public.parcel_summary AS SELECT count(*) AS n FROM public.parcels;
    CREATE FUNCTION public.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
    CREATE TRIGGER parcels_touch BEFORE UPDATE ON public.parcels FOR EACH ROW EXECUTE FUNCTION public.touch();
    INSERT INTO public.parcels (parcel_no, geom)
      SELECT 'P-' || i, ST_Multi(ST_MakeEnvelope(i * 0.01, 0, i * 0.01 + 0.009, 0.009, 4326)) FROM generate_series(1, 50) AS i;
    INSERT INTO public.authority_sites VALUES (1, ST_SetSRID(ST_MakePoint(0.5, 0.5), 4326)), (2, ST_SetSRID(ST_MakePoint(0.6, 0.5), 4326));
    INSERT INTO governance.decisions VALUES (1, 'approved');
    ANALYZE;
  `;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.client.query(SCHEMA_SQL);
});

afterAll(async () => {
  await db?.drop();
});

const protectedDomains = { schemas: ['governance'], tables: ['authority_sites', 'governance.decisions'] };
const capture = (options = {}) => capturePostgisBaseline(db.client, { protected: protectedDomains, ...options });
const find = (baseline: Baseline, kind: string, name: string) =>
  baseline.objects.find((object) => object.kind === kind && object.name === name);

describe('capturePostgisBaseline', () => {
  it('produces a schema-valid baseline of every object kind, without extension members', async () => {
    const baseline = await capture({ capturedAt: '2026-03-01T00:00:00Z' });
    expect(validateValue('baseline.v1', baseline)).toEqual([]);
    expect(baseline.server.product).toBe('PostgreSQL');
    expect(baseline.server.extensions?.postgis).toMatch(/^3\./);
    expect(find(baseline, 'column', 'public.parcels.geom')?.attributes).toMatchObject({
      geometry_type: 'MultiPolygon',
      srid: 4326,
    });
    expect(find(baseline, 'index', 'public.authority_sites_geom_idx')?.attributes).toMatchObject({
      method: 'gist',
      columns: ['geom'],
    });
    expect(find(baseline, 'constraint', 'public.parcels.parcels_pkey')).toBeDefined();
    expect(find(baseline, 'view', 'public.parcel_summary')).toBeDefined();
    expect(find(baseline, 'trigger', 'public.parcels.parcels_touch')).toBeDefined();
    expect(find(baseline, 'function', 'public.touch()')).toBeDefined();
    expect(find(baseline, 'sequence', 'public.parcels_id_seq')?.scope.tables).toEqual(['public.parcels', 'parcels']);
    expect(find(baseline, 'extension', 'postgis')?.attributes).toMatchObject({
      version: baseline.server.extensions?.postgis,
    });
    // PostGIS owns hundreds of functions and spatial_ref_sys: represented only by the extension object.
    expect(baseline.objects.some((object) => object.name.startsWith('public.spatial_ref_sys'))).toBe(false);
    expect(baseline.objects.some((object) => object.kind === 'function' && /st_/i.test(object.name))).toBe(false);
    expect(baseline.counts).toMatchObject({
      schemas: 2,
      tables: 3,
      views: 1,
      functions: 1,
      triggers: 1,
      extensions: 2,
    });
    expect(baseline.measures?.rows_estimate).toMatchObject({ 'public.parcels': 50, 'public.authority_sites': 2 });
    expect(JSON.stringify(baseline)).not.toMatch(/"oid"|relfilenode/);
  });

  it('is deterministic: two captures of the same state are identical (captured_at aside)', async () => {
    const first = await capture({ capturedAt: '2026-03-01T00:00:00Z' });
    const second = await capture({ capturedAt: '2026-03-01T00:00:00Z' });
    expect(second).toEqual(first);
  });

  it('gives a second database built by the same DDL the same fingerprints (no OIDs inside)', async () => {
    const twin = await createTestDatabase();
    try {
      await twin.client.query(SCHEMA_SQL);
      const mine = await capture();
      const theirs = await capturePostgisBaseline(twin.client, { protected: protectedDomains });
      expect(theirs.fingerprints).toEqual(mine.fingerprints);
      expect(theirs.objects).toEqual(mine.objects);
    } finally {
      await twin.drop();
    }
  });

  it("lists a table's columns in attribute order, whatever order the catalog holds them in", async () => {
    await db.client.query(
      'CREATE TABLE public.ordered (a integer, b text, c date, g1 geometry(Point, 4326), g2 geometry(Point, 4326))',
    );
    try {
      const objectsOf = (baseline: Baseline) =>
        baseline.objects.filter((o) => o.name.startsWith('public.ordered')).map((o) => [o.name, o.digest]);
      const checks = { declaration: { invariants: { spatial_index_required: ['public.ordered'] } } };
      const before = await capture(checks);
      // A catalog update writes a new row version: a's pg_attribute row now comes after the others on disk.
      await db.client.query('ALTER TABLE public.ordered ALTER COLUMN a SET STATISTICS 50');
      await db.client.query('ALTER TABLE public.ordered ALTER COLUMN g1 SET STATISTICS 50');
      await db.client.query('ALTER TABLE public.ordered ALTER COLUMN a SET STATISTICS -1');
      await db.client.query('ALTER TABLE public.ordered ALTER COLUMN g1 SET STATISTICS -1');
      const stored = await db.client.query(
        "SELECT array_agg(attname::text ORDER BY ctid) AS names FROM pg_attribute WHERE attrelid = 'public.ordered'::regclass AND attnum > 0",
      );
      expect(stored.rows[0].names).not.toEqual(['a', 'b', 'c', 'g1', 'g2']);
      const after = await capture(checks);
      expect(objectsOf(after)).toEqual(objectsOf(before));
      expect(after.invariants).toEqual(before.invariants);
      expect(after.invariants?.map((check) => check.name)).toEqual([
        'spatial_index:public.ordered.g1',
        'spatial_index:public.ordered.g2',
      ]);
    } finally {
      await db.client.query('DROP TABLE public.ordered');
    }
  });

  it('does not depend on the session search_path, time zone or date style', async () => {
    const reference = await capture();
    const other = await db.connect();
    await other.query(
      `SET search_path = governance, public; SET TimeZone = 'America/Denver'; SET DateStyle = 'SQL, DMY'`,
    );
    const elsewhere = await capturePostgisBaseline(other, { protected: protectedDomains });
    expect(elsewhere.fingerprints).toEqual(reference.fingerprints);
    // governance.decisions has a timestamptz column: its row text would follow the session TimeZone.
    expect(elsewhere.protected?.content).toEqual(reference.protected?.content);
    expect((await other.query('SHOW search_path')).rows[0].search_path).toBe('governance, public');
  });

  it('excludes the runner ledger: creating it leaves every fingerprint unchanged', async () => {
    const before = await capture();
    await ensureLedger(db.client);
    await db.client.query(
      `INSERT INTO kfm_ledger.applied (migration_id, bundle_digest, run_id, status) VALUES ('PG-MIG-2026-03-01-01', 'x', 'r1', 'applied')`,
    );
    const after = await capture();
    expect(after.fingerprints).toEqual(before.fingerprints);
    expect(after.objects.some((object) => object.name.startsWith('kfm_ledger'))).toBe(false);
  });

  it('moves the schema fingerprint and the column digest on a column type change, and nothing else', async () => {
    const before = await capture();
    await db.client.query('ALTER TABLE public.parcels ALTER COLUMN area_m2 TYPE numeric(12, 2)');
    const after = await capture();
    expect(after.fingerprints.schema).not.toBe(before.fingerprints.schema);
    expect(find(after, 'column', 'public.parcels.area_m2')?.digest).not.toBe(
      find(before, 'column', 'public.parcels.area_m2')?.digest,
    );
    const changed = after.objects
      .filter((object) => find(before, object.kind, object.name)?.digest !== object.digest)
      .map((object) => object.name);
    expect(changed).toEqual(['public.parcels.area_m2']);
    // Unprotected change: the protected fingerprint stays put.
    expect(after.fingerprints.protected).toBe(before.fingerprints.protected);
  });

  it('moves the protected fingerprint only when a protected object changes', async () => {
    const before = await capture();
    await db.client.query('CREATE INDEX parcels_parcel_no_idx ON public.parcels (parcel_no)');
    const unprotected = await capture();
    expect(unprotected.fingerprints.schema).not.toBe(before.fingerprints.schema);
    expect(unprotected.fingerprints.protected).toBe(before.fingerprints.protected);
    await db.client.query('ALTER TABLE governance.decisions ADD COLUMN note text');
    const touched = await capture();
    expect(touched.fingerprints.protected).not.toBe(unprotected.fingerprints.protected);
    expect(touched.protected?.objects).toContain('column:governance.decisions.note');
  });

  it('digests protected table rows inside the database and notices a changed row', async () => {
    const before = await capture();
    expect(Object.keys(before.protected?.content ?? {}).sort()).toEqual([
      'governance.decisions',
      'public.authority_sites',
    ]);
    await db.client.query('UPDATE public.parcels SET area_m2 = 1 WHERE id = 1');
    expect((await capture()).protected?.content).toEqual(before.protected?.content);
    await db.client.query(
      'UPDATE public.authority_sites SET geom = ST_SetSRID(ST_MakePoint(0.7, 0.5), 4326) WHERE id = 2',
    );
    const after = await capture();
    expect(after.protected?.content?.['public.authority_sites']).not.toBe(
      before.protected?.content?.['public.authority_sites'],
    );
    // Data never moves a schema fingerprint.
    expect(after.fingerprints).toEqual(before.fingerprints);
    const skipped = await capture({ protectedContent: false });
    expect(skipped.protected?.content).toBeUndefined();
  });

  it('digests a protected table with its identity and owned sequences, not only its rows', async () => {
    await db.client.query(
      'CREATE TABLE governance.ledger_copy (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text)',
    );
    await db.client.query("INSERT INTO governance.ledger_copy (note) VALUES ('a'), ('b')");
    const options = { protected: { schemas: ['governance'], tables: ['governance.ledger_copy'] } };
    const before = (await capturePostgisBaseline(db.client, options)).protected?.content?.['governance.ledger_copy'];
    // Dropped and recreated with the same rows: grants, policies and dependants would be gone.
    await db.client.query('CREATE TABLE governance.ledger_tmp AS TABLE governance.ledger_copy');
    await db.client.query('DROP TABLE governance.ledger_copy');
    await db.client.query(
      'CREATE TABLE governance.ledger_copy (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text)',
    );
    await db.client.query(
      'INSERT INTO governance.ledger_copy (id, note) OVERRIDING SYSTEM VALUE SELECT id, note FROM governance.ledger_tmp',
    );
    await db.client.query("SELECT setval(pg_get_serial_sequence('governance.ledger_copy', 'id'), 2)");
    await db.client.query('DROP TABLE governance.ledger_tmp');
    const recreated = (await capturePostgisBaseline(db.client, options)).protected?.content?.['governance.ledger_copy'];
    expect(recreated).not.toBe(before);
    // The identity sequence restarted: the next insert would reuse ids.
    await db.client.query('ALTER TABLE governance.ledger_copy ALTER COLUMN id RESTART WITH 1');
    expect((await capturePostgisBaseline(db.client, options)).protected?.content?.['governance.ledger_copy']).not.toBe(
      recreated,
    );
    await db.client.query('DROP TABLE governance.ledger_copy');
  });

  it('counts rows exactly for the declaration scope only', async () => {
    const declaration = { scope: { allowed_tables: ['parcels'], forbidden_tables: ['authority_*'] } } as never;
    const baseline = await capture({ declaration });
    expect(baseline.measures?.rows_exact).toEqual({ 'public.parcels': 50, 'public.authority_sites': 2 });
  });

  it('checks the spatial index invariant per geometry column', async () => {
    const declaration = { scope: {}, invariants: { spatial_index_required: ['parcels', 'authority_sites'] } } as never;
    const failing = await capture({ declaration });
    expect(failing.invariants?.map((check) => [check.name, check.status, check.code])).toEqual([
      ['spatial_index:public.authority_sites.geom', 'pass', undefined],
      ['spatial_index:public.parcels.geom', 'fail', 'INVARIANT_FAILED'],
    ]);
    await db.client.query('CREATE INDEX parcels_geom_idx ON public.parcels USING gist (geom)');
    const passing = await capture({ declaration });
    expect(passing.invariants?.every((check) => check.status === 'pass')).toBe(true);
  });
});
