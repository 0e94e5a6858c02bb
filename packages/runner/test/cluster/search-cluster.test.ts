// The search adapter on a real three-node cluster (tools/stores/up.sh --search-nodes 3), through the CLI as an
// operator runs it, with every URL of the cluster in KFM_ES_URL. What breaks migrations on a cluster is tried
// for real: replicas that must be allocated before the alias flip, a baseline asked of different nodes, and a
// node killed with SIGKILL in the middle of a reindex or while it holds the runner index's primary. Every
// assertion reads the cluster with its own REST API (never our fingerprint), through a node that is alive.
// Run with `npm run test:cluster` (vitest.cluster.config.ts); `.ci/run` runs it after the main suite.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { captureSearchBaseline, createSearchClient } from '@kfm/baseline-search';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedSearch } from '../../../../fixtures/seed/search/seed.mjs';
import { kfm, repo, until } from '../postgis-harness.js';
import { copyExample, randomId, searchRest, startUntil } from '../stores-harness.js';

const NODES = 3;
const urls = (
  process.env.KFM_SEARCH_CLUSTER_URLS ??
  Array.from({ length: NODES }, (_, i) => `http://127.0.0.1:${9211 + i}`).join(',')
).split(',');
const allNodes = urls.join(',');
const TTL = '3s';

/** Brings the cluster up (or back: a killed node is restarted) and waits for green with every node. */
function clusterUp(): void {
  execFileSync('bash', [path.join(repo, 'tools/stores/up.sh'), 'search-cluster', '--search-nodes', String(NODES)], {
    stdio: 'pipe',
    timeout: 300_000,
  });
}

/** A REST call answered by the first node that answers (some may be down on purpose). */
async function rest(method: string, pathname: string, body?: unknown): Promise<any> {
  let last: unknown;
  for (const url of urls) {
    try {
      return await searchRest(url, method, pathname, body);
    } catch (error) {
      last = error;
    }
  }
  throw last;
}

interface NodeInfo {
  id: string;
  name: string;
  pid: number;
  url: string;
}

async function nodes(): Promise<NodeInfo[]> {
  const answer = await rest('GET', '/_nodes/process,http');
  return Object.entries(answer.nodes as Record<string, any>).map(([id, node]) => ({
    id,
    name: node.name,
    pid: node.process.id,
    url: `http://${node.http.publish_address}`,
  }));
}

/** SIGKILL: the node gets no chance to hand anything over. */
function killNode(node: NodeInfo): void {
  process.kill(node.pid, 'SIGKILL');
}

async function health(): Promise<{ status: string; number_of_nodes: number }> {
  return rest('GET', '/_cluster/health');
}

/** The cluster as its own APIs show it, for one test prefix: indices with doc counts and alias targets. */
async function state(prefix: string) {
  await rest('POST', `/${prefix}*/_refresh`);
  const indices = ((await rest(
    'GET',
    `/_cat/indices/${prefix}*?format=json&h=index,docs.count&expand_wildcards=all`,
  )) ?? []) as { index: string; 'docs.count': string }[];
  const aliases = (await rest('GET', `/${prefix}*/_alias`)) ?? {};
  return {
    indices: indices.map((row) => `${row.index}:${row['docs.count']}`).sort(),
    aliases: Object.entries(aliases as Record<string, { aliases: Record<string, unknown> }>)
      .flatMap(([index, entry]) => Object.keys(entry.aliases).map((alias) => `${alias}->${index}`))
      .sort(),
  };
}

/** The runner lock document, read in real time from the primary: undefined when no run holds the store. */
async function lockDocument(): Promise<unknown> {
  const answer = await rest('GET', '/.kfm-migrations/_doc/lock?realtime=true');
  return answer?.found ? answer._source : undefined;
}

