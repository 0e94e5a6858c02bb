// FROZEN REFERENCE: src/capture.ts as of commit 7f94388 (before the incremental capture), kept verbatim but for
// import paths so test/capture-incremental.test.ts can prove today's capture is byte-identical. Do not edit.
// PostGIS baseline capture: a few catalog queries (one per object kind) in one consistent snapshot,
// turned into digested objects, counts, fingerprints, data measures and invariant checks.
import type { Baseline, BaselineOptions, Check, ProtectedDomains } from '@kfm/migration-contracts';
import { fingerprintOf } from '@kfm/receipts';
import type { ClientBase } from 'pg';
import { KfmError } from '@kfm/migration-contracts';
import { durationMs } from '@kfm/adapter-kit';
import {
  COLUMNS_QUERY,
  CONSTRAINTS_QUERY,
  combinedQuery,
  DATABASE_QUERY,
  DEFAULT_ACLS_QUERY,
  EVENT_TRIGGERS_QUERY,
  EXTENSIONS_QUERY,
  FUNCTIONS_QUERY,
  INDEXES_QUERY,
  PIN_SETTINGS_QUERY,
  POLICIES_QUERY,
  PUBLICATIONS_QUERY,
  RELATIONS_QUERY,
  RESTORE_SETTINGS_QUERY,
  ROLES_QUERY,
  RULES_QUERY,
  SCHEMAS_QUERY,
  TRIGGERS_QUERY,
  TYPES_QUERY,
} from './catalog-queries.js';
import { catalogObjects, type CatalogRows, type Row } from './catalog-objects.js';
import { contentDigests, exactRowCounts } from '../../src/data-measures.js';
import { LEDGER_SCHEMA } from '../../src/ledger.js';
import { isProtected, matchesAny } from '../../src/scope.js';
import { spatialIndexChecks } from '../../src/spatial-invariants.js';

export interface PostgisBaselineOptions extends BaselineOptions {
  /**
   * Digest the rows of every table the protected domains name under `tables` (computed in the
   * database). Defaults to true whenever protected tables are declared; protected schemas alone
   * never trigger a data scan.
   */
  protectedContent?: boolean;
}

const COUNT_KEYS: Record<string, string> = {
  schema: 'schemas',
  table: 'tables',
  column: 'columns',
  index: 'indexes',
  constraint: 'constraints',
  view: 'views',
  materialized_view: 'materialized_views',
  function: 'functions',
  trigger: 'triggers',
  sequence: 'sequences',
  type: 'types',
  extension: 'extensions',
  policy: 'policies',
  rule: 'rules',
  default_privileges: 'default_privileges',
  event_trigger: 'event_triggers',
  publication: 'publications',
  role: 'roles',
};

/** Reads of the catalog and of tables never queue forever behind another session's lock (this transaction only). */
export async function boundLockWaits(
  client: ClientBase,
  declaration?: { runner?: { lock_timeout?: string } },
): Promise<void> {
  await client.query(`SELECT set_config('lock_timeout', $1, true)`, [
    `${durationMs(declaration?.runner?.lock_timeout ?? '5s') ?? 5000}ms`,
  ]);
}

/** A lock timeout (55P03) of a read as the issue it is: nothing changed, someone else holds the lock. */
export function asLockTimeout(error: unknown, what: string): unknown {
  if ((error as { code?: unknown }).code !== '55P03') return error;
  return new KfmError({
    code: 'LOCK_NOT_AVAILABLE',
    message: `${what} could not read within lock_timeout: another session holds a conflicting lock (${(error as Error).message}); nothing was changed`,
  });
}

/**
 * Captures a baseline. An idle client gets its own REPEATABLE READ, READ ONLY transaction (one
 * snapshot for every query); a client inside a transaction is read in that transaction, so the
 * POST baseline sees the uncommitted change. Settings are pinned per transaction and restored.
 */
export async function capturePostgisBaseline(
  client: ClientBase,
  options: PostgisBaselineOptions = {},
): Promise<Baseline> {
  const status = client.getTransactionStatus();
  if (status === 'E') throw new Error('cannot capture a baseline in a failed transaction');
  const ownTransaction = status !== 'T';
  if (ownTransaction) {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    // Row counts and protected content read tables: never queue forever behind another session's lock.
    await boundLockWaits(client, options.declaration);
  }
  try {
    const pinned = (await client.query(PIN_SETTINGS_QUERY)).rows[0] as Row;
    const baseline = await captureInSnapshot(client, options, String(pinned.version));
    if (ownTransaction) await client.query('COMMIT');
    else {
      await client.query(RESTORE_SETTINGS_QUERY, [
        pinned.search_path,
        pinned.timezone,
        pinned.datestyle,
        pinned.intervalstyle,
        pinned.extra_float_digits,
        pinned.jit,
      ]);
    }
    return baseline;
  } catch (error) {
    if (ownTransaction) await client.query('ROLLBACK').catch(() => undefined);
    throw asLockTimeout(error, 'the baseline');
  }
}

