// One lifecycle suite for every store, through the CLI as an operator runs it, against the real servers:
// apply → verify → re-apply refused → rollback → PRE; a limit exceeded fails closed; a concurrent apply is
// refused while the first finishes; `kill -9` mid-apply, then recovery within the lease TTL + 5 s with no
// manual step (a run without a commit point is recovered by `rollback`, which the ledger demands). Every
// assertion reads the store with its own query language — pg_catalog, the REST API, Cypher — never only
// our fingerprint. Migration ids are random: search and graph ledgers outlive the test.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import neo4j, { type Driver } from 'neo4j-driver';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seedSearch } from '../../../fixtures/seed/search/seed.mjs';
import { clearGraph, seedGraph } from '../../../fixtures/seed/graph/seed.mjs';
import { bundle, dropDatabase, dsnFor, kfm, query, seededDatabase, type CliRun } from './postgis-harness.js';
import { copyExample, randomId, renameGraphSeed, searchRest, startUntil } from './stores-harness.js';

const TTL = '3s';
/** TTL + 5 s: the bound on recovery the operator is promised. */
const RECOVERY = '8s';

type Kind = 'good' | 'violation' | 'slow';

interface StoreCase {
  name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  env(): Record<string, string>;
  bundle(kind: Kind): Promise<string>;
  /** The store as its own tools see it: what the migration would change and what must never change. */
  state(): Promise<unknown>;
  applied(): Promise<boolean>;
  /** Leftovers of a dead run the recovery must remove (shadow indices, server tasks). */
  orphans(): Promise<string[]>;
  /** A progress line printed while the slow statement runs. */
  marker: RegExp;
  /** Without a commit point the ledger keeps a `started` mark: recovery is `rollback`, then `apply`. */
  recoverByRollback: boolean;
}

function postgisCase(): StoreCase {
  let database = '';
  const id = randomId('PG');
  const index = 'lifecycle_parcel_no_idx';
  return {
    name: 'postgis',
    marker: /forward\.sql:2/,
    recoverByRollback: false,
    async setup() {
      database = await seededDatabase();
    },
    teardown: () => dropDatabase(database),
    env: () => ({ KFM_PG_DSN: dsnFor(database) }),
    bundle: (kind) => {
      const create = (name: string) => `CREATE INDEX ${name} ON public.parcels (parcel_no);`;
      const forward =
        kind === 'violation'
          ? [create(index), create('lifecycle_b_idx'), create('lifecycle_c_idx')]
          : kind === 'slow'
            ? [create(index), 'SELECT pg_sleep(6);']
            : [create(index)];
      return bundle({ id, forward: forward.join('\n') + '\n', rollback: `DROP INDEX IF EXISTS public.${index};\n` });
    },
    state: async () => ({
      indexes: (await query(database, "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1")).map(
        (row) => row.indexname,
      ),
      parcels: (
        await query(database, 'SELECT count(*)::int AS n, sum(hashtext(parcels::text)) AS h FROM public.parcels')
      )[0],
    }),
    applied: async () => (await query(database, `SELECT 1 FROM pg_indexes WHERE indexname = '${index}'`)).length === 1,
    orphans: async () =>
      (
        await query(
          database,
          `SELECT indexname FROM pg_indexes WHERE indexname LIKE 'lifecycle_%' AND indexname <> '${index}'`,
        )
      ).map((row) => String(row.indexname)),
  };
}

