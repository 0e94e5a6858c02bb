// Child: the fair floor for a full graph baseline — what a user would hand-write to get the same degree
// histograms: one Cypher query per label under the bench's prefix, each node's out- and in-degree counted
// and grouped, then bucketed by log2 here. Prints {opMs, labels, nodes, maxRssKb}.
import neo4j from 'neo4j-driver';

const env = process.env;
const driver = neo4j.driver(
  env.KFM_NEO4J_URI ?? 'bolt://127.0.0.1:7687',
  neo4j.auth.basic(env.KFM_NEO4J_USER ?? 'neo4j', env.KFM_NEO4J_PASSWORD ?? ''),
);
await driver.verifyConnectivity();
const prefix = env.KFM_BENCH_GRAPH_PREFIX;
const session = driver.session({ defaultAccessMode: neo4j.session.READ });
const started = performance.now();
const labels = (await session.run('CALL db.labels() YIELD label RETURN label')).records
  .map((record) => record.get('label'))
  .filter((label) => label.startsWith(prefix));
const bucket = (degree) => (degree === 0 ? '0' : String(2 ** Math.floor(Math.log2(degree))));
const histograms = {};
let nodes = 0;
for (const label of labels) {
  const out = {};
  const inn = {};
  const result = await session.run(
    `MATCH (n:\`${label}\`) RETURN COUNT { (n)-->() } AS o, COUNT { (n)<--() } AS i, count(*) AS nodes`,
  );
  for (const record of result.records) {
    const count = record.get('nodes').toNumber();
    const o = bucket(record.get('o').toNumber());
    const i = bucket(record.get('i').toNumber());
    out[o] = (out[o] ?? 0) + count;
    inn[i] = (inn[i] ?? 0) + count;
    if (label === `${prefix}Node`) nodes += count;
  }
  histograms[label] = { out, in: inn };
}
const opMs = performance.now() - started;
await session.close();
await driver.close();
console.log(JSON.stringify({ opMs, labels: labels.length, nodes, maxRssKb: process.resourceUsage().maxRSS }));
