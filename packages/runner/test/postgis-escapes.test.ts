// Escapes, tried as a hostile contributor would on the real PostgreSQL+PostGIS: changes hidden in DO blocks,
// triggers that write elsewhere, search_path tricks, cluster-wide objects. Each must end in exit 1 with the
// database unchanged — checked with catalog and row queries of our own, never only our fingerprint.
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import { bundle, dsnFor, kfm, MIGRATOR, query, readJson, seededDatabasePerTest } from './postgis-harness.js';

const db = seededDatabasePerTest();
const failed = (run: { json: { checks?: { status: string; code?: string; name: string; message?: string }[] } }) =>
  (run.json.checks ?? []).filter((check) => check.status === 'fail');

/** What an attacker would change on governance.decisions, read straight from the catalog and the rows. */
async function decisionsState(database: string) {
  const [row] = await query(
    database,
    `
    SELECT c.relacl::text AS acl, pg_get_userbyid(c.relowner) AS owner, c.relrowsecurity AS rls, obj_description(c.oid, 'pg_class') AS comment,
           (SELECT string_agg(outcome, ',' ORDER BY id) FROM governance.decisions) AS outcomes,
           (SELECT count(*)::int FROM audit.events) AS audit_rows,
           (SELECT count(*)::int FROM pg_policy WHERE polrelid = c.oid) AS policies
      FROM pg_class c WHERE c.oid = 'governance.decisions'::regclass`,
  );
  return row;
}

describe('changes hidden from preflight are observed in the transaction and never commit', () => {
  it('a DO block granting, commenting and enabling RLS on a forbidden table: exit 1, catalog unchanged', async () => {
    const before = await decisionsState(db.name);
    const dir = await bundle({
      forward:
        [
          'CREATE INDEX parcels_no_idx ON public.parcels (parcel_no);',
          "DO $$ BEGIN EXECUTE 'GRANT ALL ON gover' || 'nance.decisions TO PUBLIC';",
          "  EXECUTE 'COMMENT ON TABLE gover' || 'nance.decisions IS ''owned''';",
          "  EXECUTE 'ALTER TABLE gover' || 'nance.decisions ENABLE ROW LEVEL SECURITY'; END $$;",
        ].join('\n') + '\n',
      rollback: 'DROP INDEX IF EXISTS public.parcels_no_idx;\n',
    });
    const run = await kfm(['apply', dir], db.migratorEnv);
    expect(run.code).toBe(1);
    expect(
      failed(run)
        .map((check) => check.message)
        .join('\n'),
    ).toMatch(/governance\.decisions/);
    expect(await decisionsState(db.name)).toEqual(before);
    expect(await query(db.name, "SELECT 1 FROM pg_indexes WHERE indexname = 'parcels_no_idx'")).toEqual([]);
  });

  it('a function truncating a forbidden table: no row counter moves, its storage does; exit 1, rows kept', async () => {
    // TRUNCATE counts no deleted rows; the table gets new storage. The function body runs a query given as a
    // string, which preflight cannot read, and the run has a commit point, so only the observation stands in
    // the way. (Written statically, the body is read and refused at preflight: see the PL/pgSQL tests.)
    const before = await decisionsState(db.name);
    const dir = await bundle({
      forward:
        "CREATE FUNCTION public.tidy() RETURNS void LANGUAGE plpgsql AS 'BEGIN EXECUTE ''TRUNCATE audit.events''; END';\nSELECT public.tidy();\nDROP FUNCTION public.tidy();\n",
    });
    const run = await kfm(['apply', dir], db.migratorEnv);
    expect(run.code).toBe(1);
    expect(failed(run).map((check) => [check.code, check.message])).toContainEqual([
      'SCOPE_NOT_ALLOWED',
      expect.stringContaining('audit.events'),
    ]);
    expect(await decisionsState(db.name)).toEqual(before);
    expect(before?.audit_rows).toBeGreaterThan(0);
    expect(await query(db.name, "SELECT 1 FROM pg_proc WHERE proname = 'tidy'")).toEqual([]);
  });

  it('a DO block updating rows of a forbidden table: the row counters see it; exit 1, rows unchanged', async () => {
    const before = await decisionsState(db.name);
    const dir = await bundle({
      forward:
        "UPDATE public.parcels SET land_use = land_use WHERE false;\nDO $$ BEGIN EXECUTE 'UPDATE gover' || 'nance.decisions SET outcome = ''approved'''; END $$;\n",
      limits: { max_table_count_touched: 1, max_row_backfill: 100 },
    });
    const run = await kfm(['apply', dir], db.migratorEnv);
    expect(run.code).toBe(1);
    expect(JSON.stringify(failed(run))).toMatch(/governance\.decisions/);
    expect(await decisionsState(db.name)).toEqual(before);
  });

  it('a trigger in scope that writes to a forbidden table: exit 1, no audit row, no trigger left', async () => {
    const before = await decisionsState(db.name);
    const dir = await bundle({
      forward:
        [
          'CREATE FUNCTION public.stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN',
          "  INSERT INTO audit.events (id, subject, action, occurred_at) VALUES (9999, 'x', 'forged', now()); RETURN NEW; END $$;",
          'CREATE TRIGGER parcels_stamp AFTER UPDATE ON public.parcels FOR EACH ROW EXECUTE FUNCTION public.stamp();',
          'UPDATE public.parcels SET land_use = land_use WHERE id = (SELECT min(id) FROM public.parcels);',
        ].join('\n') + '\n',
      limits: { max_table_count_touched: 1, max_row_backfill: 10 },
    });
    const run = await kfm(['apply', dir], db.migratorEnv);
    expect(run.code).toBe(1);
    expect(JSON.stringify(failed(run))).toMatch(/audit\.events/);
    expect(await decisionsState(db.name)).toEqual(before);
    expect(await query(db.name, "SELECT 1 FROM pg_trigger WHERE tgname = 'parcels_stamp'")).toEqual([]);
  });
});

