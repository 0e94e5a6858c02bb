import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PG_DSN, runId } from './env.js';

const schema = `kfm_smoke_${runId()}`;
const client = new pg.Client({ connectionString: PG_DSN });

// axis-aligned rectangles in a planar SRID: [name, x, y, width, height]
const rects: Array<[string, number, number, number, number]> = [
  ['small', 0, 0, 3, 4],
  ['wide', 10, 10, 25.5, 2],
  ['far', 1000, 1000, 7, 7],
];
const polygonWkt = ([, x, y, w, h]: (typeof rects)[number]) =>
  `POLYGON((${x} ${y}, ${x + w} ${y}, ${x + w} ${y + h}, ${x} ${y + h}, ${x} ${y}))`;

describe('PostgreSQL + PostGIS', () => {
  beforeAll(async () => {
    await client.connect();
  });

  afterAll(async () => {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it('has the postgis extension', async () => {
    const { rows } = await client.query('SELECT postgis_version() AS v, postgis_full_version() AS full');
    expect(rows[0].v).toMatch(/^\d+\.\d+/);
    expect(rows[0].full).toContain('GEOS');
  });

  it('creates a geometry table with a GiST index, computes ST_Area and answers index-backed queries', async () => {
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(
      `CREATE TABLE ${schema}.parcels (id serial PRIMARY KEY, name text NOT NULL, geom geometry(Polygon, 3857) NOT NULL)`,
    );
    await client.query(`CREATE INDEX parcels_geom_gist ON ${schema}.parcels USING gist (geom)`);
    for (const r of rects) {
      await client.query(`INSERT INTO ${schema}.parcels (name, geom) VALUES ($1, ST_GeomFromText($2, 3857))`, [
        r[0],
        polygonWkt(r),
      ]);
    }

    const idx = await client.query(
      `SELECT am.amname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
        JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'parcels_geom_gist'`,
      [schema],
    );
    expect(idx.rows.map((r) => r.amname)).toEqual(['gist']);

    const areas = await client.query(`SELECT name, ST_Area(geom) AS area FROM ${schema}.parcels ORDER BY id`);
    expect(areas.rows.map((r) => r.name)).toEqual(rects.map((r) => r[0]));
    areas.rows.forEach((row, i) => {
      const [, , , w, h] = rects[i];
      expect(row.area).toBeCloseTo(w * h, 9);
    });

    // bounding-box search (&& uses the GiST index); the window covers the first two rectangles only
    const win = { x0: -1, y0: -1, x1: 50, y1: 50 };
    const expected = rects
      .filter(([, x, y, w, h]) => x <= win.x1 && x + w >= win.x0 && y <= win.y1 && y + h >= win.y0)
      .map((r) => r[0])
      .sort();
    const hits = await client.query(
      `SELECT name FROM ${schema}.parcels WHERE geom && ST_MakeEnvelope($1, $2, $3, $4, 3857) ORDER BY name`,
      [win.x0, win.y0, win.x1, win.y1],
    );
    expect(hits.rows.map((r) => r.name)).toEqual(expected);

    // the planner can use the GiST index for it
    await client.query('SET enable_seqscan = off');
    const plan = await client.query(
      `EXPLAIN SELECT name FROM ${schema}.parcels WHERE geom && ST_MakeEnvelope(-1, -1, 50, 50, 3857)`,
    );
    await client.query('RESET enable_seqscan');
    expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toContain('parcels_geom_gist');

    await client.query(`DROP TABLE ${schema}.parcels`);
    const gone = await client.query(
      `SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = $1`,
      [schema],
    );
    expect(gone.rows[0].n).toBe(0);
  });
});
