// Ways out of scope that preflight cannot see (each hidden in a DO block of a transactional bundle scoped to
// public.parcels): an event trigger, a publication, a rewrite rule on a forbidden table, internal triggers
// disabled on a forbidden table, a view exposing a forbidden table, default privileges in a forbidden
// schema, a table hidden inside an extension. Each must fail closed at the commit point, and the catalog,
// read with queries of our own, must show nothing of it. Several need a superuser, whose DO blocks preflight
// refuses (`session-exit`); the policy here allows that rule for the bundle, as an operator could, and the
// observation must still stop every one of them.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kfm, query, readJson, repo, repository, seededDatabasePerTest } from './postgis-harness.js';

const db = seededDatabasePerTest();

/** Everything the attacks below would leave, read straight from the catalog. */
async function catalogState(database: string) {
  const [row] = await query(
    database,
    `SELECT (SELECT count(*)::int FROM pg_event_trigger) AS event_triggers,
            (SELECT count(*)::int FROM pg_publication) AS publications,
            (SELECT count(*)::int FROM pg_rules WHERE schemaname <> 'pg_catalog') AS rules,
            (SELECT string_agg(tgname || ':' || tgenabled::text, ',' ORDER BY tgname) FROM pg_trigger WHERE tgrelid = 'governance.decisions'::regclass) AS decision_triggers,
            (SELECT count(*)::int FROM pg_views WHERE schemaname = 'public') AS public_views,
            (SELECT count(*)::int FROM pg_default_acl) AS default_acls,
            (SELECT count(*)::int FROM pg_depend WHERE deptype = 'e' AND classid = 'pg_class'::regclass) AS extension_relations,
            (SELECT count(*)::int FROM pg_tables WHERE schemaname = 'governance') AS governance_tables`,
  );
  return row;
}

const attacks: [string, string][] = [
  [
    'an event trigger',
    "EXECUTE 'CREATE FUNCTION public.kfm_evt() RETURNS event_trigger LANGUAGE plpgsql AS $f$ BEGIN END $f$'; EXECUTE 'CREATE EVENT TRIGGER kfm_evt ON ddl_command_start EXECUTE FUNCTION public.kfm_evt()';",
  ],
  [
    'a publication of a forbidden table',
    "EXECUTE 'CREATE PUBLICATION kfm_pub FOR TABLE public.author' || 'ity_sites';",
  ],
  [
    'a DO INSTEAD NOTHING rule on a forbidden table',
    "EXECUTE 'CREATE RULE kfm_rule AS ON INSERT TO public.author' || 'ity_sites DO INSTEAD NOTHING';",
  ],
  [
    'internal triggers disabled on a forbidden table',
    "EXECUTE 'ALTER TABLE gover' || 'nance.decisions DISABLE TRIGGER ALL';",
  ],
  [
    'a view exposing a forbidden table',
    "EXECUTE 'CREATE VIEW public.kfm_leak AS SELECT * FROM gover' || 'nance.decisions';",
  ],
  [
    'default privileges in a forbidden schema',
    "EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA gover' || 'nance GRANT SELECT ON TABLES TO PUBLIC';",
  ],
  [
    'a table hidden inside an extension',
    "EXECUTE 'CREATE TABLE gover' || 'nance.kfm_hidden (id int)'; EXECUTE 'ALTER EXTENSION postgis ADD TABLE gover' || 'nance.kfm_hidden';",
  ],
];

describe('cluster- and database-level changes hidden in a DO block fail closed', () => {
  it.each(attacks)('%s: exit 1, the catalog unchanged', async (_what, body) => {
    // A foreign key gives governance.decisions internal triggers to disable.
    await query(db.name, 'CREATE TABLE governance.links (decision_id integer REFERENCES governance.decisions (id))');
    const before = await catalogState(db.name);
    const policy = {
      ...(await readJson(path.join(repo, 'migrations/registry/policy.v1.json'))),
      exceptions: [{ migration_id: 'PG-MIG-2026-11-24-01', rules: ['session-exit'], approval_ref: 'SEC-TEST-1' }],
    };
    const { root, rel } = await repository({
      forward: `CREATE INDEX parcels_kfm_idx ON public.parcels (parcel_no);\nDO $$ BEGIN ${body} END $$;\n`,
      rollback: 'DROP INDEX IF EXISTS public.parcels_kfm_idx;\n',
      policy,
    });
    const dir = path.join(root, 'migrations', rel);
    const run = await kfm(['apply', dir], db.env);
    expect(run.code, run.stderr.slice(-1500)).toBe(1);
    // Refused at the commit point by the scope checks, not by a statement that failed on its own.
    const failing = (run.json.checks ?? [])
      .filter((check: { status: string }) => check.status === 'fail')
      .map((check: { code?: string }) => check.code);
    expect(
      failing.some((code: string) => /^SCOPE_/.test(code)),
      JSON.stringify(failing),
    ).toBe(true);
    expect(JSON.stringify(run.json.issues ?? [])).not.toContain('STATEMENT_FAILED');
    expect(JSON.stringify(run.json.checks)).toMatch(/session-exit.*allowed by the policy/);
    expect(await catalogState(db.name)).toEqual(before);
  });
});