describe('writes from function bodies are observed like any other', () => {
  it.each([
    [
      'a SECURITY DEFINER function that already exists',
      "CREATE FUNCTION public.rewrite_outcomes() RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$ BEGIN UPDATE governance.decisions SET outcome = 'approved'; END $$",
      'SELECT public.rewrite_outcomes();',
    ],
    [
      'a plpgsql function created and called by the script',
      '',
      "CREATE FUNCTION public.kfm_touch() RETURNS void LANGUAGE plpgsql AS $$ BEGIN UPDATE governance.decisions SET outcome = 'approved'; END $$;\nSELECT public.kfm_touch();",
    ],
  ])('%s updating a forbidden table: exit 1, rows unchanged', async (_what, setup, call) => {
    if (setup) await query(db.name, setup);
    const before = await decisionsState(db.name);
    const dir = await bundle({
      forward: `UPDATE public.parcels SET land_use = land_use WHERE false;\n${call}\n`,
      limits: { max_table_count_touched: 1, max_row_backfill: 100 },
    });
    const run = await kfm(['apply', dir], db.migratorEnv);
    expect(run.code).toBe(1);
    expect(JSON.stringify(failed(run))).toMatch(/governance\.decisions/);
    expect(await decisionsState(db.name)).toEqual(before);
  });
});

describe('a database whose default reads strings differently from preflight', () => {
  it('standard_conforming_strings = off by default: the run reads the script as preflight did, nothing smuggled runs', async () => {
    // With the setting off, `'a\' , $q$'` is one string and the CREATE INDEX after it a statement; preflight
    // (and the server, once the runner pins the setting) read a string, a dollar-quoted string and nothing else.
    await query(db.name, `ALTER DATABASE ${db.name} SET standard_conforming_strings = off`);
    const [setting] = await query<{ value: string }>(
      db.name,
      "SELECT current_setting('standard_conforming_strings') AS value",
    );
    expect(setting?.value).toBe('off');
    const dir = await bundle({
      forward:
        [
          'CREATE INDEX parcels_no_idx ON public.parcels (parcel_no);',
          "SELECT 'a\\' , $q$'; CREATE INDEX sneaked_idx ON public.parcels (land_use); -- $q$;",
        ].join('\n') + '\n',
      rollback: 'DROP INDEX IF EXISTS public.parcels_no_idx;\n',
    });
    const run = await kfm(['apply', dir], db.migratorEnv);
    expect(run.code).toBe(0);
    expect(
      await query(db.name, "SELECT indexname FROM pg_indexes WHERE indexname IN ('parcels_no_idx', 'sneaked_idx')"),
    ).toEqual([{ indexname: 'parcels_no_idx' }]);
  });
});

describe('names and objects preflight refuses before the store is touched', () => {
  it('SET search_path then an unqualified forbidden table, without a commit point: exit 1 at preflight, no index built', async () => {
    const dir = await bundle({
      forward:
        'SET search_path = governance;\nCREATE INDEX CONCURRENTLY decisions_no_idx ON decisions (decision_no);\n',
      rollback: 'DROP INDEX CONCURRENTLY IF EXISTS governance.decisions_no_idx;\n',
      transactional: false,
    });
    const run = await kfm(['apply', dir], db.migratorEnv);
    expect(run.code).toBe(1);
    expect(failed(run).find((check) => check.code === 'PREFLIGHT_FORBIDDEN')?.message).toMatch(
      /^forward\.sql:2 names governance\.decisions/,
    );
    expect(await query(db.name, "SELECT indexname FROM pg_indexes WHERE indexname = 'decisions_no_idx'")).toEqual([]);
    expect(
      await query(db.name, "SELECT 1 FROM kfm_ledger.migrations WHERE migration_id = 'PG-MIG-2026-11-24-01'").catch(
        () => [],
      ),
    ).toEqual([]);
  });

  it('a DO block without a commit point is refused with its rule id; a role is refused in any run', async () => {
    const dynamic = await bundle({
      forward: "DO $$ BEGIN EXECUTE 'DROP TABLE gover' || 'nance.decisions'; END $$;\n",
      transactional: false,
    });
    const run = await kfm(['apply', dynamic], db.migratorEnv);
    expect(run.code).toBe(1);
    expect(
      failed(run)
        .map((check) => check.message)
        .join('\n'),
    ).toMatch(/forward\.sql:1 .*\[dynamic-sql\]/);
    expect(await query(db.name, "SELECT to_regclass('governance.decisions')::text AS t")).toEqual([
      { t: 'governance.decisions' },
    ]);

    const role = await bundle({ forward: 'CREATE ROLE kfm_escape_role SUPERUSER;\n' });
    const refused = await kfm(['apply', role], db.migratorEnv);
    expect(refused.code).toBe(1);
    expect(
      failed(refused)
        .map((check) => check.message)
        .join('\n'),
    ).toMatch(/\[cluster-object\]/);
    expect(await query(db.name, "SELECT 1 FROM pg_roles WHERE rolname = 'kfm_escape_role'")).toEqual([]);
  });
});

