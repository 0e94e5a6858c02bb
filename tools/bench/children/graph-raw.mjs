// Child: the two counts a user would run instead — MATCH (n) RETURN count(n) and
// MATCH ()-[r]->() RETURN count(r) — in one read session with the same driver.
import neo4j from 'neo4j-driver';

const env = process.env;
const driver = neo4j.driver(
  env.KFM_NEO4J_URI ?? 'bolt://127.0.0.1:7687',
  neo4j.auth.basic(env.KFM_NEO4J_USER ?? 'neo4j', env.KFM_NEO4J_PASSWORD ?? ''),
);
await driver.verifyConnectivity();
const session = driver.session({ defaultAccessMode: neo4j.session.READ });
const started = performance.now();
const nodes = (await session.run('MATCH (n) RETURN count(n) AS c')).records[0].get('c').toNumber();
const relationships = (await session.run('MATCH ()-[r]->() RETURN count(r) AS c')).records[0].get('c').toNumber();
const opMs = performance.now() - started;
await session.close();
await driver.close();
console.log(JSON.stringify({ opMs, nodes, relationships, maxRssKb: process.resourceUsage().maxRSS }));
