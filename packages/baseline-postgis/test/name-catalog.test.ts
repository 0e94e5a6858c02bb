// Preflight reads only the names its scripts spell (namesIn → loadNameCatalog), so its catalog follows the
// scripts instead of the database. That must never change a verdict: every script here is preflighted
// against the whole catalog and against the narrowed one on the real server, and the results must be the
// same — including the names that are easy to miss (quoted, mixed case, non-ASCII, longer than PostgreSQL
// keeps, spelled inside strings and function bodies, behind a stray double quote).
import type { MigrationDeclaration, ScriptFile } from '@kfm/migration-contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preflightPostgis } from '../src/preflight.js';
import { loadNameCatalog, namesIn } from '../src/resolve.js';
import { createTestDatabase, type TestDatabase } from './database.js';

let db: TestDatabase;
const LONG = `parcel_history_with_a_name_far_longer_than_postgresql_keeps_for_any_identifier`;
const FILLERS = 150;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.client.query(`
    CREATE SCHEMA app; CREATE SCHEMA vault; CREATE SCHEMA "Odd Schema";
    CREATE TABLE app.parcels (id serial PRIMARY KEY, name text);
    CREATE TABLE vault.parcels (id integer);
    -- Each of these lives only in vault, the second schema on the path: a name the narrowed catalog
    -- missed would resolve to app (the first) instead, and its protection would be lost.
    CREATE TABLE vault."Mixed Case Table" (id integer);
    CREATE TABLE vault.${LONG} (id integer);
    CREATE TABLE vault."grundstücke" (id integer);
    CREATE TABLE vault.flurstück (id integer);
    CREATE TABLE vault.shouted (id integer);
    CREATE SEQUENCE vault.free_seq;
    CREATE TABLE "Odd Schema"."Another Table" (id integer);
    CREATE FUNCTION app.opaque_fn() RETURNS integer LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;
    CREATE FUNCTION vault.audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
    CREATE TABLE vault.audited (id integer);
    CREATE TRIGGER audit BEFORE UPDATE ON vault.audited FOR EACH ROW EXECUTE FUNCTION vault.audit();
    DO $$ BEGIN FOR i IN 1..${FILLERS} LOOP
      EXECUTE format('CREATE TABLE app.filler_%s (id integer PRIMARY KEY)', i);
    END LOOP; END $$;
  `);
  await db.client.query('SET search_path = app, vault, public');
});

afterAll(async () => {
  await db?.drop();
});

const declaration: MigrationDeclaration = {
  migration_id: 'PG-MIG-2026-03-01-01',
  type: 'postgis',
  intent: 'test',
  scope: { allowed_schemas: ['app'], allowed_tables: ['app.*'] },
  limits: {},
  requires_rollback: true,
  approvals: {},
  runner: { lock_timeout: '2s' },
  artifacts: { forward: ['forward.sql'], rollback: ['rollback.sql'] },
};

const SCRIPTS: Record<string, string> = {
  'an unqualified name along the path': `UPDATE parcels SET name = 'x';`,
  'a quoted mixed-case name': `INSERT INTO "Mixed Case Table" VALUES (1);`,
  'a quoted schema and table': `INSERT INTO "Odd Schema"."Another Table" VALUES (1);`,
  'a path the script sets': `SET search_path = vault; UPDATE parcels SET id = 1;`,
  'names inside string constants': `SELECT nextval('free_seq'); SELECT 'shouted'::regclass; SELECT 'vault.parcels'::regclass;`,
  'an opaque and an extension function': `SELECT opaque_fn(); SELECT ST_AsText(ST_MakePoint(1, 2));`,
  'a name longer than PostgreSQL keeps': `UPDATE ${LONG}_and_then_some SET id = 1;`,
  'a table with attached code': `UPDATE audited SET id = 2;`,
  'a DO block': `DO $$ BEGIN UPDATE shouted SET id = 1; END $$;`,
  'a function body': `CREATE FUNCTION app.f2() RETURNS void LANGUAGE sql AS 'UPDATE shouted SET id = 3';`,
  'a stray double quote in a string before a quoted name': `SELECT 'say "hi'; UPDATE "Mixed Case Table" SET id = 2;`,
  'a quoted non-ASCII name': `UPDATE "grundstücke" SET id = 1;`,
  'an unquoted non-ASCII name': `UPDATE flurstück SET id = 1;`,
  'an upper-case unquoted name': `UPDATE SHOUTED SET id = 1;`,
  'TRUNCATE … CASCADE': `TRUNCATE parcels CASCADE;`,
  "an extension's table": `ALTER TABLE spatial_ref_sys ADD COLUMN note text;`,
  'a name only in a comment': `-- shouted\nSELECT 1;`,
};

