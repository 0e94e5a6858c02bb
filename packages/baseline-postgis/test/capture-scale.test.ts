// The capture's cost in round trips must not grow with the number of tables: users run it against
// databases with tens of thousands. Counted by wrapping client.query — not a timing assertion.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { capturePostgisBaseline } from '../src/index.js';
import { capturePostgisBaseline as legacyCapture } from './legacy/capture.js';
import { countQueries, createTestDatabase, type TestDatabase } from './database.js';

let db: TestDatabase;
const TABLES = 2_000;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.client.query('CREATE TABLE public.t_seed (id integer PRIMARY KEY, geom geometry(Point, 4326))');
});

afterAll(async () => {
  await db?.drop();
});

it(`captures ${TABLES} tables in the same number of round trips as one`, async () => {
  const counter = countQueries(db.client);
  const declaration = { scope: { allowed_tables: ['t_*'] }, invariants: { spatial_index_required: ['t_*'] } } as never;
  const _small = await capturePostgisBaseline(db.client, { declaration });
  const smallQueries = counter.count;

  // DO blocks create the tables server-side (setup, not counted), committed in batches: one
  // transaction creating 2,000 tables can exhaust the shared lock table (max_locks_per_transaction).
  for (let from = 1; from < TABLES; from += 200) {
    const to = Math.min(from + 199, TABLES - 1);
    await db.client.query(`DO $$ BEGIN FOR i IN ${from}..${to} LOOP
      EXECUTE format('CREATE TABLE public.t_%s (id integer PRIMARY KEY, name text, geom geometry(Point, 4326))', i);
    END LOOP; END $$`);
  }

  counter.reset();
  const large = await capturePostgisBaseline(db.client, { declaration });
  expect(large.counts.tables).toBe(TABLES);
  expect(large.counts.columns).toBe(3 * TABLES - 1);
  expect(large.invariants?.filter((check) => check.status === 'fail')).toHaveLength(TABLES);
  expect(Object.keys(large.measures?.rows_exact ?? {})).toHaveLength(TABLES);
  // The exact row counts are chunked (200 tables per query) and the catalog sections read through cursors
  // 5,000 rows per FETCH: 5,999 columns take one FETCH more than one table's; everything else is constant.
  expect(counter.count).toBe(smallQueries + (Math.ceil(TABLES / 200) - 1) + 1);
  expect(counter.count).toBeLessThanOrEqual(36);
  // Batches change nothing: the same bytes as the frozen capture that read every query whole.
  expect(JSON.stringify(large)).toBe(JSON.stringify(await legacyCapture(db.client, { declaration })));
});
