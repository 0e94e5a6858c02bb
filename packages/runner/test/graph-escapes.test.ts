// Escapes on the real Neo4j, tried as a hostile contributor would: a write through a node no label binds
// (reaching a forbidden Owner), a write reached through an untyped relationship, and a dynamic label.
// Each must be refused before the first statement, with the graph read back through Cypher unchanged.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Driver } from 'neo4j-driver';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearGraph, seedGraph } from '../../../fixtures/seed/graph/seed.mjs';
import { kfm, repo } from './postgis-harness.js';
import { graphDriver, graphEnv, randomId, renameGraphSeed } from './stores-harness.js';

const env = graphEnv;
let driver: Driver;
let prefix = '';

/** The forbidden Owner nodes' keys and the graph's label counts, read straight from the store. */
async function ownersState() {
  const owners = await driver.executeQuery(`MATCH (o:${prefix}Owner) RETURN o.oid AS oid ORDER BY oid`);
  const labels = await driver.executeQuery(
    `MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH $prefix) UNWIND labels(n) AS l RETURN l, count(*) AS n ORDER BY l`,
    { prefix },
  );
  return {
    owners: owners.records.map((r) => r.get('oid')),
    labels: labels.records.map((r) => `${r.get('l')}:${r.get('n')}`),
  };
}

async function bundleWith(forward: string, tweak: (yml: string) => string = (yml) => yml): Promise<string> {
  const source = path.join(repo, 'migrations/graph/GRAPH-MIG-2026-03-06-01');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-graph-escape-'));
  const id = randomId('GRAPH');
  const rename = (text: string) => renameGraphSeed(text, prefix);
  const yml = rename(await fs.readFile(path.join(source, 'migration.yml'), 'utf8'))
    .replace(/GRAPH-MIG-2026-03-06-01/g, id)
    // Parcel is allowed; Owner becomes forbidden.
    .replace(`allowed_labels: [${prefix}Parcel, ${prefix}Owner]`, `allowed_labels: [${prefix}Parcel]`)
    .replace(
      `forbidden_labels: [${prefix}AuthoritySite]`,
      `forbidden_labels: [${prefix}AuthoritySite, ${prefix}Owner]`,
    );
  await fs.writeFile(path.join(dir, 'migration.yml'), tweak(yml));
  await fs.writeFile(path.join(dir, 'forward.cypher'), forward);
  await fs.writeFile(path.join(dir, 'rollback.cypher'), 'RETURN 1;\n');
  await fs.writeFile(path.join(dir, 'notes.md'), 'escape test\n');
  return dir;
}

beforeAll(() => {
  driver = graphDriver();
});
afterAll(() => driver.close());
beforeEach(async () => {
  prefix = `E${randomBytes(3).toString('hex')}_`;
  await seedGraph(driver, { prefix });
});
afterEach(() => clearGraph(driver, prefix));

describe('graph writes preflight cannot attribute to the scope are refused before they run', () => {
  it.each([
    [
      'an unlabeled match reaching a forbidden node',
      (p: string) =>
        `MATCH (n) WHERE n.oid = 'O1' AND any(l IN labels(n) WHERE l STARTS WITH '${p}') SET n.oid = 'O1-moved';\n`,
    ],
    [
      'an untyped relationship from an allowed label to a forbidden one',
      (p: string) => `MATCH (:${p}Parcel)-[]->(o) SET o.oid = o.oid + '-moved';\n`,
    ],
    ['a dynamic label', (p: string) => `MATCH (p:${p}Parcel) WITH p LIMIT 1 SET p:$('${p}Owner');\n`],
    [
      'an unlabeled write inside a CALL subquery',
      (p: string) =>
        `CALL { MATCH (n) WHERE n.oid = 'O1' AND any(l IN labels(n) WHERE l STARTS WITH '${p}') SET n.oid = 'O1-moved' };\n`,
    ],
    [
      'a write through a FOREACH variable',
      (p: string) =>
        `MATCH (:${p}Parcel)-[]->(o) WITH collect(o) AS os FOREACH (x IN os | SET x.oid = x.oid + '-moved');\n`,
    ],
    // A name that means something else at the write than where it was labeled.
    [
      'a labeled name rebound to an unlabeled node (WITH o AS p)',
      (p: string) => `MATCH (p:${p}Parcel)-[]->(o) WITH o AS p SET p.oid = p.oid + '-moved';\n`,
    ],
    [
      'a labeled name dropped by WITH and matched again unlabeled',
      (p: string) =>
        `MATCH (p:${p}Parcel) WITH count(p) AS n MATCH (p) WHERE p.oid = 'O1' AND any(l IN labels(p) WHERE l STARTS WITH '${p}') SET p.oid = 'O1-moved';\n`,
    ],
    [
      'a write before the pattern that labels the name',
      (p: string) =>
        `MATCH (p) WHERE p.oid = 'O1' AND any(l IN labels(p) WHERE l STARTS WITH '${p}') SET p.oid = 'O1-moved' WITH p MATCH (p:${p}Parcel) RETURN count(p) AS c;\n`,
    ],
    [
      'a UNION branch reusing a name labeled in the other branch',
      (p: string) =>
        `MATCH (p:${p}Parcel) WITH p LIMIT 0 SET p.x = 1 RETURN 1 AS k UNION MATCH (p) WHERE p.oid = 'O1' AND any(l IN labels(p) WHERE l STARTS WITH '${p}') SET p.oid = 'O1-moved' RETURN 1 AS k;\n`,
    ],
    [
      'a CALL subquery shadowing a labeled name',
      (p: string) =>
        `MATCH (p:${p}Parcel) WITH p LIMIT 1 CALL { MATCH (p) WHERE p.oid = 'O1' AND any(l IN labels(p) WHERE l STARTS WITH '${p}') SET p.oid = 'O1-moved' };\n`,
    ],
    [
      'a negated label expression',
      (p: string) =>
        `MATCH (n:!${p}Parcel) WHERE n.oid = 'O1' AND any(l IN labels(n) WHERE l STARTS WITH '${p}') SET n.oid = 'O1-moved';\n`,
    ],
  ])('%s: exit 1, the graph unchanged', async (_what, script) => {
    const before = await ownersState();
    const dir = await bundleWith(script(prefix));
    const run = await kfm(['apply', dir], env);
    expect(run.code, run.stderr.slice(-2000)).toBe(1);
    expect(JSON.stringify(run.json.checks)).toMatch(/\[(unlabeled-write|dynamic-label)\]/);
    expect(await ownersState()).toEqual(before);
  });
});