const file = (text: string): ScriptFile => ({ path: 'forward.sql', text, digest: 'unused' });

describe('preflight with the catalog narrowed to the scripts’ names', () => {
  it.each(Object.entries(SCRIPTS))('gives the verdict the whole catalog gives: %s', async (_, text) => {
    const names = namesIn([text]);
    expect(names).toBeDefined();
    const [whole, narrowed] = [await loadNameCatalog(db.client), await loadNameCatalog(db.client, names)];
    const protect = { tables: ['vault.*'] };
    const full = await preflightPostgis([file(text)], declaration, protect, { catalog: whole });
    const narrow = await preflightPostgis([file(text)], declaration, protect, { catalog: narrowed });
    expect(narrow).toEqual(full);
  });

  it('is a real comparison: each tricky name resolves to the protected vault, not the first schema', async () => {
    const verdict = async (text: string) =>
      preflightPostgis(
        [file(text)],
        declaration,
        { tables: ['vault.*'] },
        {
          catalog: await loadNameCatalog(db.client, namesIn([text])),
        },
      );
    const tables = async (name: string) => (await verdict(SCRIPTS[name]!)).predicted.tables;
    expect(await tables('an unqualified name along the path')).toEqual(['app.parcels']);
    expect(await tables('a path the script sets')).toContain('vault.parcels');
    expect(await tables('a quoted mixed-case name')).toEqual(['vault.Mixed Case Table']);
    expect(await tables('a stray double quote in a string before a quoted name')).toEqual(['vault.Mixed Case Table']);
    expect(await tables('a name longer than PostgreSQL keeps')).toEqual([`vault.${LONG.slice(0, 63)}`]);
    expect(await tables('a quoted non-ASCII name')).toEqual(['vault.grundstücke']);
    expect(await tables('an unquoted non-ASCII name')).toEqual(['vault.flurstück']);
    expect(await tables('an upper-case unquoted name')).toEqual(['vault.shouted']);
    expect(await tables('a DO block')).toEqual(['vault.shouted']);
    const attached = await verdict(SCRIPTS['a table with attached code']!);
    expect(JSON.stringify(attached.checks)).toContain('vault.audit()');
    const protectedWrite = await verdict(SCRIPTS['an upper-case unquoted name']!);
    expect(protectedWrite.checks.some((check) => check.status === 'fail')).toBe(true);
  });

  it('lists the scripts’ names, not the database’s', async () => {
    const text = SCRIPTS['an unqualified name along the path']!;
    const whole = await loadNameCatalog(db.client);
    const narrowed = await loadNameCatalog(db.client, namesIn([text]));
    expect(Object.keys(whole.relations).length).toBeGreaterThan(FILLERS);
    expect(Object.keys(narrowed.relations)).toEqual(['parcels']);
    expect(narrowed.relations.parcels).toEqual(expect.arrayContaining(['app', 'vault']));
    expect(narrowed.builtinFunctions?.length ?? 0).toBeLessThan(10);
  });

  it('reads the whole catalog when a name may be spelled through an escape', () => {
    expect(namesIn([`UPDATE U&"p\\0061rcels" SET id = 1;`])).toBeUndefined();
    expect(namesIn([`SELECT E'\\x70arcels'::regclass;`])).toBeUndefined();
    expect(namesIn([`UPDATE parcels SET id = 1;`])).toContain('parcels');
  });
});