function searchCase(): StoreCase {
  const url = process.env.KFM_ES_URL ?? 'http://127.0.0.1:9200';
  const prefix = `kfmlc-${randomBytes(3).toString('hex')}-`;
  let id = '';
  const rest = (method: string, pathname: string, body?: unknown) => searchRest(url, method, pathname, body);
  const indices = async () =>
    (
      ((await rest('GET', `/_cat/indices/${prefix}*?format=json&h=index,docs.count&expand_wildcards=all`)) as {
        index: string;
        'docs.count': string;
      }[]) ?? []
    )
      .map((row) => `${row.index}:${row['docs.count']}`)
      .sort();
  const aliases = async () => {
    const answer = ((await rest('GET', `/${prefix}*/_alias`)) ?? {}) as Record<
      string,
      { aliases: Record<string, unknown> }
    >;
    return Object.entries(answer)
      .flatMap(([index, entry]) => Object.keys(entry.aliases).map((alias) => `${alias}->${index}`))
      .sort();
  };
  return {
    name: 'search',
    marker: /\/operations\/1 reindex/,
    recoverByRollback: false,
    async setup() {
      id = randomId('SEARCH');
      await seedSearch({ url, prefix, docs: 10_000 });
    },
    async teardown() {
      const names = (
        ((await rest('GET', `/_cat/indices/${prefix}*?format=json&h=index&expand_wildcards=all`)) as {
          index: string;
        }[]) ?? []
      ).map((row) => row.index);
      if (names.length) await rest('DELETE', `/${names.join(',')}`);
    },
    env: () => ({ KFM_ES_URL: url }),
    bundle: (kind) =>
      copyExample('search/SEARCH-MIG-2026-03-05-01', (name, text) => {
        let out = text
          .replace(/"(parcels|authority-sites)/g, `"${prefix}$1`)
          .replace(/^(\s+- )(parcels_v1|parcels_v2|parcels|authority-sites)$/gm, `$1${prefix}$2`)
          .replace(/SEARCH-MIG-2026-03-05-01/g, id);
        if (kind === 'violation' && name === 'migration.yml')
          out = out.replace('max_docs_reindexed: 10000', 'max_docs_reindexed: 10');
        // Small batches: the reindex takes long enough to be killed in the middle.
        if (kind === 'slow' && name === 'forward.json')
          out = out.replace(
            `"source": { "index": "${prefix}parcels_v1" }`,
            `"source": { "index": "${prefix}parcels_v1", "size": 20 }`,
          );
        return out;
      }),
    state: async () => ({ indices: await indices(), aliases: await aliases() }),
    applied: async () => (await aliases()).includes(`${prefix}parcels->${prefix}parcels_v2`),
    async orphans() {
      const tasks = ((await rest('GET', '/_tasks?actions=*reindex&detailed=true')) ?? { nodes: {} }) as {
        nodes: Record<string, { tasks: Record<string, { description?: string }> }>;
      };
      const running = Object.values(tasks.nodes)
        .flatMap((node) => Object.values(node.tasks))
        .filter((task) => task.description?.includes(prefix))
        .map((task) => `task ${task.description}`);
      // Every index of the prefix must be the seed's or one an alias points to: anything else is a shadow left behind.
      const aliased = (await aliases()).map((entry) => entry.split('->')[1]);
      const seeded = [`${prefix}parcels_v1`, `${prefix}authority-sites`];
      const shadows = (await indices())
        .map((entry) => entry.split(':')[0]!)
        .filter((index) => !seeded.includes(index) && !aliased.includes(index));
      return [...running, ...shadows];
    },
  };
}

function graphCase(): StoreCase {
  const prefix = `L${randomBytes(3).toString('hex')}_`;
  let id = '';
  const uri = process.env.KFM_NEO4J_URI ?? 'bolt://127.0.0.1:7687';
  const user = process.env.KFM_NEO4J_USER ?? 'neo4j';
  const password = process.env.KFM_NEO4J_PASSWORD ?? 'kfm-local-dev';
  const rename = (text: string) => renameGraphSeed(text, prefix);
  let driver: Driver;
  const read = async (cypher: string) =>
    (await driver.executeQuery(cypher, {}, { routing: 'READ' })).records.map((record) => record.toObject());
  return {
    name: 'graph',
    marker: /forward\.cypher:9 data/,
    recoverByRollback: true,
    async setup() {
      id = randomId('GRAPH');
      driver = neo4j.driver(uri, neo4j.auth.basic(user, password), {
        logging: { level: 'error', logger: () => undefined },
      });
      await seedGraph(driver, { prefix });
    },
    async teardown() {
      await clearGraph(driver, prefix);
      await driver.executeQuery(`DROP CONSTRAINT ${prefix}parcel_parcel_id_unique IF EXISTS`);
      await driver.close();
    },
    env: () => ({ KFM_NEO4J_URI: uri, KFM_NEO4J_USER: user, KFM_NEO4J_PASSWORD: password }),
    bundle: (kind) =>
      copyExample('graph/GRAPH-MIG-2026-03-06-01', (name, text) => {
        let out = rename(text).replace(/GRAPH-MIG-2026-03-06-01/g, id);
        if (kind === 'violation' && name === 'migration.yml')
          out = out.replace('max_relationship_type_count_delta: 2', 'max_relationship_type_count_delta: 1');
        // A read that keeps the data transaction open long enough to be killed in the middle.
        if (kind === 'slow' && name === 'forward.cypher')
          out = out.replace(
            `MATCH (p:${prefix}Parcel)-[owns`,
            `UNWIND range(1, 150000000) AS x WITH sum(x) AS total RETURN total;\n\nMATCH (p:${prefix}Parcel)-[owns`,
          );
        return out;
      }),
    state: async () => ({
      constraints: (await read('SHOW CONSTRAINTS YIELD name RETURN name ORDER BY name'))
        .map((row) => String(row.name))
        .filter((name) => name.startsWith(prefix)),
      relationships: await read(
        `MATCH ()-[r]->() WHERE type(r) STARTS WITH '${prefix}' RETURN type(r) AS type, count(*) AS n ORDER BY type`,
      ).then((rows) => rows.map((row) => `${String(row.type)}:${String(row.n)}`)),
    }),
    applied: async () =>
      (await read(`MATCH ()-[r:${prefix}HAS_OWNER]->() RETURN count(r) AS n`))[0]?.n?.toString() !== '0',
    orphans: async () => [],
  };
}

/** A TCP relay in front of a store, so a test can drop every connection mid-run. */
async function relay(target: URL): Promise<{ port: number; drop(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(Number(target.port), target.hostname);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => sockets.delete(socket));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    drop() {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** The store's connection variables with its address replaced by the relay's. */
function throughRelay(env: Record<string, string>, port: number): { env: Record<string, string>; target: URL } {
  const key = Object.keys(env).find((name) => /_(DSN|URL|URI)$/.test(name))!;
  const url = new URL(env[key]!);
  const target = new URL(url.toString());
  if (!target.port)
    target.port = target.protocol.startsWith('postgres') ? '5432' : target.protocol === 'bolt:' ? '7687' : '9200';
  url.port = String(port);
  return { env: { ...env, [key]: url.toString() }, target };
}

const failedCodes = (run: CliRun) => [
  ...(run.json.issues ?? []).map((issue: { code: string }) => issue.code),
  ...(run.json.checks ?? [])
    .filter((check: { status: string }) => check.status === 'fail')
    .map((check: { code?: string; name: string }) => check.code ?? check.name),
];

// The `store-opensearch` project runs this file again against OpenSearch: there only the search case runs.
const cases =
  process.env.KFM_SEARCH_ENGINE === 'opensearch'
    ? [{ name: 'search (OpenSearch)', make: searchCase }]
    : [
        { name: 'postgis', make: postgisCase },
        { name: 'search', make: searchCase },
        { name: 'graph', make: graphCase },
      ];

describe.each(cases)('lifecycle on $name', ({ make }) => {
  const store = make();
  beforeEach(() => store.setup());
  afterEach(() => store.teardown());

  it(`${store.name}: apply → verify → re-apply refused → rollback restores PRE`, async () => {
    const dir = await store.bundle('good');
    const before = await store.state();
    const applied = await kfm(['apply', dir], store.env());
    expect(applied.code, applied.stderr.slice(-3000)).toBe(0);
    expect(await store.applied()).toBe(true);
    expect(await store.state()).not.toEqual(before);
    expect((await kfm(['verify', dir], store.env())).code).toBe(0);
    const again = await kfm(['apply', dir], store.env());
    expect(again.code).toBe(1);
    expect(await store.applied()).toBe(true);
    const rolledBack = await kfm(['rollback', dir], store.env());
    expect(rolledBack.code, rolledBack.stderr.slice(-3000)).toBe(0);
    expect(await store.state()).toEqual(before);
    expect((await kfm(['verify', dir], store.env())).code).toBe(0);
  });

  it(`${store.name}: a limit exceeded fails closed with the store unchanged`, async () => {
    const dir = await store.bundle('violation');
    const before = await store.state();
    const run = await kfm(['apply', dir], store.env());
    expect(run.code, run.stderr.slice(-3000)).toBe(1);
    expect(failedCodes(run).join(' ')).toMatch(/LIMIT|limit/);
    expect(await store.state()).toEqual(before);
    expect(await store.orphans()).toEqual([]);
  });

  it(`${store.name}: a concurrent apply is refused, naming the holder, while the first one finishes`, async () => {
    const dir = await store.bundle('slow');
    const first = startUntil(['apply', dir, '--lock-ttl', TTL], store.env(), store.marker);
    await first.reached;
    const second = await kfm(['apply', dir], store.env());
    expect(second.code).toBe(1);
    expect(failedCodes(second)).toContain('LOCK_HELD');
    const done = await first.done;
    expect(done.code, done.stderr.slice(-3000)).toBe(0);
    expect(await store.applied()).toBe(true);
  });

  it(`${store.name}: kill -9 mid-apply, then a new run recovers within TTL + 5 s with no orphan left`, async () => {
    const dir = await store.bundle('slow');
    const before = await store.state();
    const victim = startUntil(['apply', dir, '--lock-ttl', TTL], store.env(), store.marker);
    await victim.reached;
    victim.kill('SIGKILL');
    await victim.done;
    if (store.recoverByRollback) {
      const refused = await kfm(['apply', dir, '--lock-wait', RECOVERY], store.env());
      expect(failedCodes(refused)).toContain('INCOMPLETE_RUN');
      const recovered = await kfm(['rollback', dir, '--lock-wait', RECOVERY], store.env());
      expect(recovered.code, recovered.stderr.slice(-3000)).toBe(0);
      expect(await store.state()).toEqual(before);
    }
    const next = await kfm(['apply', dir, '--lock-wait', RECOVERY, '--lock-ttl', TTL], store.env());
    expect(next.code, next.stderr.slice(-3000)).toBe(0);
    expect(await store.applied()).toBe(true);
    expect(await store.orphans()).toEqual([]);
  });

  it(`${store.name}: a dropped connection mid-apply exits 3 and the next run recovers`, async () => {
    const dir = await store.bundle('slow');
    const before = await store.state();
    const direct = store.env();
    const { target } = throughRelay(direct, 1);
    const proxy = await relay(target);
    const victim = startUntil(['apply', dir, '--lock-ttl', TTL], throughRelay(direct, proxy.port).env, store.marker);
    await victim.reached;
    proxy.drop();
    const dropped = await victim.done;
    expect(dropped.code, dropped.stderr.slice(-3000)).toBe(3);
    expect(dropped.stdout + dropped.stderr).not.toContain(String(proxy.port) + '/');
    if (store.recoverByRollback) {
      const recovered = await kfm(['rollback', dir, '--lock-wait', RECOVERY], direct);
      expect(recovered.code, recovered.stderr.slice(-3000)).toBe(0);
      expect(await store.state()).toEqual(before);
    }
    const next = await kfm(['apply', dir, '--lock-wait', RECOVERY, '--lock-ttl', TTL], direct);
    expect(next.code, next.stderr.slice(-3000)).toBe(0);
    expect(await store.orphans()).toEqual([]);
  });
});