describe('runs without a commit point observe rows too (approximately)', () => {
  it('a trigger writing to a forbidden table during a non-transactional run: exit 1, named in the checks', async () => {
    // A trigger that already exists on an allowed table (not part of the bundle, so preflight cannot see it).
    await query(
      db.name,
      `CREATE FUNCTION public.audit_parcels() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
      INSERT INTO audit.events (id, subject, action, occurred_at) VALUES (4242, 'parcel', 'touched', now()); RETURN NEW; END $$`,
    );
    await query(
      db.name,
      'CREATE TRIGGER parcels_audit AFTER UPDATE ON public.parcels FOR EACH ROW EXECUTE FUNCTION public.audit_parcels()',
    );
    const dir = await bundle({
      forward:
        'CREATE INDEX CONCURRENTLY parcels_use_idx ON public.parcels (land_use);\nUPDATE public.parcels SET land_use = land_use WHERE id = (SELECT min(id) FROM public.parcels);\n',
      rollback: 'DROP INDEX CONCURRENTLY IF EXISTS public.parcels_use_idx;\n',
      transactional: false,
      limits: { max_table_count_touched: 1, max_index_count_delta: 1, max_row_backfill: 10 },
    });
    const run = await kfm(['apply', dir], db.migratorEnv);
    expect(run.code).toBe(1);
    expect(JSON.stringify(failed(run))).toMatch(/audit\.events/);
    // The index the run built was rolled back; the trigger's row is what the operator must look at.
    expect(await query(db.name, "SELECT 1 FROM pg_indexes WHERE indexname = 'parcels_use_idx'")).toEqual([]);
    const receipt = await readJson(`${dir}/receipts/run_receipt.json`);
    expect(receipt.data_changes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          object: 'audit.events',
          approximate: true,
          counts: expect.objectContaining({ inserted: 1 }),
        }),
      ]),
    );
  });
});

describe('settings of a forbidden table that only the catalog holds are observed too', () => {
  /** The planner, storage and comment settings the attacks below would change, read from the catalog. */
  async function settings(database: string) {
    const [row] = await query(
      database,
      `SELECT (SELECT string_agg(attname || ':' || attstattarget || ':' || attstorage::text || ':' || coalesce(attoptions::text, ''), ',' ORDER BY attnum)
                 FROM pg_attribute WHERE attrelid = 'governance.decisions'::regclass AND attnum > 0) AS columns,
              (SELECT relreplident::text FROM pg_class WHERE oid = 'governance.decisions'::regclass) AS replica_identity,
              (SELECT string_agg(indexrelid::regclass || ':' || indisclustered || ':' || coalesce(obj_description(indexrelid, 'pg_class'), ''), ',')
                 FROM pg_index WHERE indrelid = 'governance.decisions'::regclass) AS indexes,
              (SELECT string_agg(conname || ':' || coalesce(obj_description(oid, 'pg_constraint'), ''), ',')
                 FROM pg_constraint WHERE conrelid = 'governance.decisions'::regclass) AS constraints`,
    );
    return row;
  }

  it.each([
    ['a column statistics target', "ALTER TABLE gover' || 'nance.decisions ALTER COLUMN outcome SET STATISTICS 0"],
    ['a column storage mode', "ALTER TABLE gover' || 'nance.decisions ALTER COLUMN outcome SET STORAGE MAIN"],
    ['a column n_distinct', "ALTER TABLE gover' || 'nance.decisions ALTER COLUMN outcome SET (n_distinct = 1)"],
    ['the replica identity', "ALTER TABLE gover' || 'nance.decisions REPLICA IDENTITY FULL"],
    ['the clustering index', "ALTER TABLE gover' || 'nance.decisions CLUSTER ON decisions_pkey"],
    ['an index comment', "COMMENT ON INDEX gover' || 'nance.decisions_pkey IS ''x''"],
    ['a constraint comment', "COMMENT ON CONSTRAINT decisions_pkey ON gover' || 'nance.decisions IS ''x''"],
  ])('%s changed in a DO block: exit 1, the catalog unchanged', async (_what, sql) => {
    const before = await settings(db.name);
    const dir = await bundle({ forward: `DO $$ BEGIN EXECUTE '${sql}'; END $$;\n` });
    const run = await kfm(['apply', dir], db.migratorEnv);
    expect(run.code, run.stderr.slice(-1500)).toBe(1);
    expect(JSON.stringify(failed(run))).toMatch(/governance\.decisions/);
    expect(await settings(db.name)).toEqual(before);
  });
});

