// Child: one PostGIS baseline of the database in KFM_BENCH_DSN, as `kfm-migrate baseline postgis`
// would take it. Prints {opMs, objects, fingerprint, maxRssKb}; opMs covers capture only.
import pg from 'pg';
import { capturePostgisBaseline } from '@kfm/baseline-postgis';

const client = new pg.Client({ connectionString: process.env.KFM_BENCH_DSN });
await client.connect();
const started = performance.now();
const baseline = await capturePostgisBaseline(client, {});
const opMs = performance.now() - started;
await client.end();
console.log(
  JSON.stringify({
    opMs,
    objects: baseline.objects.length,
    fingerprint: baseline.fingerprints.schema,
    maxRssKb: process.resourceUsage().maxRSS,
  }),
);
