// Neo4j baseline (with degree distributions) against what a user would run instead, twice: full (every
// label and type in detail) against the fair floor, one hand-written Cypher query per label computing the
// same degree histograms (children/graph-floor.mjs); and scoped the way an apply captures it, with a
// declaration naming 2 of the 10 `L*` labels and 1 of the 3 types, against the two raw counts. Sizes past
// FULL_UP_TO (the 10M scale point) measure the scoped capture only. The graph grows through the sizes under a
// random label prefix: every node is `<P>Node` plus one of `<P>L0`…`<P>L9`, and
// node i > 0 has three outgoing relationships to earlier nodes (NEXT → i−1, HALF → i/2, HASH →
// (i·2654435761 mod 2³²) mod i), so degree distributions are skewed, not uniform. Built with UNWIND in batches; deleted after.
import { randomBytes } from 'node:crypto';
import neo4j from 'neo4j-driver';
import { compareAlternating, runNodeChild, sideStats } from '../lib/measure.mjs';

export const GRAPH_SIZES = { full: [100_000, 500_000, 1_000_000, 10_000_000], quick: [100_000] };
/** The largest size the full capture and its floor are measured at (a full pass at 10M takes minutes a side). */
const FULL_UP_TO = 1_000_000;
const BATCH = 20_000;
const SUBLABELS = 10;
/** What the scoped capture's declaration names: 2 of the 10 labels, 1 of the 3 relationship types. */
const SCOPE = { labels: ['L0', 'L1'], relationship_types: ['HALF'] };

function driverFromEnv() {
  const env = process.env;
  return neo4j.driver(
    env.KFM_NEO4J_URI ?? 'bolt://127.0.0.1:7687',
    neo4j.auth.basic(env.KFM_NEO4J_USER ?? 'neo4j', env.KFM_NEO4J_PASSWORD ?? ''),
  );
}

/** Progress every this many nodes while building or removing the graph (each takes many minutes at 10M). */
const BUILD_REPORT_EVERY = 1_000_000;

export async function addNodes(driver, prefix, from, to, progress = () => {}) {
  const session = driver.session();
  const started = performance.now();
  try {
    for (let start = from; start < to; start += BATCH) {
      if (start > from && start % BUILD_REPORT_EVERY === 0)
        progress(`graph: ${start} of ${to} nodes built (${((performance.now() - started) / 1000).toFixed(0)} s)`);
      const end = Math.min(start + BATCH, to) - 1;
      const range = { from: neo4j.int(start), to: neo4j.int(end) };
      await session.executeWrite(async (tx) => {
        for (let k = 0; k < SUBLABELS; k++) {
          await tx.run(
            `UNWIND range($from, $to) AS i WITH i WHERE i % ${SUBLABELS} = ${k} CREATE (:\`${prefix}Node\`:\`${prefix}L${k}\` {id: i, name: 'node ' + toString(i)})`,
            range,
          );
        }
      });
      await session.executeWrite((tx) =>
        tx.run(
          `UNWIND range($from, $to) AS i WITH i WHERE i > 0
         MATCH (n:\`${prefix}Node\` {id: i})
         MATCH (a:\`${prefix}Node\` {id: i - 1}) MATCH (b:\`${prefix}Node\` {id: i / 2}) MATCH (c:\`${prefix}Node\` {id: ((i * 2654435761) % 4294967296) % i})
         CREATE (n)-[:\`${prefix}NEXT\`]->(a), (n)-[:\`${prefix}HALF\` {w: i % 7}]->(b), (n)-[:\`${prefix}HASH\`]->(c)`,
          range,
        ),
      );
    }
  } finally {
    await session.close();
  }
}

/**
 * Deletes the bench graph in small transactions by id range: outgoing relationships first (every
 * relationship starts at a bench node), then the nodes. A single DETACH DELETE … IN TRANSACTIONS
 * would hit a hub node's whole relationship chain (or go eager) and run out of transaction memory.
 */