describe('objects no baseline reads, written by dynamic SQL, are caught by the catalog rows the run wrote', () => {
  /** What the attacks below would leave, read from the catalogs themselves. */
  async function leftovers(database: string) {
    const [row] = await query(
      database,
      `SELECT (SELECT count(*)::int FROM pg_statistic_ext WHERE stxnamespace = 'governance'::regnamespace) AS statistics,
              (SELECT count(*)::int FROM pg_collation WHERE collnamespace = 'governance'::regnamespace) AS collations,
              (SELECT count(*)::int FROM pg_operator WHERE oprnamespace = 'governance'::regnamespace) AS operators,
              (SELECT count(*)::int FROM pg_ts_config WHERE cfgnamespace = 'governance'::regnamespace) AS ts_configs,
              (SELECT count(*)::int FROM pg_largeobject_metadata) AS large_objects,
              (SELECT datconnlimit FROM pg_database WHERE datname = current_database()) AS connection_limit,
              (SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()) AS comment`,
    );
    return row;
  }

  it.each([
    [
      'extended statistics',
      "CREATE STATISTICS gover' || 'nance.s (dependencies) ON outcome, decided_on FROM gover' || 'nance.decisions",
    ],
    ['a collation', "CREATE COLLATION gover' || 'nance.c (provider = icu, locale = ''und'')"],
    ['an operator', "CREATE OPERATOR gover' || 'nance.=== (LEFTARG = int, RIGHTARG = int, FUNCTION = int4eq)"],
    ['a text search configuration', "CREATE TEXT SEARCH CONFIGURATION gover' || 'nance.t (COPY = pg_catalog.english)"],
    ['a large object', "SELECT lo_from_bytea(0, convert_to(''x'', ''UTF8''))"],
    ['the connection limit', "ALTER DATABASE ' || current_database() || ' CONNECTION LIMIT 7"],
    ['a database comment', "COMMENT ON DATABASE ' || current_database() || ' IS ''x''"],
  ])('%s in a DO block: exit 1, nothing left', async (_what, sql) => {
    const before = await leftovers(db.name);
    const dir = await bundle({ forward: `DO $$ BEGIN EXECUTE '${sql}'; END $$;\n` });
    const run = await kfm(['apply', dir], db.migratorEnv);
    expect(run.code, run.stderr.slice(-1500)).toBe(1);
    expect(failed(run).some((check) => /^scope\./.test(check.name))).toBe(true);
    const receipt = await readJson(`${dir}/receipts/run_receipt.json`);
    expect(JSON.stringify(receipt.data_changes)).toMatch(
      /"object":"pg_(statistic_ext|collation|operator|ts_config|largeobject_metadata|database|shdescription):/,
    );
    expect(await leftovers(db.name)).toEqual(before);
  });
});

describe('changes to objects that exist already, where no new catalog row shows them', () => {
  it.each([
    [
      'a collation dropped',
      "CREATE COLLATION governance.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
      "DROP COLLATION gover' || 'nance.ci",
      "SELECT count(*)::int AS n FROM pg_collation WHERE collname = 'ci'",
    ],
    [
      "a publication's column list widened",
      'CREATE PUBLICATION parcels_pub FOR TABLE public.parcels (id, parcel_no)',
      'ALTER PUBLICATION parcels_pub SET TABLE public.parcels (id, parcel_no, land_use)',
      "SELECT prattrs::text AS n FROM pg_publication_rel WHERE prpubid = (SELECT oid FROM pg_publication WHERE pubname = 'parcels_pub')",
    ],
    [
      "the migrating role's own settings, cluster-wide",
      'SELECT 1',
      "ALTER ROLE ' || quote_ident(current_user) || ' SET application_name = ''kfm-escape''",
      `SELECT count(*)::int AS n FROM pg_db_role_setting WHERE setrole = '${MIGRATOR}'::regrole`,
    ],
  ])('%s in a DO block: exit 1, as it was', async (_what, setup, sql, probe) => {
    // Set up as the migrator, so what it then changes is its own to change.
    const client = new pg.Client({ connectionString: dsnFor(db.name, MIGRATOR) });
    await client.connect();
    await client.query(setup).finally(() => client.end());
    const before = await query(db.name, probe);
    const dir = await bundle({ forward: `DO $$ BEGIN EXECUTE '${sql}'; END $$;\n` });
    const run = await kfm(['apply', dir], db.migratorEnv);
    expect(run.code, run.stderr.slice(-1500)).toBe(1);
    expect(failed(run).some((check) => /^scope\./.test(check.name))).toBe(true);
    expect(JSON.stringify(run.json.issues ?? [])).not.toContain('STATEMENT_FAILED');
    expect(await query(db.name, probe)).toEqual(before);
  });
});

