// PostGIS baseline capture: a few catalog queries (one per object kind) in one consistent snapshot,
// turned into digested objects, counts, fingerprints, data measures and invariant checks.
import type { Baseline, BaselineOptions, Check, ProtectedDomains } from '@kfm/migration-contracts';
import { fingerprintOf } from '@kfm/receipts';
import type { ClientBase } from 'pg';
import { KfmError } from '@kfm/migration-contracts';
import { durationMs } from '@kfm/adapter-kit';
import {
  columnsQuery,
  constraintsQuery,
  combinedQuery,
  DATABASE_QUERY,
  DEFAULT_ACLS_QUERY,
  EVENT_TRIGGERS_QUERY,
  EXTENSIONS_QUERY,
  FUNCTIONS_QUERY,
  indexesQuery,
  type Only,
  onlyChanged,
  PIN_SETTINGS_QUERY,
  POLICIES_QUERY,
  PUBLICATIONS_QUERY,
  relationsQuery,
  RESTORE_SETTINGS_QUERY,
  ROLES_QUERY,
  RULES_QUERY,
  SCHEMAS_QUERY,
  SIGNATURES_QUERY,
  triggersQuery,
  TYPES_QUERY,
} from './catalog-queries.js';
import {
  CATALOG_SECTIONS,
  catalogBuilder,
  type CatalogRows,
  type RelationGroup,
  type Reuse,
  type Row,
} from './catalog-objects.js';
import { contentDigests, exactRowCounts } from './data-measures.js';
import { LEDGER_SCHEMA } from './ledger.js';
import { isProtected, matchesAny } from './scope.js';
import { spatialIndexChecks } from './spatial-invariants.js';

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

/** The sections the combined security query returns: the builder's last ones, in its order. */
const SECURITY_SECTIONS = CATALOG_SECTIONS.slice(CATALOG_SECTIONS.indexOf('policies'));

/** Rows per FETCH: a batch is digested and dropped before the next one is read. */
const BATCH_ROWS = 5000;

interface CursorRead {
  sql: string;
  parameters: unknown[];
  each: (rows: Row[]) => void;
}

/**
 * Reads queries through cursors of the current transaction, in order and in batches, handing each batch
 * on, so no query's whole result is held at once. All are declared first (their snapshots taken together
 * under READ COMMITTED). The next FETCH is sent before a batch is handed on; the socket's buffer lets the
 * server run only a little ahead, so this saves little, but it costs nothing. On an error in JavaScript
 * the cursors are closed (the transaction goes on: an apply captures POST inside its own); a server error
 * has failed the transaction, and its end takes the cursors with it.
 */
