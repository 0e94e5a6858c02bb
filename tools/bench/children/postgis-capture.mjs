// Child: one PostGIS baseline of the database in KFM_BENCH_DSN, as `kfm-migrate baseline postgis` takes
// it: the adapter's own connection (the driver loaded the way the CLI loads it), then a capture.
// Prints {opMs, objects, fingerprint, maxRssKb}; opMs covers capture only.
import { postgisAdapter } from '@kfm/baseline-postgis';

const session = await postgisAdapter.connect({ dsn: process.env.KFM_BENCH_DSN }, { applicationName: 'kfm-bench' });
const started = performance.now();
const baseline = await session.captureBaseline({ once: true });
const opMs = performance.now() - started;
await session.close();
console.log(
  JSON.stringify({
    opMs,
    objects: baseline.objects.length,
    fingerprint: baseline.fingerprints.schema,
    maxRssKb: process.resourceUsage().maxRSS,
  }),
);