describe('sequences, which no rollback moves back, are observed and put back', () => {
  /** A forbidden schema's sequence the migrator may set, and where it stands, read from the sequence itself. */
  async function sequence(database: string) {
    const [row] = await query(database, 'SELECT last_value::text AS last, is_called FROM governance.decision_no');
    return row;
  }

  it.each([
    ['a setval in a DO block', ''],
    [
      'a setval in a DO block, then a statement that fails',
      'INSERT INTO public.parcels (no_such_column) VALUES (1);\n',
    ],
  ])('%s: exit 1, the sequence back where it was', async (_what, tail) => {
    await query(
      db.name,
      `CREATE SEQUENCE governance.decision_no; SELECT nextval('governance.decision_no'); ALTER SEQUENCE governance.decision_no OWNER TO ${MIGRATOR}`,
    );
    const before = await sequence(db.name);
    const dir = await bundle({
      forward:
        "CREATE INDEX parcels_no_idx ON public.parcels (parcel_no);\nDO $$ BEGIN EXECUTE 'SELECT setval(' || quote_literal('gover' || 'nance.decision_no') || ', 9999)'; END $$;\n" +
        tail,
      rollback: 'DROP INDEX IF EXISTS public.parcels_no_idx;\n',
    });
    const run = await kfm(['apply', dir], db.migratorEnv);
    expect(run.code, run.stderr.slice(-1500)).toBe(1);
    if (!tail) expect(JSON.stringify(failed(run))).toMatch(/governance\.decision_no/);
    expect(run.stderr).toMatch(/restored sequence governance\.decision_no/);
    expect(await sequence(db.name)).toEqual(before);
    expect(await query(db.name, "SELECT 1 FROM pg_indexes WHERE indexname = 'parcels_no_idx'")).toEqual([]);
  });
});