async function captureInSnapshot(
  client: ClientBase,
  options: PostgisBaselineOptions,
  version: string,
): Promise<Baseline> {
  const read = async (sql: string, parameters: unknown[] = [LEDGER_SCHEMA]) =>
    (await client.query(sql, parameters)).rows as Row[];
  // Privileges, policies, rules, database- and cluster-level objects: one round trip for all of them.
  const readSecurity = async () => {
    const [row] = await read(
      combinedQuery({
        policies: POLICIES_QUERY,
        rules: RULES_QUERY,
        defaultAcls: DEFAULT_ACLS_QUERY,
        eventTriggers: EVENT_TRIGGERS_QUERY,
        publications: PUBLICATIONS_QUERY,
        database: DATABASE_QUERY,
        roles: ROLES_QUERY,
      }),
    );
    const part = (name: string) => (row?.[name] as Row[] | null) ?? [];
    return {
      policies: part('policies'),
      rules: part('rules'),
      defaultAcls: part('defaultAcls'),
      eventTriggers: part('eventTriggers'),
      publications: part('publications'),
      database: part('database'),
      roles: part('roles'),
    };
  };
  const rows: CatalogRows = {
    schemas: await read(SCHEMAS_QUERY),
    relations: await read(RELATIONS_QUERY),
    columns: await read(COLUMNS_QUERY),
    indexes: await read(INDEXES_QUERY),
    constraints: await read(CONSTRAINTS_QUERY),
    functions: await read(FUNCTIONS_QUERY),
    triggers: await read(TRIGGERS_QUERY),
    types: await read(TYPES_QUERY),
    extensions: await read(EXTENSIONS_QUERY, []),
    ...(await readSecurity()),
  };
  const facts = await catalogObjects(rows);
  options.progress?.(`baseline: ${facts.objects.length} objects in ${rows.schemas.length} schema(s)`);

  const counts: Record<string, number> = Object.fromEntries(Object.values(COUNT_KEYS).map((key) => [key, 0]));
  for (const object of facts.objects) {
    const key = COUNT_KEYS[object.kind];
    if (key) counts[key] = (counts[key] ?? 0) + 1;
  }

  const domains = options.protected ?? options.declaration?.protected;
  const protectedObjects = facts.objects.filter((object) => isProtected(domains, object.scope));
  const fingerprints = { schema: await fingerprintOf(facts.objects), protected: await fingerprintOf(protectedObjects) };

  const measures: Record<string, Record<string, number>> = { rows_estimate: {} };
  for (const relation of facts.relations) {
    // reltuples is -1 for a table never vacuumed or analyzed; report 0 rather than a negative count.
    measures.rows_estimate![relation.name] = Math.max(0, Math.round(relation.reltuples));
  }
  const scope = options.declaration?.scope;
  const scopePatterns = [...(scope?.allowed_tables ?? []), ...(scope?.forbidden_tables ?? [])];
  const scoped = facts.relations.filter((relation) => matchesAny(scopePatterns, relation.aliases));
  if (scoped.length > 0) measures.rows_exact = await exactRowCounts(client, scoped);

  const extensions = Object.fromEntries(rows.extensions.map((row) => [String(row.name), String(row.version)]));
  const baseline: Baseline = {
    kfm_baseline_version: 'v1',
    store: 'postgis',
    server: { product: 'PostgreSQL', version, extensions },
    ...(options.capturedAt ? { captured_at: options.capturedAt } : {}),
    counts,
    objects: facts.objects,
    measures,
    fingerprints,
  };

  if (domains && (domains.schemas?.length || domains.tables?.length)) {
    baseline.protected = {
      patterns: protectedPatterns(domains),
      objects: protectedObjects.map((object) => `${object.kind}:${object.name}`),
    };
    const contentTables = facts.relations.filter((relation) => matchesAny(domains.tables, relation.aliases));
    if (options.protectedContent !== false && contentTables.length > 0) {
      options.progress?.(`baseline: digesting rows of ${contentTables.length} protected table(s) in the database`);
      baseline.protected.content = await contentDigests(client, contentTables);
    }
  }

  const invariants: Check[] = spatialIndexChecks(options.declaration?.invariants?.spatial_index_required, facts);
  if (invariants.length > 0) baseline.invariants = invariants;
  return baseline;
}

function protectedPatterns(domains: ProtectedDomains): string[] {
  return [
    ...(domains.schemas ?? []).map((pattern) => `schemas:${pattern}`),
    ...(domains.tables ?? []).map((pattern) => `tables:${pattern}`),
  ];
}
