// Child: one Neo4j baseline (labels, types, counts, degree histograms) confined to the bench's label
// prefix KFM_BENCH_GRAPH_PREFIX. Prints {opMs, objects, nodes, fingerprint, maxRssKb}; opMs = capture.
import neo4j from 'neo4j-driver';
import { captureGraphBaseline } from '@kfm/baseline-graph';

const env = process.env;
const driver = neo4j.driver(
  env.KFM_NEO4J_URI ?? 'bolt://127.0.0.1:7687',
  neo4j.auth.basic(env.KFM_NEO4J_USER ?? 'neo4j', env.KFM_NEO4J_PASSWORD ?? ''),
);
await driver.verifyConnectivity();
const started = performance.now();
const baseline = await captureGraphBaseline(driver, { labelPrefix: env.KFM_BENCH_GRAPH_PREFIX });
const opMs = performance.now() - started;
await driver.close();
console.log(
  JSON.stringify({
    opMs,
    objects: baseline.objects.length,
    nodes: baseline.counts.nodes,
    fingerprint: baseline.fingerprints.schema,
    maxRssKb: process.resourceUsage().maxRSS,
  }),
);
