// Child: one Elasticsearch baseline confined to KFM_BENCH_ES_PATTERN (the bench's indices), as the
// runner takes it. Prints {opMs, objects, fingerprint, maxRssKb}; opMs covers the capture only.
import { captureSearchBaseline, createSearchClient } from '@kfm/baseline-search';

const client = createSearchClient(process.env.KFM_ES_URL ?? 'http://127.0.0.1:9200', { requestTimeout: 120_000 });
const started = performance.now();
const baseline = await captureSearchBaseline(client, { indexPattern: process.env.KFM_BENCH_ES_PATTERN });
const opMs = performance.now() - started;
await client.close();
console.log(
  JSON.stringify({
    opMs,
    objects: baseline.objects.length,
    fingerprint: baseline.fingerprints.schema,
    maxRssKb: process.resourceUsage().maxRSS,
  }),
);