describe('a script that discards the session state the sequence check reads', () => {
  // With a user event trigger enabled, the runner's witness is the ledger's sequence (creating its own
  // temporary one would be DDL, firing the trigger); both must see the DISCARD.
  it.each([
    ['', ''],
    [
      ' (an event trigger calls a user function)',
      "CREATE FUNCTION public.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END'; CREATE EVENT TRIGGER log_ddl ON ddl_command_start EXECUTE FUNCTION public.log_ddl();",
    ],
  ])(
    'DISCARD SEQUENCES in a DO block after a setval%s: refused, and the run says the sequence could not be set back',
    async (_name, setup) => {
      await query(
        db.name,
        `${setup} CREATE SEQUENCE governance.decision_no; SELECT nextval('governance.decision_no'); ALTER SEQUENCE governance.decision_no OWNER TO ${MIGRATOR}`,
      );
      const dir = await bundle({
        forward:
          "CREATE INDEX parcels_no_idx ON public.parcels (parcel_no);\nDO $$ BEGIN PERFORM setval('gover' || 'nance.decision_no', 9999); EXECUTE 'DISCARD SEQ' || 'UENCES'; END $$;\n",
        rollback: 'DROP INDEX IF EXISTS public.parcels_no_idx;\n',
      });
      const run = await kfm(['apply', dir], db.migratorEnv);
      expect(run.code, run.stderr.slice(-1500)).not.toBe(0);
      const receipt = await readJson(`${dir}/receipts/run_receipt.json`);
      expect(receipt.data_changes.map((change: { object: string }) => change.object)).toContain(
        'session state (DISCARD)',
      );
      expect(run.stderr).toMatch(/discarded the session's sequence state/);
      expect(await query(db.name, "SELECT 1 FROM pg_indexes WHERE indexname = 'parcels_no_idx'")).toEqual([]);
    },
  );
});

describe("the runner's ledger is out of every script's reach, static or dynamic", () => {
  it('a trigger planted on the ledger by a DO block (it would fire after the decision): exit 1, nothing left', async () => {
    const before = await decisionsState(db.name);
    const dir = await bundle({
      forward: [
        'CREATE INDEX parcels_no_idx ON public.parcels (parcel_no);',
        "DO $$ BEGIN EXECUTE format('CREATE FUNCTION %I.on_applied() RETURNS trigger LANGUAGE plpgsql AS %L', 'kfm_' || 'ledger',",
        "  'BEGIN DELETE FROM governance.decisions; RETURN NULL; END');",
        "  EXECUTE format('CREATE TRIGGER zz AFTER INSERT ON %I.applied FOR EACH ROW EXECUTE FUNCTION %I.on_applied()', 'kfm_' || 'ledger', 'kfm_' || 'ledger');",
        'END $$;',
      ].join('\n'),
      rollback: 'DROP INDEX IF EXISTS public.parcels_no_idx;\n',
    });
    const run = await kfm(['apply', dir], db.migratorEnv);
    expect(run.code, run.stderr.slice(-1500)).toBe(1);
    expect(await decisionsState(db.name)).toEqual(before);
    expect(
      await query(
        db.name,
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'kfm_ledger.applied'::regclass AND NOT tgisinternal AND tgname = 'zz'",
      ),
    ).toEqual([]);
    expect(await query(db.name, "SELECT 1 FROM pg_proc WHERE proname = 'on_applied'")).toEqual([]);
  });
});

/**
 * A migrator's event-trigger function that runs a program (touching `marker`) when a superuser's DDL fires
 * it, and the (superuser-made) event trigger calling it on every DDL statement.
 */
async function plantEventTrigger(marker: string): Promise<void> {
  const migrator = new pg.Client({ connectionString: dsnFor(db.name, MIGRATOR) });
  await migrator.connect();
  try {
    await migrator.query(`CREATE FUNCTION public.on_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $body$
      BEGIN
        IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
          EXECUTE 'COPY (SELECT 1) TO PROGRAM ' || quote_literal('touch ${marker}');
        END IF;
      END $body$`);
  } finally {
    await migrator.end();
  }
  await query(db.name, 'CREATE EVENT TRIGGER on_ddl ON ddl_command_start EXECUTE FUNCTION public.on_ddl()');
}

/** Runs `ddl` by hand as the superuser, sees the planted program run, and removes the trigger. */
async function firesByHand(marker: string, ddl: string): Promise<void> {
  const fs = await import('node:fs/promises');
  await query(db.name, ddl);
  await expect(fs.access(marker)).resolves.toBeUndefined();
  await fs.rm(marker, { force: true });
  await query(db.name, 'DROP EVENT TRIGGER on_ddl');
}

describe('a role that can act outside its session runs no code preflight cannot read', () => {
  // Observation covers the run's own session. A superuser's dynamic SQL can open another session
  // (dblink) or run a server program; what those commit no rollback of the run undoes.
  it.each([
    [
      'dblink from a DO block, deleting governance rows in a second session',
      "CREATE INDEX parcels_no_idx ON public.parcels (parcel_no);\nDO $$ BEGIN EXECUTE 'CREATE EXTENSION IF NOT EXISTS dbl' || 'ink'; EXECUTE format('SELECT dblink_exec(%L, %L)', 'dbname=' || current_database() || ' user=' || current_user || ' host=127.0.0.1', 'DELETE FROM gover' || 'nance.decisions'); END $$;\n",
    ],
    [
      'COPY … PROGRAM from a DO block',
      "DO $$ BEGIN EXECUTE 'COPY (SELECT 1) TO PRO' || 'GRAM ' || quote_literal('touch /tmp/kfm-escape-' || current_database()); END $$;\n",
    ],
  ])('%s: exit 1 at preflight [session-exit], nothing done', async (_name, forward) => {
    const before = await decisionsState(db.name);
    const marker = `/tmp/kfm-escape-${db.name}`;
    const dir = await bundle({ forward, rollback: 'DROP INDEX IF EXISTS public.parcels_no_idx;\n' });
    const run = await kfm(['apply', dir], db.env);
    expect(run.code).toBe(1);
    const refusal = failed(run).find((check) => check.code === 'PREFLIGHT_FORBIDDEN');
    expect(refusal?.message).toMatch(/is a superuser.*\[session-exit\]/s);
    expect(await decisionsState(db.name)).toEqual(before);
    expect(await query(db.name, "SELECT extname FROM pg_extension WHERE extname = 'dblink'")).toEqual([]);
    expect(await query(db.name, "SELECT 1 FROM pg_indexes WHERE indexname = 'parcels_no_idx'")).toEqual([]);
    await expect((await import('node:fs/promises')).access(marker)).rejects.toThrow();
  });

  // The escalation: a migrator (no rights outside its session) plants code on a table in its scope; a later
  // superuser run that merely touches the table runs it with the superuser's rights.
  it.each([
    [
      'a trigger on the table the script updates',
      'public.parcels',
      'UPDATE public.parcels SET area_m2 = area_m2 WHERE false;\n',
      /touches public\.parcels, where trigger planted of public\.parcels calls public\.planted\(\)/,
    ],
    [
      'a trigger on a table a foreign key cascades the delete to',
      'public.parcel_notes',
      'DELETE FROM public.parcels WHERE id = (SELECT min(id) FROM public.parcels);\n',
      /touches public\.parcels, where trigger planted of public\.parcel_notes calls public\.planted\(\)/,
    ],
    [
      'a TRUNCATE trigger on a table TRUNCATE … CASCADE empties through a foreign key with no cascading action',
      'public.parcel_links',
      'TRUNCATE public.parcels CASCADE;\n',
      /touches public\.parcels, where trigger planted of public\.parcel_links calls public\.planted\(\)/,
    ],
    [
      'a row trigger on an inheritance child, whose rows an UPDATE of the parent changes',
      'public.parcels_archive',
      'UPDATE public.parcels SET area_m2 = area_m2 WHERE id = (SELECT max(id) FROM public.parcels);\n',
      /touches public\.parcels, where trigger planted of public\.parcels_archive calls public\.planted\(\)/,
    ],
  ])(
    'code planted earlier by the migrator, %s: exit 1 at preflight [session-exit], nothing run',
    async (_name, on, forward, why) => {
      const marker = `/tmp/kfm-escape-planted-${db.name}`;
      const migrator = new pg.Client({ connectionString: dsnFor(db.name, MIGRATOR) });
      await migrator.connect();
      try {
        await migrator.query(`
        CREATE TABLE public.parcel_notes (parcel_id bigint REFERENCES public.parcels (id) ON DELETE CASCADE, note text);
        CREATE TABLE public.parcel_links (parcel_id bigint REFERENCES public.parcels (id), note text);
        -- A child holding the highest id: an UPDATE of the parent that reaches it fires its row triggers.
        CREATE TABLE public.parcels_archive () INHERITS (public.parcels);
        INSERT INTO public.parcels_archive (id, parcel_no, land_use, geom)
          SELECT max(id) + 1, 'P-archived', 'residential', (array_agg(geom))[1] FROM public.parcels;
        CREATE FUNCTION public.planted() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
          EXECUTE 'COPY (SELECT 1) TO PROGRAM ' || quote_literal('touch ${marker}');
          RETURN NULL;
        END $body$;
        CREATE TRIGGER planted AFTER UPDATE OR DELETE ${on === 'public.parcels_archive' ? 'ON public.parcels_archive FOR EACH ROW' : `OR TRUNCATE ON ${on} FOR EACH STATEMENT`} EXECUTE FUNCTION public.planted();`);
      } finally {
        await migrator.end();
      }
      const before = await decisionsState(db.name);
      const dir = await bundle({ forward, rollback: 'SELECT 1;\n' });
      const run = await kfm(['apply', dir], db.env);
      expect(run.code, run.stderr.slice(-1500)).toBe(1);
      const refusal = failed(run).find((check) => check.code === 'PREFLIGHT_FORBIDDEN');
      expect(refusal?.message).toMatch(why);
      expect(refusal?.message).toMatch(/is a superuser.*\[session-exit\]/s);
      expect(await decisionsState(db.name)).toEqual(before);
      await expect((await import('node:fs/promises')).access(marker)).rejects.toThrow();
      // The same statement fired by hand as the superuser does run the planted code: the refusal is not idle.
      await query(db.name, forward);
      await expect((await import('node:fs/promises')).access(marker)).resolves.toBeUndefined();
      await (await import('node:fs/promises')).rm(marker, { force: true });
    },
  );

  it('code reached through a domain check, or an event trigger on DDL: exit 1 at preflight [session-exit], nothing run', async () => {
    const marker = `/tmp/kfm-escape-domain-${db.name}`;
    const migrator = new pg.Client({ connectionString: dsnFor(db.name, MIGRATOR) });
    await migrator.connect();
    try {
      await migrator.query(`
        CREATE FUNCTION public.planted_check(integer) RETURNS boolean LANGUAGE plpgsql AS $body$
        BEGIN
          -- Adding the column checks NULL for every row, as the migrator: act only on a real value.
          IF $1 IS NOT NULL THEN
            EXECUTE 'COPY (SELECT 1) TO PROGRAM ' || quote_literal('touch ${marker}');
          END IF;
          RETURN true;
        END $body$;
        CREATE DOMAIN public.rank AS integer CHECK (public.planted_check(VALUE));
        ALTER TABLE public.parcels ADD COLUMN rank public.rank;`);
    } finally {
      await migrator.end();
    }
    const dir = await bundle({
      forward: 'UPDATE public.parcels SET rank = 1 WHERE id = 1;\n',
      rollback: 'SELECT 1;\n',
    });
    const run = await kfm(['apply', dir], db.env);
    expect(run.code, run.stderr.slice(-1500)).toBe(1);
    expect(failed(run).find((check) => check.code === 'PREFLIGHT_FORBIDDEN')?.message).toMatch(
      /the domain check of column rank of public\.parcels calls public\.planted_check\(\).*\[session-exit\]/s,
    );
    await expect((await import('node:fs/promises')).access(marker)).rejects.toThrow();

    await query(
      db.name,
      "CREATE FUNCTION public.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END'; CREATE EVENT TRIGGER log_ddl ON ddl_command_start EXECUTE FUNCTION public.log_ddl()",
    );
    const ddl = await bundle({
      forward: 'CREATE INDEX parcels_no_idx ON public.parcels (parcel_no);\n',
      rollback: 'DROP INDEX IF EXISTS public.parcels_no_idx;\n',
      id: 'PG-MIG-2026-11-24-02',
    });
    const refused = await kfm(['apply', ddl], db.env);
    expect(refused.code).toBe(1);
    expect(failed(refused).find((check) => check.code === 'PREFLIGHT_FORBIDDEN')?.message).toMatch(
      /runs DDL, and event trigger log_ddl calls public\.log_ddl\(\)/,
    );
    expect(await query(db.name, "SELECT 1 FROM pg_indexes WHERE indexname = 'parcels_no_idx'")).toEqual([]);
  });

  it("an event trigger whose function the migrator owns never fires from the runner's own statements", async () => {
    // The ledger exists (a first run made it); an UPDATE-only migration by a superuser then passes preflight
    // (it runs no DDL). The runner's own statements must not be DDL either: an event trigger would run the
    // migrator's function with the superuser's rights.
    const first = await bundle({ forward: 'UPDATE public.parcels SET area_m2 = area_m2 WHERE false;\n' });
    expect((await kfm(['apply', first], db.env)).code).toBe(0);
    const marker = `/tmp/kfm-escape-event-${db.name}`;
    await plantEventTrigger(marker);
    const second = await bundle({
      forward: 'UPDATE public.parcels SET area_m2 = area_m2 WHERE false;\n',
      id: 'PG-MIG-2026-11-24-03',
    });
    const run = await kfm(['apply', second], db.env);
    expect(run.code, run.stderr.slice(-1500)).toBe(0);
    await expect((await import('node:fs/promises')).access(marker)).rejects.toThrow();
    // The trigger does fire on DDL by the superuser: the check above is not idle.
    await firesByHand(marker, 'CREATE SCHEMA IF NOT EXISTS kfm_ledger');
  });

  it("a superuser's first run under such an event trigger is refused before it creates the ledger", async () => {
    const marker = `/tmp/kfm-escape-ledger-${db.name}`;
    await plantEventTrigger(marker);
    const dir = await bundle({ forward: 'UPDATE public.parcels SET area_m2 = area_m2 WHERE false;\n' });
    const run = await kfm(['apply', dir], db.env);
    expect(run.code).toBe(1);
    expect(JSON.stringify(run.json)).toMatch(
      /PREFLIGHT_FORBIDDEN.*ledger \(kfm_ledger\) does not exist yet.*event trigger on_ddl calls public\.on_ddl\(\)/,
    );
    expect(await query(db.name, "SELECT to_regnamespace('kfm_ledger') IS NULL AS absent")).toEqual([{ absent: true }]);
    await expect((await import('node:fs/promises')).access(marker)).rejects.toThrow();
    // Created by hand as the superuser, the trigger does run the function: the refusal is not idle.
    await firesByHand(marker, 'CREATE SCHEMA kfm_ledger');
  });

  it('the same DO block as a role without those rights is observed instead, and fails on what it changed', async () => {
    const before = await decisionsState(db.name);
    const dir = await bundle({
      forward: "DO $$ BEGIN EXECUTE 'DELETE FROM gover' || 'nance.decisions'; END $$;\n",
    });
    const run = await kfm(['apply', dir], db.migratorEnv);
    expect(run.code).toBe(1);
    expect(failed(run).some((check) => check.code === 'PREFLIGHT_FORBIDDEN')).toBe(false);
    expect(JSON.stringify(failed(run))).toMatch(/governance\.decisions/);
    expect(await decisionsState(db.name)).toEqual(before);
  });
});

describe('PL/pgSQL bodies are read with their own grammar', () => {
  it('a trigger function writing governance, defined by a migrator (a standing backdoor): exit 1 at preflight, nothing defined', async () => {
    const before = await decisionsState(db.name);
    const dir = await bundle({
      forward: [
        'CREATE FUNCTION public.parcels_stamp() RETURNS trigger LANGUAGE plpgsql AS $$',
        'BEGIN',
        '  UPDATE governance.decisions SET outcome = NEW.land_use;',
        '  RETURN NEW;',
        'END $$;',
        'CREATE TRIGGER parcels_stamp AFTER UPDATE ON public.parcels FOR EACH ROW EXECUTE FUNCTION public.parcels_stamp();',
      ].join('\n'),
      rollback:
        'DROP TRIGGER IF EXISTS parcels_stamp ON public.parcels;\nDROP FUNCTION IF EXISTS public.parcels_stamp();\n',
    });
    const run = await kfm(['apply', dir], db.migratorEnv);
    expect(run.code, run.stderr.slice(-1500)).toBe(1);
    const refusal = failed(run).find((check) => check.code === 'PREFLIGHT_FORBIDDEN');
    expect(refusal?.message).toMatch(/forward\.sql:1 \(in public\.parcels_stamp\(\), line 3 of its body\).*governance/);
    expect(await decisionsState(db.name)).toEqual(before);
    expect(await query(db.name, "SELECT 1 FROM pg_proc WHERE proname = 'parcels_stamp'")).toEqual([]);
  });

  it("a superuser's DO block preflight can read runs, observed like the script; one that writes governance is refused", async () => {
    const readable = await bundle({
      forward:
        "DO $$ DECLARE r record; BEGIN\n  FOR r IN SELECT id FROM public.parcels WHERE id <= 3 LOOP\n    UPDATE public.parcels SET land_use = 'open_space' WHERE id = r.id;\n  END LOOP;\nEND $$;\n",
      rollback: "UPDATE public.parcels SET land_use = 'residential' WHERE id <= 3;\n",
      limits: { max_table_count_touched: 1, max_row_backfill: 100 },
    });
    const ran = await kfm(['apply', readable], db.env);
    expect(ran.code, ran.stderr.slice(-1500)).toBe(0);
    expect(
      await query(db.name, "SELECT count(*)::int AS n FROM public.parcels WHERE id <= 3 AND land_use = 'open_space'"),
    ).toEqual([{ n: 3 }]);

    const before = await decisionsState(db.name);
    const hostile = await bundle({
      forward: 'DO $$ BEGIN\n  PERFORM 1;\n  DELETE FROM governance.decisions;\nEND $$;\n',
      rollback: 'SELECT 1;\n',
      id: 'PG-MIG-2026-11-24-02',
    });
    const refused = await kfm(['apply', hostile], db.env);
    expect(refused.code).toBe(1);
    expect(failed(refused).find((check) => check.code === 'PREFLIGHT_FORBIDDEN')?.message).toMatch(
      /forward\.sql:1 \(in DO block, line 3 of its body\).*governance/,
    );
    expect(await decisionsState(db.name)).toEqual(before);
  });
});