/** The example bundle in a namespace, with replicas on every index it builds and a short health wait. */
async function clusterBundle(prefix: string, id: string, options: { slow?: boolean } = {}): Promise<string> {
  return copyExample('search/SEARCH-MIG-2026-03-05-01', (name, text) => {
    let out = text
      .replace(/"(parcels|authority-sites)/g, `"${prefix}$1`)
      .replace(/^(\s+- )(parcels_v1|parcels_v2|parcels|authority-sites)$/gm, `$1${prefix}$2`)
      .replace(/SEARCH-MIG-2026-03-05-01/g, id);
    if (name === 'forward.json') {
      const plan = JSON.parse(out);
      const create = plan.operations[0];
      create.body.settings.number_of_shards = 2;
      create.body.settings.number_of_replicas = 1;
      create.wait_timeout = '5s';
      // Small batches: the reindex runs long enough to lose a node in the middle of it.
      if (options.slow) plan.operations[1].body.source.size = 20;
      out = JSON.stringify(plan, null, 2);
    }
    return out;
  });
}

async function seeded(prefix: string): Promise<void> {
  await seedSearch({ url: urls[0]!, prefix, docs: 10_000, replicas: 1 });
  await rest('GET', `/_cluster/health/${prefix}*?wait_for_status=green&timeout=60s`);
}

const env = () => ({ KFM_ES_URL: allNodes });

/** One line per node-loss run in the test output: what the operator would have seen. */
function report(what: string, victim: NodeInfo, result: { code: number | null; json: any }, killedAt: number) {
  const outcome = result.json?.outcome ?? {};
  console.log(
    `${what}: ${victim.name} (pid ${victim.pid}); kfm-migrate exit ${result.code} ${Math.round((Date.now() - killedAt) / 1000)} s later, ` +
      `${outcome.status ?? '?'}${outcome.message ? `: ${String(outcome.message).slice(0, 300)}` : ''}`,
  );
}

describe('search on a three-node cluster', () => {
  const prefixes: string[] = [];
  const namespace = () => {
    const prefix = `kfmcl-${randomBytes(3).toString('hex')}-`;
    prefixes.push(prefix);
    return prefix;
  };

  beforeAll(() => {
    clusterUp();
  });
  afterAll(async () => {
    clusterUp();
    for (const prefix of prefixes) {
      const rows = ((await rest('GET', `/_cat/indices/${prefix}*?format=json&h=index&expand_wildcards=all`)) ?? []) as {
        index: string;
      }[];
      if (rows.length) await rest('DELETE', `/${rows.map((row) => row.index).join(',')}`);
    }
  });

  it('forms one green cluster of three nodes, and stores:status shows them', async () => {
    const cluster = await health();
    expect(cluster).toMatchObject({ status: 'green', number_of_nodes: NODES });
    expect(new Set((await nodes()).map((node) => node.name))).toEqual(new Set(['node-1', 'node-2', 'node-3']));
    const status = execFileSync('bash', [path.join(repo, 'tools/stores/status.sh')], { encoding: 'utf8' });
    for (let i = 1; i <= NODES; i++)
      expect(status).toMatch(new RegExp(`cluster node-${i} .* up .*health green, 3 node\\(s\\)`));
  });

  it('gives the same baseline whichever node answers', async () => {
    const prefix = namespace();
    await seeded(prefix);
    const baselines = [];
    for (const url of urls) {
      const client = createSearchClient(url);
      try {
        baselines.push(await captureSearchBaseline(client, { indexPattern: `${prefix}*` }));
      } finally {
        await client.close();
      }
    }
    expect(baselines[0]!.objects.length).toBeGreaterThan(0);
    for (const baseline of baselines.slice(1)) expect(baseline).toEqual(baselines[0]);
  });

  it('applies with replicas: the shadow is green on two nodes before the flip, and rollback restores PRE', async () => {
    const prefix = namespace();
    await seeded(prefix);
    const dir = await clusterBundle(prefix, randomId('SEARCH'));
    const before = await state(prefix);
    const applied = await kfm(['apply', dir], env());
    expect(applied.code, applied.stderr.slice(-3000)).toBe(0);
    expect(applied.stderr).toMatch(new RegExp(`health: waiting for ${prefix}parcels_v2 to be green`));
    const shards = (await rest('GET', `/_cat/shards/${prefix}parcels_v2?format=json&h=prirep,state,node`)) as {
      prirep: string;
      state: string;
      node: string;
    }[];
    expect(shards.filter((shard) => shard.state === 'STARTED')).toHaveLength(4);
    expect((await state(prefix)).aliases).toEqual([`${prefix}parcels->${prefix}parcels_v2`]);
    expect(await lockDocument()).toBeUndefined();
    const rolledBack = await kfm(['rollback', dir], env());
    expect(rolledBack.code, rolledBack.stderr.slice(-3000)).toBe(0);
    expect(await state(prefix)).toEqual(before);
  });

  it('fails closed when the node running the reindex is killed; green again after it returns, and a re-run succeeds', async () => {
    const prefix = namespace();
    await seeded(prefix);
    const dir = await clusterBundle(prefix, randomId('SEARCH'), { slow: true });
    const before = await state(prefix);
    const run = startUntil(['apply', dir, '--lock-ttl', TTL], env(), /\/operations\/1 reindex/);
    await run.reached;
    let victim: NodeInfo | undefined;
    await until(async () => {
      const tasks = await rest('GET', '/_tasks?actions=*reindex');
      const id = Object.keys(tasks.nodes ?? {})[0];
      victim = id ? (await nodes()).find((node) => node.id === id) : undefined;
      return victim !== undefined;
    }, 'the reindex task to show up');
    killNode(victim!);
    const killedAt = Date.now();
    const result = await run.done;
    report('reindex node killed', victim!, result, killedAt);
    expect([1, 3], result.stderr.slice(-3000)).toContain(result.code);
    // fail closed, read from the surviving nodes: alias unchanged, the shadow removed, the lock released
    expect(await state(prefix)).toEqual(before);
    expect(await lockDocument()).toBeUndefined();
    const receipt = JSON.parse(await fs.readFile(path.join(dir, 'receipts/run_receipt.json'), 'utf8'));
    expect(['failed', 'aborted']).toContain(receipt.outcome.status);

    clusterUp();
    expect(await health()).toMatchObject({ status: 'green', number_of_nodes: NODES });
    const again = await kfm(['apply', dir], env());
    expect(again.code, again.stderr.slice(-3000)).toBe(0);
    expect((await state(prefix)).aliases).toEqual([`${prefix}parcels->${prefix}parcels_v2`]);
  });

  it("survives losing the node that holds the runner index's primary during apply: committed or at PRE, never between", async () => {
    const prefix = namespace();
    await seeded(prefix);
    // the runner index exists after the earlier runs; find its primary's node
    const shards = (await rest('GET', '/_cat/shards/.kfm-migrations?format=json&h=prirep,node')) as {
      prirep: string;
      node: string;
    }[];
    const primaryNode = shards.find((shard) => shard.prirep === 'p')!.node;
    const victim = (await nodes()).find((node) => node.name === primaryNode)!;
    const dir = await clusterBundle(prefix, randomId('SEARCH'), { slow: true });
    const before = await state(prefix);
    const run = startUntil(['apply', dir, '--lock-ttl', TTL], env(), /\/operations\/1 reindex/);
    await run.reached;
    killNode(victim);
    const killedAt = Date.now();
    const result = await run.done;
    report('runner-index primary killed', victim, result, killedAt);
    expect([0, 1, 3], result.stderr.slice(-3000)).toContain(result.code);
    const after = await state(prefix);
    if (result.code === 0) {
      expect(after.aliases).toEqual([`${prefix}parcels->${prefix}parcels_v2`]);
    } else {
      expect(after).toEqual(before);
    }
    // the lock does not outlive the run (at most its TTL, when the release itself was lost)
    await until(async () => (await lockDocument()) === undefined, 'the lock to be released', 40);

    clusterUp();
    expect(await health()).toMatchObject({ status: 'green', number_of_nodes: NODES });
    if (result.code !== 0) {
      const again = await kfm(['apply', dir], env());
      expect(again.code, again.stderr.slice(-3000)).toBe(0);
    }
    const verified = await kfm(['verify', dir], env());
    expect(verified.code, verified.stderr.slice(-3000)).toBe(0);
    expect((await state(prefix)).aliases).toEqual([`${prefix}parcels->${prefix}parcels_v2`]);
  });
});
