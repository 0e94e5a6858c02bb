import type { MigrationDeclaration, ScriptFile } from '@kfm/migration-contracts';
import { describe, expect, it } from 'vitest';
import { preflightPostgis } from './preflight.js';
import type { NameCatalog } from './resolve.js';

function declaration(extra: Partial<MigrationDeclaration> = {}): MigrationDeclaration {
  return {
    migration_id: 'PG-MIG-2026-03-01-01',
    type: 'postgis',
    intent: 'test',
    scope: {
      allowed_schemas: ['public'],
      allowed_tables: ['parcels'],
      forbidden_schemas: ['governance', 'audit'],
      forbidden_tables: ['authority_sites'],
    },
    limits: {},
    requires_rollback: true,
    approvals: {},
    runner: {},
    artifacts: { forward: ['forward.sql'] },
    ...extra,
  };
}

const script = (text: string, path = 'forward.sql'): ScriptFile[] => [{ path, text, digest: 'unused' }];
const failures = (checks: { status: string; code?: string }[]) =>
  checks.filter((check) => check.status === 'fail').map((check) => check.code);

describe('preflightPostgis', () => {
  it('passes a plain index migration and predicts its touches', async () => {
    const result = await preflightPostgis(
      script('CREATE INDEX parcels_geom_idx ON parcels USING gist (geom);'),
      declaration(),
    );
    expect(failures(result.checks)).toEqual([]);
    expect(result.predicted).toEqual({ schemas: ['public'], tables: ['public.parcels'] });
    expect(result.statements[0]).toMatchObject({
      index: 0,
      file: 'forward.sql',
      line: 1,
      kind: 'IndexStmt',
      transactional: true,
      destructive: false,
      data: false,
    });
    expect(result.statements[0]!.objects).toContainEqual({ schema: 'public', table: 'parcels' });
  });

  it('flags CREATE INDEX CONCURRENTLY in a transactional declaration, with file:line', async () => {
    const text = 'SELECT 1;\n\nCREATE INDEX CONCURRENTLY parcels_geom_idx ON public.parcels USING gist (geom);';
    const result = await preflightPostgis(script(text), declaration());
    const finding = result.checks.find((check) => check.code === 'PREFLIGHT_NON_TRANSACTIONAL');
    expect(finding?.message).toMatch(/^forward\.sql:3 CREATE INDEX CONCURRENTLY/);
    expect(result.statements[1]!.transactional).toBe(false);
    const declared = await preflightPostgis(script(text), declaration({ transactional: false }));
    expect(failures(declared.checks)).toEqual([]);
  });

  it.each([
    ['VACUUM parcels', 'VacuumStmt'],
    ['REINDEX INDEX CONCURRENTLY parcels_pkey', 'ReindexStmt'],
    ['DROP INDEX CONCURRENTLY parcels_geom_idx', 'DropStmt'],
    ['CREATE DATABASE other', 'CreatedbStmt'],
    ["ALTER SYSTEM SET work_mem = '64MB'", 'AlterSystemStmt'],
    ['COMMIT', 'TransactionStmt'],
  ])('treats %s as non-transactional', async (sql, kind) => {
    const result = await preflightPostgis(script(sql), declaration());
    expect(result.statements[0]).toMatchObject({ kind, transactional: false });
    expect(failures(result.checks)).toContain('PREFLIGHT_NON_TRANSACTIONAL');
  });

  it('keeps ANALYZE and ALTER TYPE … ADD VALUE transactional (PostgreSQL 12+)', async () => {
    const result = await preflightPostgis(
      script("ANALYZE parcels; ALTER TYPE land_use ADD VALUE 'forest';"),
      declaration(),
    );
    expect(result.statements.map((s) => s.transactional)).toEqual([true, true]);
  });

  it('fails a statement naming a forbidden table or schema, pointing at the rule', async () => {
    const result = await preflightPostgis(
      script(
        'UPDATE parcels SET area_m2 = 1;\nUPDATE public.authority_sites SET category = NULL;\nSELECT * FROM governance.decisions;',
      ),
      declaration(),
    );
    const forbidden = result.checks.filter((check) => check.code === 'PREFLIGHT_FORBIDDEN');
    expect(forbidden.map((check) => [check.pointer, check.observed])).toEqual([
      ['/scope/forbidden_tables/0', 'public.authority_sites'],
      ['/scope/forbidden_schemas/0', 'governance.decisions'],
    ]);
    expect(forbidden[0]!.message).toMatch(/^forward\.sql:2 /);
  });

  it('stops at protected names unless approvals.exception_ref is given', async () => {
    const protectedDomains = { schemas: ['audit*'], tables: ['public.authority_*'] };
    const sql = script('ALTER TABLE authority_sites ADD COLUMN note text;');
    const open = declaration({ scope: { allowed_tables: ['authority_sites'] } });
    const blocked = await preflightPostgis(sql, open, protectedDomains);
    expect(failures(blocked.checks)).toEqual(['PREFLIGHT_FORBIDDEN']);
    const approved = await preflightPostgis(
      sql,
      { ...open, approvals: { exception_ref: 'GOV-REQ-1' } },
      protectedDomains,
    );
    expect(failures(approved.checks)).toEqual([]);
    expect(approved.checks.find((check) => check.rule === 'protected')?.message).toMatch(/GOV-REQ-1/);
  });

  it('uses the declaration’s protected section when no effective domains are passed', async () => {
    const result = await preflightPostgis(
      script('TRUNCATE audit.events;'),
      declaration({ scope: {}, protected: { schemas: ['audit'] } }),
    );
    expect(failures(result.checks)).toEqual(['PREFLIGHT_FORBIDDEN']);
  });

  it('reports a parse error with file:line:column before anything runs', async () => {
    const result = await preflightPostgis(
      script('CREATE INDEX i ON parcels (id);\nALTER TABLE parcels ADD COLUMN;', 'sql/forward.sql'),
      declaration(),
    );
    expect(result.statements).toEqual([]);
    expect(result.checks).toHaveLength(1);
    expect(result.checks[0]).toMatchObject({ status: 'fail', code: 'PREFLIGHT_PARSE' });
    expect(result.checks[0]!.message).toMatch(/^sql\/forward\.sql:2:\d+ syntax error/);
  });

  it('classifies destructive and data statements', async () => {
    const result = await preflightPostgis(
      script(
        'DELETE FROM parcels; DELETE FROM parcels WHERE id = 1; ALTER TABLE parcels DROP COLUMN area_m2; DROP TABLE parcels; INSERT INTO parcels DEFAULT VALUES; COPY parcels FROM STDIN; COPY parcels TO STDOUT;',
      ),
      declaration(),
    );
    expect(result.statements.map((s) => [s.kind, s.destructive, s.data])).toEqual([
      ['DeleteStmt', true, true],
      ['DeleteStmt', false, true],
      ['AlterTableStmt', true, false],
      ['DropStmt', true, false],
      ['InsertStmt', false, true],
      ['CopyStmt', false, true],
      ['CopyStmt', false, false],
    ]);
  });

  it('does not mistake a WITH query name for a table, and resolves unqualified names to public', async () => {
    const result = await preflightPostgis(
      script(
        'WITH recent AS (SELECT id FROM parcels) UPDATE parcels SET area_m2 = 0 WHERE id IN (SELECT id FROM recent);',
      ),
      declaration(),
    );
    expect(result.predicted.tables).toEqual(['public.parcels']);
  });

  it('names the schemas of created schemas, functions and dropped indexes', async () => {
    const result = await preflightPostgis(
      script(
        "CREATE SCHEMA staging; CREATE FUNCTION staging.f() RETURNS int LANGUAGE sql AS 'select 1'; DROP INDEX staging.old_idx; DROP TRIGGER t ON staging.roads;",
      ),
      declaration({ scope: {} }),
    );
    expect(result.predicted).toEqual({ schemas: ['staging'], tables: ['staging.roads'] });
    expect(result.statements[2]!.objects).toEqual([{ schema: 'staging', index: 'old_idx' }]);
  });

  describe('names resolved as the server will', () => {
    const catalog: NameCatalog = {
      searchPath: ['public'],
      user: 'app',
      relations: {
        parcels: ['public'],
        policies: ['governance'],
        decisions: ['governance', 'public'],
        pg_class: ['pg_catalog'],
      },
      opaqueFunctions: { grant_everything: ['public'] },
    };
    const tablesOf = async (sql: string, extra: Partial<MigrationDeclaration> = {}) =>
      (await preflightPostgis(script(sql), declaration({ scope: {}, ...extra }), undefined, { catalog })).predicted
        .tables;

    it('follows SET search_path, SET LOCAL, set_config and RESET, statement by statement', async () => {
      expect(
        await tablesOf('SET search_path = governance; CREATE INDEX CONCURRENTLY p_idx ON policies (rule);', {
          transactional: false,
        }),
      ).toEqual(['governance.policies']);
      expect(await tablesOf('SET LOCAL search_path TO governance, public; UPDATE decisions SET x = 1;')).toEqual([
        'governance.decisions',
      ]);
      expect(await tablesOf("SELECT set_config('search_path', 'governance', false); DELETE FROM policies;")).toEqual([
        'governance.policies',
      ]);
      expect(await tablesOf('SET search_path = governance; RESET search_path; UPDATE decisions SET x = 1;')).toEqual([
        'public.decisions',
      ]);
      expect(await tablesOf('SET search_path = "$user", governance; CREATE TABLE fresh (id int);')).toEqual([
        'app.fresh',
      ]);
    });

    it("resolves against the connection's own search_path and the live catalog", async () => {
      const result = await preflightPostgis(script('UPDATE policies SET rule = NULL;'), declaration(), undefined, {
        catalog: { ...catalog, searchPath: ['governance', 'public'] },
      });
      expect(result.predicted.tables).toEqual(['governance.policies']);
      expect(failures(result.checks)).toContain('PREFLIGHT_FORBIDDEN');
    });

    it('never lets a WITH query hide the table a write targets', async () => {
      const result = await preflightPostgis(
        script('WITH authority_sites AS (SELECT 1) DELETE FROM authority_sites;'),
        declaration(),
        undefined,
        { catalog },
      );
      expect(result.predicted.tables).toEqual(['public.authority_sites']);
      expect(failures(result.checks)).toEqual(['PREFLIGHT_FORBIDDEN']);
    });

    it('refuses writes to the system schemas, and lets reads of the catalog through', async () => {
      const write = await preflightPostgis(
        script('CREATE TABLE information_schema.stash AS SELECT * FROM parcels;'),
        declaration({ scope: {} }),
        undefined,
        { catalog },
      );
      expect(write.checks.find((check) => check.status === 'fail')?.message).toMatch(/system schemas/);
      const read = await preflightPostgis(
        script('SELECT count(*) FROM pg_class;'),
        declaration({ scope: {} }),
        undefined,
        { catalog },
      );
      expect(failures(read.checks)).toEqual([]);
    });

    it('refuses the migration ledger to every script', async () => {
      const result = await preflightPostgis(
        script('DELETE FROM kfm_ledger.migrations;'),
        declaration({ scope: {} }),
        undefined,
        { catalog },
      );
      expect(result.checks.find((check) => check.status === 'fail')?.message).toMatch(/kfm_ledger/);
    });
  });

  describe('escapes', () => {
    const catalog: NameCatalog = {
      searchPath: ['public'],
      user: 'app',
      relations: { parcels: ['public'] },
      opaqueFunctions: { grant_everything: ['public'] },
    };
    const refused = async (sql: string, transactional = true, allowedRules: string[] = []) => {
      const result = await preflightPostgis(script(sql), declaration({ transactional }), undefined, {
        catalog,
        allowedRules,
      });
      return result.checks
        .filter((check) => check.status === 'fail' && check.code === 'PREFLIGHT_FORBIDDEN')
        .map((check) => check.observed);
    };

    it.each([
      ['CREATE ROLE mallory SUPERUSER', 'cluster-object'],
      ['GRANT pg_read_all_data TO app', 'cluster-object'],
      ['ALTER DATABASE kfm SET search_path = governance', 'database-setting'],
      ['CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION f()', 'event-trigger'],
      ['CREATE PUBLICATION leak FOR TABLE parcels', 'publication'],
      ['CREATE EXTENSION dblink', 'out-of-transaction-channel'],
      ["SELECT dblink_exec('dbname=kfm', 'DELETE FROM governance.policies')", 'out-of-transaction-channel'],
      ['ALTER EXTENSION postgis ADD TABLE parcels', 'extension-membership'],
      ['ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO PUBLIC', 'default-privileges'],
      ["COPY parcels FROM PROGRAM 'curl -s http://example.invalid/x.csv'", 'out-of-transaction-channel'],
      ["COPY parcels TO '/tmp/parcels.csv'", 'out-of-transaction-channel'],
      ['SELECT pg_terminate_backend(pid) FROM pg_stat_activity', 'out-of-transaction-channel'],
    ])('refuses %s in every run [%s]', async (sql, rule) => {
      expect(await refused(sql)).toContain(rule);
      expect(await refused(sql, false)).toContain(rule);
    });

    it.each([
      ['SET ROLE postgres', 'role-switch'],
      ['SET SESSION AUTHORIZATION postgres', 'role-switch'],
      ["DO $$ BEGIN EXECUTE 'GRANT ALL ON gover' || 'nance.policies TO PUBLIC'; END $$", 'dynamic-sql'],
      ['CALL refresh_everything()', 'opaque-call'],
      ['SELECT grant_everything()', 'opaque-call'],
      ['CREATE TRIGGER t AFTER UPDATE ON parcels FOR EACH ROW EXECUTE FUNCTION grant_everything()', 'opaque-call'],
      ["CREATE FUNCTION f() RETURNS void LANGUAGE sql AS 'select 1'; SELECT f()", 'opaque-call'],
      ["SELECT set_config('search_path', current_setting('app.path'), false)", 'dynamic-search-path'],
      ["SELECT query_to_xml('SELECT 1', true, true, '')", 'dynamic-sql'],
      ["SELECT set_config('role', 'app', true)", 'role-switch'],
    ])('refuses %s only without a commit point [%s]', async (sql, rule) => {
      expect(await refused(sql, false)).toContain(rule);
      expect(await refused(sql, true)).toEqual([]);
    });

    it.each([
      ["SELECT lo_from_bytea(0, 'x')", 'unobserved-object'],
      ['SELECT lo_unlink(16400)', 'unobserved-object'],
      ['GRANT SELECT ON LARGE OBJECT 16400 TO PUBLIC', 'unobserved-object'],
      ['CREATE CAST (text AS point) WITH INOUT', 'unobserved-object'],
      ['CREATE ACCESS METHOD heap2 TYPE TABLE HANDLER heap_tableam_handler', 'unobserved-object'],
      [
        "CREATE FUNCTION leak() RETURNS void LANGUAGE sql AS $$SELECT dblink_exec('dbname=kfm', 'DELETE FROM governance.policies')$$",
        'out-of-transaction-channel',
      ],
      ["CREATE FUNCTION blob() RETURNS oid LANGUAGE sql AS 'SELECT lo_from_bytea(0, ''x'')'", 'unobserved-object'],
      [
        'CREATE OR REPLACE FUNCTION public.st_area(geometry) RETURNS float8 LANGUAGE sql AS $$SELECT 0$$',
        'extension-member',
      ],
      ['CREATE FUNCTION st_area(text) RETURNS float8 LANGUAGE sql AS $$SELECT 0$$', 'extension-member'],
      ['ALTER FUNCTION st_area(geometry) SECURITY DEFINER', 'extension-member'],
      ['GRANT EXECUTE ON FUNCTION public.st_area(geometry) TO PUBLIC', 'extension-member'],
      ['CREATE TRIGGER t BEFORE INSERT ON spatial_ref_sys FOR EACH ROW EXECUTE FUNCTION f()', 'extension-member'],
      ['ALTER TABLE public.spatial_ref_sys ADD COLUMN note text', 'extension-member'],
      ['GRANT SET ON PARAMETER work_mem TO PUBLIC', 'cluster-object'],
      ['COMMENT ON DATABASE kfm IS $$x$$', 'database-setting'],
      ["SELECT pg_create_physical_replication_slot('s')", 'out-of-transaction-channel'],
      ['DISCARD SEQUENCES', 'session-state'],
      ['GRANT CONNECT ON DATABASE kfm TO PUBLIC', 'database-setting'],
      ['GRANT USAGE ON FOREIGN SERVER s TO PUBLIC', 'out-of-transaction-channel'],
    ])('refuses %s in every run [%s]', async (sql, rule) => {
      const withExtension: NameCatalog = {
        ...catalog,
        relations: { ...catalog.relations, spatial_ref_sys: ['public'] },
        extensionFunctions: { st_area: ['public'] },
        extensionRelations: ['public.spatial_ref_sys'],
      };
      for (const transactional of [true, false]) {
        const result = await preflightPostgis(script(sql), declaration({ transactional }), undefined, {
          catalog: withExtension,
        });
        expect(result.checks.filter((check) => check.status === 'fail').map((check) => check.observed)).toContain(rule);
      }
    });

    it('reads sequences and PostGIS table functions by the table they write', async () => {
      const named = async (sql: string) =>
        (
          await preflightPostgis(script(sql), declaration({ scope: {} }), undefined, {
            catalog: {
              ...catalog,
              relations: { ...catalog.relations, decisions_id_seq: ['governance'], authority_sites: ['public'] },
              sequenceOwners: { 'governance.decisions_id_seq': 'governance.decisions' },
            },
          })
        ).predicted.tables;
      expect(await named("SELECT setval('governance.decisions_id_seq', 1)")).toEqual([
        'governance.decisions',
        'governance.decisions_id_seq',
      ]);
      expect(await named('ALTER SEQUENCE governance.decisions_id_seq RESTART')).toContain('governance.decisions');
      expect(await named("SELECT UpdateGeometrySRID('authority_sites', 'geom', 4326)")).toEqual([
        'public.authority_sites',
      ]);
      expect(await named("SELECT AddGeometryColumn('governance', 'policies', 'g', 4326, 'POINT', 2)")).toEqual([
        'governance.policies',
      ]);
      expect(await named("SELECT DropGeometryColumn('public', 'authority_sites', 'geom')")).toEqual([
        'public.authority_sites',
      ]);
      expect(await named("SELECT DropGeometryTable('governance', 'Policies')")).toEqual(['governance.Policies']);
      expect(await refused("SELECT UpdateGeometrySRID(current_setting('app.t'), 'geom', 4326)", false)).toContain(
        'opaque-call',
      );
    });

    it.each([
      'CREATE STATISTICS governance.s ON parcel_no, land_use FROM parcels',
      "CREATE COLLATION governance.c (locale = 'C')",
      'CREATE TEXT SEARCH CONFIGURATION governance.t (COPY = english)',
      'CREATE OPERATOR governance.=== (LEFTARG = int, RIGHTARG = int, FUNCTION = int4eq)',
      "CREATE CONVERSION governance.cv FOR 'LATIN1' TO 'UTF8' FROM iso8859_1_to_utf8",
      'CREATE DOMAIN governance.d AS int',
      "ALTER TYPE governance.e ADD VALUE 'b'",
      'CREATE OPERATOR FAMILY governance.f USING btree',
      "SELECT pg_import_system_collations('governance')",
    ])('names the schema of %s, so a forbidden one is refused', async (sql) => {
      const result = await preflightPostgis(script(sql), declaration(), undefined, { catalog });
      expect(result.predicted.schemas).toContain('governance');
      expect(failures(result.checks)).toContain('PREFLIGHT_FORBIDDEN');
    });

    it.each([
      'ALTER FUNCTION kfm_ledger.refuse_rewrite() SET SCHEMA public',
      'GRANT INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA kfm_ledger TO PUBLIC',
      'GRANT CREATE ON SCHEMA pg_catalog TO PUBLIC',
      'GRANT SELECT ON ALL TABLES IN SCHEMA pg_catalog TO PUBLIC',
      'ALTER FUNCTION lower(text) RENAME TO lower_x',
      'ALTER FUNCTION pg_catalog.pg_sleep(double precision) SECURITY DEFINER',
      'COMMENT ON FUNCTION now() IS $$x$$',
      'REVOKE EXECUTE ON FUNCTION pg_catalog.now() FROM PUBLIC',
      'ALTER SCHEMA information_schema OWNER TO app',
      'GRANT USAGE ON SCHEMA governance TO PUBLIC',
    ])('names the schema %s reaches, so the ledger, system and forbidden schemas are refused', async (sql) => {
      const result = await preflightPostgis(script(sql), declaration(), undefined, {
        catalog: { ...catalog, builtinFunctions: ['lower', 'now', 'pg_sleep'] },
      });
      expect(failures(result.checks)).toContain('PREFLIGHT_FORBIDDEN');
    });

    it('lets functions of the script and of allowed schemas be altered', async () => {
      const result = await preflightPostgis(
        script(
          "CREATE FUNCTION public.tidy() RETURNS int LANGUAGE sql AS 'SELECT 1'; COMMENT ON FUNCTION tidy() IS 'x'; GRANT EXECUTE ON FUNCTION public.tidy() TO PUBLIC; DROP FUNCTION tidy();",
        ),
        declaration(),
        undefined,
        { catalog: { ...catalog, builtinFunctions: ['lower', 'now'] } },
      );
      expect(failures(result.checks)).toEqual([]);
    });

    it('holds a SQL function body to the scope: a write there is a write of the script', async () => {
      for (const [body, expected] of [
        ['UPDATE pg_catalog.pg_database SET datconnlimit = 0', /system schemas/],
        ['DELETE FROM governance.decisions', /names governance\.decisions, which the declaration forbids/],
      ] as const) {
        const result = await preflightPostgis(
          script(
            `CREATE FUNCTION public.fix() RETURNS void LANGUAGE sql AS $$${body}$$; ALTER FUNCTION public.fix() RENAME TO fix2; SELECT public.fix2();`,
          ),
          declaration(),
          undefined,
          { catalog },
        );
        const failing = result.checks.filter((check) => check.status === 'fail');
        expect(failing.map((check) => check.message).join('\n')).toMatch(expected);
        expect(failing[0]?.message).toMatch(/^forward\.sql:1 \(in public\.fix\(\)\)/);
      }
    });

    describe('a role that can act outside its session', () => {
      const superuser: NameCatalog = { ...catalog, sessionExit: 'role postgres is a superuser' };
      const refusedAs = async (sql: string) =>
        (
          await preflightPostgis(script(sql), declaration({ transactional: true }), undefined, { catalog: superuser })
        ).checks
          .filter((check) => check.status === 'fail')
          .map((check) => check.observed);

      it.each([
        "DO $$ BEGIN EXECUTE 'CREATE EXTENSION dbl' || 'ink'; END $$",
        'CALL refresh_everything()',
        'SELECT grant_everything()',
        'CREATE TRIGGER t AFTER UPDATE ON parcels FOR EACH ROW EXECUTE FUNCTION grant_everything()',
        'SET ROLE app',
        "CREATE FUNCTION t() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN EXECUTE 'SELECT 1'; RETURN NEW; END$$",
        "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS 'SELECT grant_everything()'",
        "SELECT query_to_xml('SELECT 1', true, true, '')",
        "CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS 'BEGIN RETURN 1; END'; ALTER FUNCTION g() RENAME TO h; SELECT h()",
        'CREATE AGGREGATE agg(int) (SFUNC = grant_everything, STYPE = int)',
        'CREATE OPERATOR ### (LEFTARG = int, RIGHTARG = int, FUNCTION = grant_everything)',
      ])('refuses %s even with a commit point [session-exit]', async (sql) => {
        expect(await refusedAs(sql)).toContain('session-exit');
        expect(await refused(sql, true)).toEqual([]);
      });

      it('refuses touching a table whose attached code calls an opaque function only where that code can run', async () => {
        const planted: NameCatalog = {
          ...superuser,
          attachedCode: { 'public.parcels': 'trigger audit of public.parcels calls public.audit()' },
        };
        const observed = async (sql: string, on: NameCatalog) =>
          (await preflightPostgis(script(sql), declaration({ transactional: true }), undefined, { catalog: on })).checks
            .filter((check) => check.status === 'fail')
            .map((check) => `${check.observed}: ${check.message}`);
        for (const sql of [
          "UPDATE parcels SET land_use = 'x' WHERE false",
          'SELECT count(*) FROM public.parcels',
          'TRUNCATE parcels',
          'ALTER TABLE parcels ALTER COLUMN area_m2 TYPE numeric',
          'REINDEX TABLE parcels',
        ]) {
          const [finding] = await observed(sql, planted);
          expect(finding).toMatch(
            /^session-exit: .*touches public\.parcels, where trigger audit of public\.parcels calls public\.audit\(\)/,
          );
          // Without a way out of the session, the same code is observed in the transaction instead.
          expect(await observed(sql, { ...planted, sessionExit: undefined })).toEqual([]);
        }
        for (const sql of ['CREATE INDEX parcels_x ON parcels (land_use)', "COMMENT ON TABLE parcels IS 'p'"])
          expect(await observed(sql, planted)).toEqual([]);
      });

      it('says which right lets it out, and lets readable SQL through', async () => {
        const result = await preflightPostgis(
          script("DO $$ BEGIN EXECUTE 'SELECT 1'; END $$"),
          declaration(),
          undefined,
          { catalog: superuser },
        );
        expect(result.checks.find((check) => check.observed === 'session-exit')?.message).toMatch(
          /runs a DO block \(EXECUTE at line 1 of the body runs a query given as a string\).*role postgres is a superuser/,
        );
        expect(
          await refusedAs(
            "ALTER TABLE parcels ADD COLUMN x int; CREATE FUNCTION one() RETURNS int LANGUAGE sql AS 'SELECT 1'",
          ),
        ).toEqual([]);
      });
    });

    describe('PL/pgSQL, read with its own grammar', () => {
      const superuser: NameCatalog = { ...catalog, sessionExit: 'role postgres is a superuser' };
      const checks = async (sql: string, options: { transactional?: boolean; on?: NameCatalog } = {}) =>
        (
          await preflightPostgis(
            script(sql),
            declaration({ transactional: options.transactional ?? true }),
            undefined,
            {
              catalog: options.on ?? catalog,
            },
          )
        ).checks.filter((check) => check.status === 'fail');

      it('refuses a trigger function whose body writes a forbidden table when it is defined, naming the body line', async () => {
        const [finding, ...rest] = await checks(
          [
            'CREATE FUNCTION public.stamp() RETURNS trigger LANGUAGE plpgsql AS $$',
            'DECLARE n int := (SELECT count(*) FROM public.parcels);',
            'BEGIN',
            '  IF n > 0 THEN',
            '    DELETE FROM governance.decisions WHERE id = NEW.id;',
            '  END IF;',
            '  RETURN NEW;',
            'END $$;',
          ].join('\n'),
        );
        expect(rest).toEqual([]);
        expect(finding).toMatchObject({ code: 'PREFLIGHT_FORBIDDEN', observed: 'governance.decisions' });
        expect(finding?.message).toMatch(/^forward\.sql:1 \(in public\.stamp\(\), line 5 of its body\)/);
      });

      it('holds a DO block to the scope statement by statement, and lets a readable one run where it could not', async () => {
        const readable =
          'DO $$ DECLARE r record; BEGIN FOR r IN SELECT id FROM parcels LOOP UPDATE parcels SET area_m2 = 1 WHERE id = r.id; END LOOP; END $$';
        expect(await checks(readable, { transactional: false })).toEqual([]);
        expect(await checks(readable, { on: superuser })).toEqual([]);
        const predicted = await preflightPostgis(script(readable), declaration(), undefined, { catalog });
        expect(predicted.predicted.tables).toEqual(['public.parcels']);
        const [forbidden] = await checks('DO $$ BEGIN PERFORM 1; UPDATE audit.events SET at = now(); END $$');
        expect(forbidden).toMatchObject({ code: 'PREFLIGHT_FORBIDDEN', observed: 'audit.events' });
        expect(forbidden?.message).toMatch(/^forward\.sql:1 \(in DO block, line 1 of its body\)/);
        // What the body calls is checked like a call in the script.
        expect((await checks('DO $$ BEGIN PERFORM grant_everything(); END $$', { on: superuser }))[0]?.observed).toBe(
          'session-exit',
        );
      });

      it.each([
        ["DO $$ BEGIN EXECUTE 'DELETE FROM gover' || 'nance.decisions'; END $$", /EXECUTE at line 1/],
        ["DO $$ DECLARE r record; BEGIN FOR r IN EXECUTE 'SELECT 1' LOOP END LOOP; END $$", /EXECUTE at line 1/],
        ["DO $$ DECLARE c refcursor; BEGIN OPEN c FOR EXECUTE 'SELECT 1'; END $$", /EXECUTE at line 1/],
        ['DO $$ BEGIN\n  UPDATE parcels SET area_m2 = 1;\n  COMMIT;\nEND $$', /COMMIT at line 3/],
        ['DO LANGUAGE plpython3u $$ plpy.execute("DELETE FROM governance.decisions") $$', /DO block/],
        ['DO $$ BEGIN x.y := 1; END $$', /does not parse/],
        [
          'DO $$ BEGIN\n  SET search_path = governance;\n  DELETE FROM decisions;\nEND $$',
          /sets search_path at line 2/,
        ],
        [
          "DO $$ BEGIN PERFORM pg_catalog.set_config('search_path', 'governance', false); END $$",
          /sets search_path at line 1/,
        ],
      ])('keeps refusing what it cannot read: %s', async (sql, why) => {
        const [unread] = await checks(sql, { transactional: false });
        expect(unread?.observed).toBe('dynamic-sql');
        expect(unread?.message).toMatch(why);
        expect((await checks(sql, { on: superuser }))[0]?.observed).toBe('session-exit');
      });

      it('lets a superuser define a function it can read, not one it cannot', async () => {
        const readable =
          'CREATE FUNCTION public.area() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.area_m2 := ST_Area(NEW.geom); RETURN NEW; END $$';
        expect(await checks(readable, { on: superuser })).toEqual([]);
        const [dynamic] = await checks(
          "CREATE FUNCTION public.area() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'SELECT 1'; RETURN NEW; END $$",
          { on: superuser },
        );
        expect(dynamic?.message).toMatch(
          /defines a plpgsql function whose body preflight cannot read \(EXECUTE at line 1/,
        );
      });

      // Found by a hostile review of the reader; each passed as readable before.
      it.each([
        [
          'a call hidden in an assignment target subscript',
          "DO $$ DECLARE a int[]; BEGIN a[length(dblink_exec('dbname=x', 'DELETE FROM governance.decisions'))] := 1; END $$",
          'out-of-transaction-channel',
        ],
        [
          'an assignment split at a := inside a comment',
          "DO $$ DECLARE t text; BEGIN t = set_config('search_path', 'governance', true) -- :=\n || ''; DELETE FROM decisions; END $$",
          'dynamic-sql',
        ],
        [
          'a function defined and called inside the body',
          "DO $$ BEGIN CREATE FUNCTION public.f() RETURNS void LANGUAGE sql AS 'DELETE FROM governance.decisions'; PERFORM public.f(); END $$",
          'dynamic-sql',
        ],
        ['LOAD of a shared library', "DO $$ BEGIN LOAD '/tmp/evil.so'; END $$", 'out-of-transaction-channel'],
        [
          'standard_conforming_strings turned off',
          "SET standard_conforming_strings = off; SELECT 'a\\' , $q$'; DELETE FROM governance.decisions; -- $q$",
          'session-state',
        ],
        [
          'set_config on a setting named at run time',
          "SELECT set_config('standard_' || 'conforming_strings', 'off', false)",
          'session-state',
        ],
        ['session_replication_role = replica', 'SET session_replication_role = replica', 'session-state'],
        ['RESET ALL (back to a database default of standard_conforming_strings)', 'RESET ALL', 'session-state'],
        ['RESET ALL inside a DO block', 'DO $$ BEGIN RESET ALL; END $$', 'session-state'],
        ['an opaque function called in attribute notation', 'SELECT p.grant_everything FROM parcels p', 'opaque-call'],
      ])('refuses %s', async (_name, sql, rule) => {
        const found = await checks(sql, { transactional: false });
        expect(found.map((check) => check.observed)).toContain(rule);
      });

      it('resolves a body along the search_path its function declares, and refuses changing it afterwards', async () => {
        const [found] = await checks(
          'CREATE FUNCTION public.stamp() RETURNS trigger LANGUAGE plpgsql SET search_path = governance AS $$ BEGIN DELETE FROM decisions; RETURN NEW; END $$',
        );
        expect(found).toMatchObject({ code: 'PREFLIGHT_FORBIDDEN', observed: 'governance.decisions' });
        const [sql] = await checks(
          "CREATE FUNCTION public.tidy() RETURNS void LANGUAGE sql SET search_path = governance AS 'DELETE FROM decisions'",
        );
        expect(sql).toMatchObject({ code: 'PREFLIGHT_FORBIDDEN', observed: 'governance.decisions' });
        const altered = await checks(
          'CREATE FUNCTION public.stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM decisions; RETURN NEW; END $$; ALTER FUNCTION public.stamp() SET search_path = governance',
        );
        expect(altered.map((check) => check.observed)).toContain('dynamic-search-path');
      });

      it('refuses, for a role that can leave its session, PREPARE on a table with attached code and DDL under an event trigger', async () => {
        const planted: NameCatalog = {
          ...superuser,
          attachedCode: { 'public.parcels': 'trigger audit of public.parcels calls public.audit()' },
        };
        expect(
          (await checks('PREPARE p AS UPDATE parcels SET area_m2 = 1; EXECUTE p', { on: planted }))[0]?.observed,
        ).toBe('session-exit');
        const evented: NameCatalog = { ...superuser, eventTriggerCode: 'event trigger log_ddl calls public.log_ddl()' };
        const [ddl] = await checks('CREATE INDEX parcels_x ON parcels (land_use)', { on: evented });
        expect(ddl?.message).toMatch(/runs DDL, and event trigger log_ddl calls public\.log_ddl\(\)/);
        expect(await checks('UPDATE parcels SET area_m2 = 1 WHERE false', { on: evented })).toEqual([]);
        // SELECT … INTO a new table is CREATE TABLE AS; INTO a PL/pgSQL variable is a read.
        const [into] = await checks('SELECT * INTO public.parcels_copy FROM parcels', { on: evented });
        expect(into?.message).toMatch(/runs DDL, and event trigger log_ddl/);
        expect(
          await checks('DO $$ DECLARE n bigint; BEGIN SELECT count(*) INTO n FROM parcels; END $$', { on: evented }),
        ).toEqual([]);
      });

      it('reads SELECT … INTO a variable as a read, not as a new table', async () => {
        expect(
          await checks(
            'CREATE FUNCTION public.n() RETURNS int LANGUAGE plpgsql AS $$ DECLARE x int; BEGIN SELECT count(*) INTO x FROM parcels; RETURN x; END $$',
          ),
        ).toEqual([]);
      });
    });

    it('lets built-in and extension functions through, and an allowed rule pass with its reason', async () => {
      expect(await refused('SELECT count(*), ST_Area(geom) FROM parcels', false)).toEqual([]);
      const result = await preflightPostgis(
        script("DO $$ BEGIN EXECUTE 'SELECT 1'; END $$"),
        declaration({ transactional: false }),
        undefined,
        { catalog, allowedRules: ['dynamic-sql'] },
      );
      expect(failures(result.checks)).toEqual([]);
      expect(result.checks.find((check) => check.observed === 'dynamic-sql')?.message).toMatch(/allowed by the policy/);
    });
  });
});
