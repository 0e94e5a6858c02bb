// The incremental capture must produce exactly the baseline a full capture produces. Every case captures the
// same database three ways and compares the JSON byte for byte: the frozen pre-incremental code
// (test/legacy), today's full capture, and today's capture with a cache from the capture before the change.
// Each change runs inside a transaction like a migration's POST, and again after it is rolled back. The
// cases are the ones a change detector could miss: changes that render into a relation's objects without
// touching that relation's own catalog rows (renamed referenced tables, columns, types, functions,
// schemas and roles, ownership of sequences, extension membership, comments, privileges …).
import type { Baseline } from '@kfm/migration-contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CaptureCache, capturePostgisBaseline, createCaptureCache } from '../src/index.js';
import { capturePostgisBaseline as legacyCapture } from './legacy/capture.js';
import { createTestDatabase, type TestDatabase } from './database.js';

let db: TestDatabase;
const FILLERS = 40;

const SCHEMA_SQL = `
  CREATE SCHEMA app;
  CREATE SCHEMA other;
  CREATE TYPE app.mood AS ENUM ('calm', 'busy');
  CREATE DOMAIN app.posint AS integer CHECK (VALUE > 0);
  CREATE FUNCTION app.next_code() RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$;
  CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
  CREATE TABLE app.parent (id integer PRIMARY KEY, code text UNIQUE DEFAULT app.next_code(), mood app.mood, qty app.posint,
    moods app.mood[]);
  CREATE TABLE app.child (id serial PRIMARY KEY, parent_id integer REFERENCES app.parent (id), geom geometry(Point, 4326));
  CREATE INDEX child_geom ON app.child USING gist (geom);
  CREATE VIEW other.v AS SELECT p.id, p.code FROM app.parent p;
  CREATE VIEW other.v2 AS SELECT v.id, v.code FROM other.v;
  CREATE MATERIALIZED VIEW app.mv AS SELECT id FROM app.parent;
  CREATE TABLE app.events (at date NOT NULL, n integer) PARTITION BY RANGE (at);
  CREATE TABLE app.events_2026 PARTITION OF app.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
  CREATE TABLE app.base (id integer);
  CREATE TABLE app.derived (extra text) INHERITS (app.base);
  CREATE SEQUENCE app.free_seq;
  CREATE TABLE app.loose (id integer);
  CREATE TRIGGER parent_touch BEFORE UPDATE ON app.parent FOR EACH ROW EXECUTE FUNCTION app.touch();
  COMMENT ON TABLE app.parent IS 'parents';
  COMMENT ON COLUMN app.parent.code IS 'the code';
  ALTER TABLE app.parent ENABLE ROW LEVEL SECURITY;
  CREATE POLICY positive ON app.parent USING (id > 0);
  INSERT INTO app.parent (id, code) SELECT g, 'c' || g FROM generate_series(1, 20) AS g;
  DO $$ BEGIN FOR i IN 1..${FILLERS} LOOP
    EXECUTE format('CREATE TABLE app.filler_%s (id bigint PRIMARY KEY, name text NOT NULL, geom geometry(Point, 4326))', i);
  END LOOP; END $$;
  ANALYZE;
`;

const options = {
  declaration: {
    scope: { allowed_tables: ['app.*'] },
    invariants: { spatial_index_required: ['app.child', 'app.filler_1'] },
  },
  protected: { tables: ['app.parent'] },
  capturedAt: '2026-03-01T00:00:00Z',
} as never;

let cache: CaptureCache;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.client.query(SCHEMA_SQL);
  cache = createCaptureCache();
});

afterAll(async () => {
  await db?.drop();
});

/** Captures the current state three ways; all three must be the same bytes. Returns the cached capture. */
async function captureAllWays(): Promise<{ baseline: Baseline; last: CaptureCache['last'] }> {
  const cached = await capturePostgisBaseline(db.client, options, cache);
  const last = cache.last;
  const full = await capturePostgisBaseline(db.client, options);
  const legacy = await legacyCapture(db.client, options);
  expect(JSON.stringify(full)).toBe(JSON.stringify(legacy));
  expect(JSON.stringify(cached)).toBe(JSON.stringify(legacy));
  return { baseline: cached, last };
}

/** One change as a migration makes it: PRE, then the change and POST in one transaction, rolled back. */
async function throughChange(sql: string) {
  const { baseline: pre } = await captureAllWays();
  await db.client.query('BEGIN');
  let post: Awaited<ReturnType<typeof captureAllWays>>;
  try {
    await db.client.query(sql);
    post = await captureAllWays();
    // Captures inside a migration's transaction leave none of their cursors open in it.
    expect((await db.client.query('SELECT name FROM pg_cursors')).rows).toEqual([]);
  } finally {
    await db.client.query('ROLLBACK');
  }
  const after = await captureAllWays();
  expect(after.baseline.fingerprints).toEqual(pre.fingerprints);
  return { pre, post: post.baseline, last: post.last };
}

