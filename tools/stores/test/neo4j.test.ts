import neo4j, { type Driver } from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NEO4J_PASSWORD, NEO4J_URI, NEO4J_USER, runId } from './env.js';

// every node this test touches carries this label, so cleanup cannot hit anything else
const id = runId();
const label = `KfmSmoke_${id}`;
const constraint = `kfm_smoke_${id}_key`;

const people = [
  { key: 'ada', name: 'Ada', born: 1815 },
  { key: 'charles', name: 'Charles', born: 1791 },
  { key: 'grace', name: 'Grace', born: 1906 },
  { key: 'alan', name: 'Alan', born: 1912 },
];
const knows: Array<[string, string, number]> = [
  ['ada', 'charles', 1833],
  ['grace', 'alan', 1950],
  ['alan', 'ada', 1936],
];

let driver: Driver;

/** Neo4j integers arrive as neo4j.Integer, floats as JS numbers. */
const num = (v: unknown): number => (neo4j.isInt(v) ? (v as { toNumber(): number }).toNumber() : Number(v));

describe('Neo4j over Bolt', () => {
  beforeAll(async () => {
    driver = neo4j.driver(NEO4J_URI, neo4j.auth.basic(NEO4J_USER, NEO4J_PASSWORD));
    await driver.verifyConnectivity();
  });

  afterAll(async () => {
    if (!driver) return;
    const session = driver.session();
    try {
      await session.run(`MATCH (n:\`${label}\`) DETACH DELETE n`);
      await session.run(`DROP CONSTRAINT \`${constraint}\` IF EXISTS`);
    } finally {
      await session.close();
      await driver.close();
    }
  });

  it('reports a Neo4j 5 server', async () => {
    const info = await driver.getServerInfo();
    expect(info.agent).toMatch(/^Neo4j\/5\./);
    const session = driver.session({ defaultAccessMode: neo4j.session.READ });
    try {
      const res = await session.run('CALL dbms.components() YIELD name, edition RETURN name, edition');
      expect(res.records[0].get('name')).toBe('Neo4j Kernel');
    } finally {
      await session.close();
    }
  });

  it('writes and reads a graph in a test-unique label namespace', async () => {
    const session = driver.session();
    try {
      await session.executeWrite((tx) =>
        tx.run(`UNWIND $people AS p CREATE (:\`${label}\` {key: p.key, name: p.name, born: p.born})`, { people }),
      );
      await session.executeWrite((tx) =>
        tx.run(
          `UNWIND $rels AS r
           MATCH (a:\`${label}\` {key: r[0]}), (b:\`${label}\` {key: r[1]})
           CREATE (a)-[:KNOWS {since: r[2]}]->(b)`,
          { rels: knows.map(([a, b, since]) => [a, b, neo4j.int(since)]) },
        ),
      );

      const count = await session.executeRead((tx) => tx.run(`MATCH (n:\`${label}\`) RETURN count(n) AS n`));
      expect(num(count.records[0].get('n'))).toBe(people.length);

      // out-degree per person, computed independently from the input
      const res = await session.executeRead((tx) =>
        tx.run(
          `MATCH (p:\`${label}\`) OPTIONAL MATCH (p)-[k:KNOWS]->(:\`${label}\`)
           RETURN p.key AS key, count(k) AS degree ORDER BY key`,
        ),
      );
      const got = Object.fromEntries(res.records.map((r) => [r.get('key'), num(r.get('degree'))]));
      const want = Object.fromEntries(people.map((p) => [p.key, knows.filter(([a]) => a === p.key).length]));
      expect(got).toEqual(want);

      // a two-hop path: who does grace know through someone else?
      const twoHop = await session.executeRead((tx) =>
        tx.run(
          `MATCH (:\`${label}\` {key: $from})-[:KNOWS]->(:\`${label}\`)-[:KNOWS]->(x:\`${label}\`) RETURN x.key AS key`,
          { from: 'grace' },
        ),
      );
      const mid = knows.filter(([a]) => a === 'grace').map(([, b]) => b);
      const expected = knows.filter(([a]) => mid.includes(a)).map(([, b]) => b);
      expect(twoHop.records.map((r) => r.get('key'))).toEqual(expected);

      // property update inside a write transaction
      const bump = await session.executeWrite((tx) =>
        tx.run(`MATCH (p:\`${label}\`) SET p.age1950 = 1950 - p.born RETURN sum(p.age1950) AS total`),
      );
      expect(num(bump.records[0].get('total'))).toBe(people.reduce((s, p) => s + (1950 - p.born), 0));
    } finally {
      await session.close();
    }
  });

  it('enforces a uniqueness constraint and rolls back a failed transaction', async () => {
    const session = driver.session();
    try {
      await session.run(
        `CREATE CONSTRAINT \`${constraint}\` IF NOT EXISTS FOR (n:\`${label}\`) REQUIRE n.key IS UNIQUE`,
      );
      await session.run('CALL db.awaitIndexes(60)');
      await session.run(`MERGE (:\`${label}\` {key: 'dup-probe'})`);
      const before = num((await session.run(`MATCH (n:\`${label}\`) RETURN count(n) AS n`)).records[0].get('n'));

      await expect(
        session.executeWrite(async (tx) => {
          await tx.run(`CREATE (:\`${label}\` {key: 'zz-new'})`);
          await tx.run(`CREATE (:\`${label}\` {key: 'dup-probe'})`); // duplicate
        }),
      ).rejects.toMatchObject({ code: expect.stringContaining('ConstraintValidationFailed') });

      const after = num((await session.run(`MATCH (n:\`${label}\`) RETURN count(n) AS n`)).records[0].get('n'));
      expect(after).toBe(before); // 'zz-new' was rolled back with the failed transaction
    } finally {
      await session.close();
    }
  });
});
