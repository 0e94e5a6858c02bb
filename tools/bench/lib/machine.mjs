// What the numbers were measured on: CPUs, memory, load, and the versions of Node and each store.
import os from 'node:os';
import { hasGnuTime, round } from './measure.mjs';
import { serverVersion } from './postgres-scratch.mjs';
import { graphVersion } from '../suites/graph.mjs';

async function elasticsearchVersion() {
  const response = await fetch(process.env.KFM_ES_URL ?? 'http://127.0.0.1:9200');
  return (await response.json()).version.number;
}

const settled = async (probe) => {
  try {
    return await probe();
  } catch (error) {
    return `unreachable (${error.message.split('\n')[0]})`;
  }
};

export async function describeMachine() {
  const pg = await settled(serverVersion);
  return {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    memory_gb: round(os.totalmem() / 1024 ** 3, 1),
    load_average_start: os.loadavg().map((v) => round(v, 2)),
    node: process.versions.node,
    postgres: typeof pg === 'string' ? pg : pg.postgres,
    postgis: typeof pg === 'string' ? pg : pg.postgis,
    elasticsearch: await settled(elasticsearchVersion),
    neo4j: await settled(graphVersion),
    peak_rss_from: hasGnuTime
      ? 'GNU time %M (largest process of a pipeline)'
      : "the child's process.resourceUsage().maxRSS",
  };
}