export async function cleanGraph(driver, prefix, progress = () => {}) {
  const session = driver.session();
  const node = `\`${prefix}Node\``;
  try {
    const top = (await session.run(`MATCH (n:${node}) RETURN max(n.id) AS top`)).records[0]?.get('top');
    const last = top === null || top === undefined ? -1 : neo4j.integer.toNumber(top);
    const started = performance.now();
    const steps = [`MATCH (n:${node} {id: i})-[r]->() DELETE r`, `MATCH (n:${node} {id: i}) DETACH DELETE n`];
    for (const [index, step] of steps.entries()) {
      for (let start = 0; start <= last; start += BATCH) {
        if (start > 0 && start % BUILD_REPORT_EVERY === 0)
          progress(
            `graph: removing ${index === 0 ? 'relationships' : 'nodes'}, ${start} of ${last + 1} nodes done (${((performance.now() - started) / 1000).toFixed(0)} s)`,
          );
        await session.executeWrite((tx) =>
          tx.run(`UNWIND range($from, $to) AS i ${step}`, {
            from: neo4j.int(start),
            to: neo4j.int(Math.min(start + BATCH, last + 1) - 1),
          }),
        );
      }
    }
    await session.run(`DROP CONSTRAINT \`${prefix}node_id\` IF EXISTS`);
  } finally {
    await session.close();
  }
}

export async function graphVersion() {
  const driver = driverFromEnv();
  try {
    const session = driver.session();
    const record = (
      await session.run(
        "CALL dbms.components() YIELD name, versions, edition WHERE name = 'Neo4j Kernel' RETURN versions[0] AS v, edition",
      )
    ).records[0];
    await session.close();
    return `${record.get('v')} ${record.get('edition')}`;
  } finally {
    await driver.close();
  }
}

export async function benchGraph({ sizes, reps, progress }) {
  const prefix = `Bench${randomBytes(3).toString('hex')}_`;
  const env = { ...process.env, KFM_BENCH_GRAPH_PREFIX: prefix };
  const driver = driverFromEnv();
  const results = [];
  const scoped = [];
  try {
    const session = driver.session();
    await session.run(
      `CREATE CONSTRAINT \`${prefix}node_id\` IF NOT EXISTS FOR (n:\`${prefix}Node\`) REQUIRE n.id IS UNIQUE`,
    );
    await session.close();
    let built = 0;
    for (const size of sizes) {
      const started = performance.now();
      await addNodes(driver, prefix, built, size, progress);
      built = size;
      progress(
        `graph: ${size} nodes (${3 * (size - 1)} relationships) built in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
      // The same graph captured full (beside the per-label histogram queries) and scoped (beside the two counts).
      const variants = [
        ...(size <= FULL_UP_TO ? [{ label: '', env, into: results, extra: {}, theirs: 'graph-floor.mjs' }] : []),
        {
          label: ' scoped',
          env: { ...env, KFM_BENCH_GRAPH_SCOPE: JSON.stringify(SCOPE) },
          into: scoped,
          extra: { scope: SCOPE },
          theirs: 'graph-raw.mjs',
        },
      ];
      for (const variant of variants) {
        let objects;
        const samples = await compareAlternating({
          reps,
          progress: (line) => progress(`graph ${size}${variant.label}: ${line}`),
          ours: async () => {
            const run = await runNodeChild('graph-capture.mjs', [], { env: variant.env });
            if (run.report.nodes !== size)
              throw new Error(`graph baseline counted ${run.report.nodes} nodes, expected ${size}`);
            objects = run.report.objects;
            return run;
          },
          theirs: () => runNodeChild(variant.theirs, [], { env }),
        });
        variant.into.push({
          size,
          unit: 'nodes',
          relationships: 3 * (size - 1),
          objects,
          ...variant.extra,
          ours: sideStats(samples.ours),
          theirs: sideStats(samples.theirs),
        });
      }
    }
  } finally {
    await cleanGraph(driver, prefix, progress).catch((error) => progress(`graph: cleanup failed: ${error.message}`));
    await driver.close();
  }
  return [
    {
      name: 'graph_baseline',
      short: 'Graph baseline (full) vs per-label degree queries',
      what: 'Neo4j baseline with degree distributions, property keys and patterns for every label and type (captureGraphBaseline --full, child process)',
      against:
        'one hand-written Cypher query per label: MATCH (n:L) RETURN COUNT { (n)-->() }, COUNT { (n)<--() }, count(*), bucketed by log2 (the same degree histograms)',
      basis: 'op_ms',
      goal: { ratio_max: 1.5, also: 'client peak memory flat across sizes' },
      results,
    },
    {
      name: 'graph_baseline_scoped',
      short: 'Graph baseline scoped (2 of 10 labels, 1 of 3 types) vs 2 counts',
      what: 'Neo4j baseline as an apply captures it: detail for the labels and types a declaration names, count-store counts for the rest',
      against: 'MATCH (n) RETURN count(n) + MATCH ()-[r]->() RETURN count(r)',
      basis: 'op_ms',
      goal: { ratio_max: 3 },
      results: scoped,
    },
  ];
}
