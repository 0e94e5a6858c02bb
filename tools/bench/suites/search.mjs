// Elasticsearch baseline vs the raw catalog fetch (_cat/indices, _mapping, _settings, _alias) a user
// would script instead. The bench's indices grow through the sizes under one random prefix (1 shard,
// 0 replicas, a small mapping, every fifth index aliased, a few documents each) and are deleted after.
import { randomBytes } from 'node:crypto';
import { compareAlternating, runNodeChild, sideStats } from '../lib/measure.mjs';

export const SEARCH_SIZES = { full: [50, 200, 500], quick: [50] };
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
  const worker = async () => {
    while (next < to) await createIndex(url, prefix, next++);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
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
  try {
    let built = 0;
    for (const size of sizes) {
      const started = performance.now();
      await addIndices(url, prefix, built, size);
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
    await deleteBenchIndices(url, pattern);
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
