// Child: one Neo4j baseline (labels, types, counts, degree histograms) confined to the bench's label
// prefix KFM_BENCH_GRAPH_PREFIX: full, or with KFM_BENCH_GRAPH_SCOPE ({labels, relationship_types},
// unprefixed) scoped by a declaration naming those. Prints {opMs, objects, nodes, fingerprint, maxRssKb}.
import neo4j from 'neo4j-driver';
import { captureGraphBaseline } from '@kfm/baseline-graph';

const env = process.env;
const driver = neo4j.driver(
  env.KFM_NEO4J_URI ?? 'bolt://127.0.0.1:7687',
  neo4j.auth.basic(env.KFM_NEO4J_USER ?? 'neo4j', env.KFM_NEO4J_PASSWORD ?? ''),
);
await driver.verifyConnectivity();
const prefix = env.KFM_BENCH_GRAPH_PREFIX;
const scope = env.KFM_BENCH_GRAPH_SCOPE ? JSON.parse(env.KFM_BENCH_GRAPH_SCOPE) : undefined;
// Only scope, protected and invariants shape a capture; the rest of a declaration does not matter here.
const declaration = scope && {
  scope: {
    allowed_labels: scope.labels.map((name) => prefix + name),
    allowed_relationship_types: scope.relationship_types.map((name) => prefix + name),
  },
};
const started = performance.now();
const baseline = await captureGraphBaseline(driver, {
  labelPrefix: prefix,
  ...(declaration ? { declaration } : { full: true }),
});
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