describe('a node carrying an allowed label and another one', () => {
  it('a write through the allowed label to nodes that are also an undeclared label: exit 1 before it runs, nodes unchanged', async () => {
    // One Parcel is also a Shadow: neither forbidden nor allowed, so nothing of it may change.
    await driver.executeQuery(`MATCH (p:${prefix}Parcel) WITH p ORDER BY p.parcel_id LIMIT 1 SET p:${prefix}Shadow`);
    const shadow = async () =>
      (
        await driver.executeQuery(
          `MATCH (s:${prefix}Shadow) RETURN s.parcel_id AS id, s.note AS note, labels(s) AS labels ORDER BY id`,
        )
      ).records.map((r) => [r.get('id'), r.get('note'), [...r.get('labels')].sort()]);
    const before = await shadow();
    expect(before).toHaveLength(1);
    const dir = await bundleWith(`MATCH (p:${prefix}Parcel) SET p.note = 'reviewed';\n`);
    const run = await kfm(['apply', dir], env);
    expect(run.code, run.stderr.slice(-2000)).toBe(1);
    const refusal = (run.json.checks ?? []).find(
      (check: { code?: string; pointer?: string }) =>
        check.code === 'PREFLIGHT_FORBIDDEN' && check.pointer === '/scope/allowed_labels',
    );
    expect(refusal?.observed).toBe(`${prefix}Shadow`);
    expect(await shadow()).toEqual(before);
    const notes = await driver.executeQuery(`MATCH (p:${prefix}Parcel) WHERE p.note IS NOT NULL RETURN count(p) AS n`);
    expect(notes.records[0]?.get('n').toNumber()).toBe(0);
  });
});

describe('what a write takes with it, seen by the counts', () => {
  it('DETACH DELETE of an allowed Parcel takes a forbidden-type relationship with it: exit 1, both kept', async () => {
    const state = async () => {
      const result = await driver.executeQuery(
        `MATCH (p:${prefix}Parcel {parcel_id: 'P-27'}) OPTIONAL MATCH (p)-[d:${prefix}DERIVED_FROM]-() RETURN count(DISTINCT p) AS parcels, count(d) AS derived`,
      );
      const all = await driver.executeQuery(`MATCH ()-[d:${prefix}DERIVED_FROM]->() RETURN count(d) AS n`);
      return {
        parcels: result.records[0]?.get('parcels').toNumber(),
        derived: result.records[0]?.get('derived').toNumber(),
        total: all.records[0]?.get('n').toNumber(),
      };
    };
    const before = await state();
    expect(before.derived).toBeGreaterThan(0);
    const dir = await bundleWith(`MATCH (p:${prefix}Parcel {parcel_id: 'P-27'}) DETACH DELETE p;\n`, (yml) =>
      yml
        .replace('transactional: false', 'transactional: true')
        .replace('max_nodes_touched: 0', 'max_nodes_touched: 1')
        .replace('max_label_count_delta: 0', 'max_label_count_delta: 1'),
    );
    const run = await kfm(['apply', dir], env);
    expect(run.code, run.stderr.slice(-2000)).toBe(1);
    expect(JSON.stringify(run.json.checks)).toMatch(new RegExp(`${prefix}DERIVED_FROM`));
    expect(await state()).toEqual(before);
  });
});