async function readThroughCursors(client: ClientBase, reads: readonly CursorRead[]): Promise<void> {
  const names = reads.map((_, at) => `kfm_baseline_${at}`);
  for (const [at, read] of reads.entries())
    await client.query(`DECLARE ${names[at]} NO SCROLL CURSOR FOR ${read.sql}`, read.parameters);
  const fetch = (at: number) => client.query(`FETCH FORWARD ${BATCH_ROWS} FROM ${names[at]}`);
  // One round trip for all (a simple-protocol query may hold several statements; the names are ours).
  const close = () => client.query(names.map((name) => `CLOSE ${name};`).join(' '));
  let at = 0;
  let next = fetch(0);
  while (at < reads.length) {
    const { rows } = await next;
    const following = rows.length === BATCH_ROWS ? at : at + 1;
    if (following < reads.length) next = fetch(following);
    try {
      (reads[at] as CursorRead).each(rows as Row[]);
    } catch (error) {
      if (following < reads.length) await next.catch(() => undefined);
      await close().catch(() => undefined);
      throw error;
    }
    at = following;
  }
  await close();
}

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
 * What one session remembers between its captures so the next one reads only what changed: per relation
 * the change detector's signature (SIGNATURES_QUERY) and the relation's objects and facts, plus the
 * detector's global part. Never part of a baseline. Each capture replaces it with what it read; a pairing
 * that went stale (another session's commit between the detector and the rows) only causes a refetch, since
 * every later write gives the rows a new version.
 */
export interface CaptureCache {
  global?: string;
  relations: Map<string, { signature: string; group: RelationGroup }>;
  /** How the last capture went (for metrics and tests): relations refetched of all, or a full capture. */
  last?: { mode: 'full' | 'incremental'; refetched: number; relations: number };
}

export function createCaptureCache(): CaptureCache {
  return { relations: new Map() };
}

interface Signatures {
  relids: string[];
  signatures: string[];
  reltuples: number[];
  global: string;
}

/** Cached objects are shared by later baselines: freeze them, so no reader can change what a later capture reuses. */
function freezeGroup(group: RelationGroup): void {
  for (const object of group.objects) {
    for (const names of Object.values(object.scope)) Object.freeze(names);
    Object.freeze(object.scope);
    if (object.attributes) Object.freeze(object.attributes);
    Object.freeze(object);
  }
  Object.freeze(group.objects);
  if (group.relation) Object.freeze(group.relation.aliases);
  if (group.spatialColumns) Object.freeze(group.spatialColumns);
  if (group.spatialIndexKeys) for (const keys of group.spatialIndexKeys) Object.freeze(keys);
  if (group.spatialIndexKeys) Object.freeze(group.spatialIndexKeys);
  Object.freeze(group);
}

/**
 * Captures a baseline. An idle client gets its own REPEATABLE READ, READ ONLY transaction (one
 * snapshot for every query); a client inside a transaction is read in that transaction, so the
 * POST baseline sees the uncommitted change. Settings are pinned per transaction and restored.
 */
export async function capturePostgisBaseline(
  client: ClientBase,
  options: PostgisBaselineOptions = {},
  /**
   * The session's cache of its previous capture (createCaptureCache): with it, only the relations whose
   * change detector moved since then are read and normalized again; the baseline is the same as without.
   */
  cache?: CaptureCache,
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
    const baseline = await captureInSnapshot(client, options, String(pinned.version), cache);
    if (ownTransaction) await client.query('COMMIT');
    else {
      await client.query(RESTORE_SETTINGS_QUERY, [
        pinned.search_path,
        pinned.timezone,
        pinned.datestyle,
        pinned.intervalstyle,
        pinned.extra_float_digits,
        pinned.jit,
        pinned.cursor_tuple_fraction,
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
  cache?: CaptureCache,
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
  /**
   * Every catalog section into a builder, in its order. The sections that grow with the database are read
   * through cursors in batches, each batch digested and dropped before the next; the others are a few rows.
   */
  const readFacts = async (reuse?: Reuse, changed?: string[]) => {
    const builder = catalogBuilder(reuse);
    const only: Only | undefined = reuse ? onlyChanged : undefined;
    const parameters = reuse ? [LEDGER_SCHEMA, changed] : [LEDGER_SCHEMA];
    const section = (name: keyof CatalogRows, sql: string, values = parameters): CursorRead => ({
      sql,
      parameters: values,
      each: (rows) => builder.add(name, rows),
    });
    builder.add('schemas', await read(SCHEMAS_QUERY));
    await readThroughCursors(client, [
      section('columns', columnsQuery(only)),
      section('relations', relationsQuery(only)),
      section('indexes', indexesQuery(only)),
      section('constraints', constraintsQuery(only)),
      section('functions', FUNCTIONS_QUERY, [LEDGER_SCHEMA]),
      section('triggers', triggersQuery(only)),
    ]);
    builder.add('types', await read(TYPES_QUERY));
    const extensions = await read(EXTENSIONS_QUERY, []);
    builder.add('extensions', extensions);
    const security = await readSecurity();
    for (const name of SECURITY_SECTIONS) builder.add(name, security[name as keyof typeof security] ?? []);
    return { builder, extensions };
  };

  // The change detector first (same snapshot as the rows in a capture of its own), then only what moved.
  const detector = cache ? ((await read(SIGNATURES_QUERY))[0] as unknown as Signatures) : undefined;
  let catalog: Awaited<ReturnType<typeof readFacts>>;
  if (cache && detector && cache.global === detector.global) {
    const changed: string[] = [];
    const groups = new Map<string, RelationGroup>();
    const order = detector.relids.map((relid, at) => {
      const known = cache.relations.get(relid);
      if (known && known.signature === detector.signatures[at]) groups.set(relid, known.group);
      else changed.push(relid);
      return { relid, reltuples: Number(detector.reltuples[at]) };
    });
    catalog = await readFacts({ order, groups }, changed);
    // A relation another session created between the detector and the rows (READ COMMITTED): read everything.
    const ordered = new Set(detector.relids);
    const incremental = catalog.builder.relids.every((relid) => ordered.has(relid));
    if (!incremental) catalog = await readFacts();
    cache.last = { mode: incremental ? 'incremental' : 'full', refetched: changed.length, relations: order.length };
  } else {
    catalog = await readFacts();
    if (cache)
      cache.last = { mode: 'full', refetched: detector?.relids.length ?? 0, relations: detector?.relids.length ?? 0 };
  }
  const facts = catalog.builder.finish();
  if (cache && detector) {
    const relations: CaptureCache['relations'] = new Map();
    detector.relids.forEach((relid, at) => {
      const group = facts.groups.get(relid) ?? { objects: [] };
      if (!Object.isFrozen(group)) freezeGroup(group);
      relations.set(relid, { signature: String(detector.signatures[at]), group });
    });
    cache.relations = relations;
    cache.global = detector.global;
  }
  const counts: Record<string, number> = Object.fromEntries(Object.values(COUNT_KEYS).map((key) => [key, 0]));
  for (const object of facts.objects) {
    const key = COUNT_KEYS[object.kind];
    if (key) counts[key] = (counts[key] ?? 0) + 1;
  }
  options.progress?.(`baseline: ${facts.objects.length} objects in ${counts.schemas} schema(s)`);

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

  const extensions = Object.fromEntries(catalog.extensions.map((row) => [String(row.name), String(row.version)]));
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
