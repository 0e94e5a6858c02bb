// Elasticsearch baseline vs the raw catalog fetch (_cat/indices, _mapping, _settings, _alias) a user
// would script instead. The bench's indices grow through the sizes under one random prefix (1 shard,
// 0 replicas, a small mapping, every fifth index aliased, a few documents each) and are deleted after.
import { randomBytes } from 'node:crypto';
import { compareAlternating, runNodeChild, sideStats } from '../lib/measure.mjs';

// 2,000 indices: the scale point issue 16 asks for once per run (past the default 1,000 shards per node;
// the local test store's 512 MB heap may not hold them, and the row then says where it stopped).
export const SEARCH_SIZES = { full: [50, 200, 500, 1000, 2000], quick: [50] };
const SHARDS_PER_NODE = 3000;
const CONCURRENCY = 4;

const MAPPING = {
  properties: {
    parcel_id: { type: 'keyword' },
    name: { type: 'text', fields: { raw: { type: 'keyword' } } },
    area_m2: { type: 'double' },
    updated: { type: 'date' },
    location: { type: 'geo_point' },
  },
};

async function es(url, method, path, body) {
  const response = await fetch(new URL(path, url), {
    method,
    headers:
      body === undefined
        ? {}
        : { 'content-type': path.endsWith('_bulk') ? 'application/x-ndjson' : 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok && response.status !== 404)
    throw new Error(`${method} ${path.split('?')[0]} → ${response.status}: ${text.slice(0, 200)}`);
  return text ? JSON.parse(text) : {};
}

async function createIndex(url, prefix, i) {
  const name = `${prefix}i${String(i).padStart(4, '0')}`;
  const aliases = i % 5 === 0 ? { [`${prefix}alias${i}`]: {} } : {};
  await es(url, 'PUT', `/${name}?wait_for_active_shards=1`, {
    settings: { number_of_shards: 1, number_of_replicas: 0, refresh_interval: '30s' },
    mappings: MAPPING,
    aliases,
  });
  const bulk = [];
  for (let d = 0; d < 5; d++) {
    bulk.push(JSON.stringify({ index: { _index: name } }));
    bulk.push(
      JSON.stringify({
        parcel_id: `P-${i}-${d}`,
        name: `parcel ${d}`,
        area_m2: 100 + d,
        updated: '2026-01-01',
        location: { lat: 0.01 * d, lon: 0.01 * i },
      }),
    );
  }
  const answer = await es(url, 'POST', '/_bulk?refresh=true', bulk.join('\n') + '\n');
  if (answer.errors) throw new Error(`bulk into ${name} failed`);
}

async function addIndices(url, prefix, from, to) {
  let next = from;
  let created = from;
  const worker = async () => {
    while (next < to) {
      await createIndex(url, prefix, next++);
      created++;
    }
  };
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  } catch (error) {
    const type = /"type":"([a-z_]+)"/.exec(String(error.message))?.[1];
    throw new Error(`${type ?? String(error.message).slice(0, 120)} after ${created} indices`);
  }
}

export async function deleteBenchIndices(url, pattern) {
  await es(url, 'DELETE', `/${pattern}?expand_wildcards=all&allow_no_indices=true`);
}

export async function benchSearch({ sizes, reps, progress }) {
  const url = process.env.KFM_ES_URL ?? 'http://127.0.0.1:9200';
  const prefix = `kfm-bench-${randomBytes(3).toString('hex')}-`;
  const pattern = `${prefix}*`;
  const env = { ...process.env, KFM_ES_URL: url, KFM_BENCH_ES_PATTERN: pattern };
  const results = [];
  // One shard per index: past 1,000 indices a single node needs a higher shard limit, for this run only.
  const manyShards = Math.max(...sizes) > 900;
  if (manyShards)
    await es(url, 'PUT', '/_cluster/settings', { transient: { 'cluster.max_shards_per_node': SHARDS_PER_NODE } });
  try {
    let built = 0;
    for (const size of sizes) {
      const started = performance.now();
      try {
        await addIndices(url, prefix, built, size);
      } catch (error) {
        // The store cannot hold this many (the local test store has a 512 MB heap): the row says so, and
        // the larger sizes are not tried.
        progress(`search: building ${size} indices failed: ${error.message}`);
        results.push({ size, unit: 'indices', ours: null, theirs: null, error: String(error.message).slice(0, 160) });
        break;
      }
      built = size;
      progress(`search: ${size} indices built in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      let objects;
      const samples = await compareAlternating({
        reps,
        progress: (line) => progress(`search ${size}: ${line}`),
        ours: async () => {
          const run = await runNodeChild('search-capture.mjs', [], { env });
          objects = run.report.objects;
          return run;
        },
        theirs: () => runNodeChild('search-raw.mjs', [], { env }),
      });
      results.push({
        size,
        unit: 'indices',
        objects,
        ours: sideStats(samples.ours),
        theirs: sideStats(samples.theirs),
      });
    }
  } finally {
    // A store that just tripped its memory breaker may refuse the first delete: try again after a pause.
    await deleteBenchIndices(url, pattern).catch(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5000));
      await deleteBenchIndices(url, pattern);
    });
    if (manyShards)
      await es(url, 'PUT', '/_cluster/settings', { transient: { 'cluster.max_shards_per_node': null } }).catch(
        (error) => progress(`search: could not restore the shard limit: ${error.message}`),
      );
  }
  return {
    name: 'search_baseline',
    what: 'Elasticsearch baseline (captureSearchBaseline, child process)',
    against: 'raw GET _cat/indices + _mapping + _settings + _alias (same client, parallel)',
    basis: 'op_ms',
    goal: { ratio_max: 1.5 },
    results,
  };
}