describe('incremental capture', () => {
  it('starts with a full capture and then reuses every unchanged relation', async () => {
    const first = await captureAllWays();
    expect(first.baseline.objects.length).toBeGreaterThan(FILLERS * 5);
    const second = await captureAllWays();
    expect(second.last).toMatchObject({ mode: 'incremental', refetched: 0 });
    expect(second.last?.relations).toBeGreaterThan(FILLERS);
  });

  it('refetches only the relation a local change touches, and the relations that render its names', async () => {
    const { pre, post, last } = await throughChange('CREATE INDEX parent_mood ON app.parent (mood)');
    expect(last?.mode).toBe('incremental');
    // app.parent, and what references it: app.child (foreign key), other.v and app.mv (views).
    expect(last?.refetched).toBe(4);
    expect(post.fingerprints.schema).not.toBe(pre.fingerprints.schema);
    expect(post.objects.some((object) => object.name === 'app.parent_mood')).toBe(true);
  });

  it('sees data-only changes in the measures (reltuples) without refetching objects', async () => {
    const { pre, post } = await throughChange(
      `INSERT INTO app.filler_2 SELECT g, 'n' FROM generate_series(1, 500) AS g; ANALYZE app.filler_2`,
    );
    expect(post.measures?.rows_estimate?.['app.filler_2']).toBe(500);
    expect(post.fingerprints.schema).toBe(pre.fingerprints.schema);
  });

  // Each of these renders into objects of relations whose own rows it does not write.
  const changes: [string, string][] = [
    ['a referenced table renamed (foreign key, views)', 'ALTER TABLE app.parent RENAME TO parent2'],
    ['a referenced column renamed', 'ALTER TABLE app.parent RENAME COLUMN id TO pid'],
    ['a view column renamed under a view of the view', 'ALTER TABLE other.v RENAME COLUMN code TO code2'],
    ['a type renamed (columns, arrays of it)', 'ALTER TYPE app.mood RENAME TO feeling'],
    ['a domain moved to another schema', 'ALTER DOMAIN app.posint SET SCHEMA other'],
    ['a schema renamed', 'ALTER SCHEMA other RENAME TO elsewhere'],
    ['a function in a default renamed', 'ALTER FUNCTION app.next_code() RENAME TO next_code2'],
    ['a trigger function renamed', 'ALTER FUNCTION app.touch() RENAME TO touch2'],
    ['a sequence becomes owned by a column', 'ALTER SEQUENCE app.free_seq OWNED BY app.loose.id'],
    ['a sequence renamed (serial default)', 'ALTER SEQUENCE app.child_id_seq RENAME TO child_seq'],
    ['a table joins an extension', 'ALTER EXTENSION postgis ADD TABLE app.loose'],
    ['a column comment', `COMMENT ON COLUMN app.child.geom IS 'where'`],
    ['a table comment dropped', 'COMMENT ON TABLE app.parent IS NULL'],
    ['a table privilege', 'GRANT SELECT ON app.child TO PUBLIC'],
    ['a column privilege', 'GRANT SELECT (code) ON app.parent TO PUBLIC'],
    ['internal triggers disabled', 'ALTER TABLE app.child DISABLE TRIGGER ALL'],
    ['a user trigger disabled', 'ALTER TABLE app.parent DISABLE TRIGGER parent_touch'],
    ['a column type changed', 'ALTER TABLE app.child ALTER COLUMN geom TYPE geometry(Point, 3857)'],
    ['a table created in dynamic SQL', `DO $$ BEGIN EXECUTE 'CREATE TABLE app.dyn (id integer)'; END $$`],
    ['an index dropped', 'DROP INDEX app.child_geom'],
    ['an index renamed', 'ALTER INDEX app.child_geom RENAME TO child_geom2'],
    ['inheritance removed', 'ALTER TABLE app.derived NO INHERIT app.base'],
    ['an inheritance parent renamed', 'ALTER TABLE app.base RENAME TO base2'],
    ['a partitioned table moved to another schema', 'ALTER TABLE app.events SET SCHEMA other'],
    ['an owned sequence moved with its table', 'ALTER TABLE app.child SET SCHEMA other'],
    ['a partition detached', 'ALTER TABLE app.events DETACH PARTITION app.events_2026'],
    ['a view replaced', 'CREATE OR REPLACE VIEW other.v AS SELECT p.id, p.code, 1 AS one FROM app.parent p'],
    ['a default changed', `ALTER TABLE app.parent ALTER COLUMN code SET DEFAULT 'y'`],
    ['storage options', 'ALTER TABLE app.parent SET (fillfactor = 70)'],
    ['row security forced', 'ALTER TABLE app.parent FORCE ROW LEVEL SECURITY'],
    ['a rule', 'CREATE RULE no_delete AS ON DELETE TO app.child DO INSTEAD NOTHING'],
    ['a policy', 'CREATE POLICY small ON app.parent FOR SELECT USING (id < 100)'],
    ['a table dropped', 'DROP TABLE app.filler_3'],
    ['a constraint added not valid', "ALTER TABLE app.filler_4 ADD CONSTRAINT named CHECK (name <> '') NOT VALID"],
    ['a materialized view refreshed', 'REFRESH MATERIALIZED VIEW app.mv'],
    [
      'a table owner and a renamed role',
      'CREATE ROLE kfm_incr_owner; ALTER TABLE app.loose OWNER TO kfm_incr_owner; ALTER ROLE kfm_incr_owner RENAME TO kfm_incr_owner2',
    ],
    ['a collation', 'CREATE COLLATION app.bytes FROM "C"; ALTER TABLE app.loose ADD COLUMN t text COLLATE app.bytes'],
    ['a function created', 'CREATE FUNCTION app.extra() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$'],
  ];
  for (const [what, sql] of changes) {
    it(`is byte-identical to a full capture: ${what}`, async () => {
      const { pre, post } = await throughChange(sql);
      // Refreshing a materialized view rewrites its catalog row but not its definition.
      if (!sql.startsWith('REFRESH')) expect(post.fingerprints.schema).not.toBe(pre.fingerprints.schema);
    });
  }

  it('keeps up with committed changes (the cache follows the store)', async () => {
    await db.client.query('ALTER TABLE app.parent RENAME COLUMN code TO label');
    const moved = await captureAllWays();
    expect(moved.last?.mode).toBe('incremental');
    await db.client.query('ALTER TABLE app.parent RENAME COLUMN label TO code');
    await captureAllWays();
  });
});
