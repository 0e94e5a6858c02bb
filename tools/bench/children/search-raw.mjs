// Child: what a user would fetch by hand to see the same catalog — _cat/indices, _mapping, _settings
// and _alias of the bench's indices, in parallel, with the same client library, parsed as JSON.
import { Client } from '@elastic/elasticsearch';

const client = new Client({ node: process.env.KFM_ES_URL ?? 'http://127.0.0.1:9200', requestTimeout: 120_000 });
const target = `/${process.env.KFM_BENCH_ES_PATTERN}`;
const get = async (path, querystring) => (await client.transport.request({ method: 'GET', path, querystring })).body;
const started = performance.now();
const [indices, mappings, settings, aliases] = await Promise.all([
  get(`/_cat/indices${target}`, { format: 'json' }),
  get(`${target}/_mapping`),
  get(`${target}/_settings`, { flat_settings: true }),
  get(`${target}/_alias`),
]);
const opMs = performance.now() - started;
await client.close();
console.log(
  JSON.stringify({
    opMs,
    indices: indices.length,
    mappings: Object.keys(mappings).length,
    settings: Object.keys(settings).length,
    aliases: Object.keys(aliases).length,
    maxRssKb: process.resourceUsage().maxRSS,
  }),
);
