// Baseline detail on the real Neo4j, end to end through kfm-migrate: an apply captures in detail only
// what the declaration names (the rest is counted), `--full` looks at everything, and a rollback
// captures at the detail of the applied run's baselines, so a full apply rolls back without --full.
// The graph is read back through Cypher, not through our fingerprints.
import fs from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Driver } from 'neo4j-driver';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { clearGraph, seedGraph } from '../../../fixtures/seed/graph/seed.mjs';
import { kfm, readJson } from './postgis-harness.js';
import { copyExample, graphDriver, graphEnv, randomId, renameGraphSeed } from './stores-harness.js';

const env = graphEnv;
let driver: Driver;
let prefix = '';

/** The example bundle, renamed into this test's namespace; `forward` replaces its forward script (run in one transaction unless `transactional` is false). */
function exampleBundle(forward?: string, transactional = true): Promise<string> {
  const id = randomId('GRAPH');
  return copyExample('graph/GRAPH-MIG-2026-03-06-01', (name, original) => {
    let text = renameGraphSeed(original, prefix);
    if (forward && name === 'forward.cypher') text = forward;
    // One transaction checked before COMMIT, so a refused change leaves nothing behind.
    if (forward && transactional && name === 'migration.yml')
      text = text.replace('transactional: false', 'transactional: true');
    return text.replace(/GRAPH-MIG-2026-03-06-01/g, id);
  });
}

const count = async (query: string) => (await driver.executeQuery(query)).records[0]?.get('n').toNumber();
const labelObject = (baseline: any, name: string) =>
  baseline.objects.find((o: any) => o.kind === 'label' && o.name === name);

beforeAll(() => {
  driver = graphDriver();
});
afterAll(() => driver.close());
beforeEach(async () => {
  prefix = `D${randomBytes(3).toString('hex')}_`;
  await seedGraph(driver, { prefix });
  // A label the declaration does not name, beside the parcels.
  await driver.executeQuery(`UNWIND range(1, 40) AS i CREATE (:${prefix}Road {road_id: i})`);
});
afterEach(async () => {
  await driver.executeQuery(`MATCH (r:${prefix}Road) DELETE r`);
  await clearGraph(driver, prefix);
});

describe('baseline detail through kfm-migrate', () => {
  it('an apply counts the labels its declaration does not name and looks closely at the rest', async () => {
    const dir = await exampleBundle();
    const owns = await count(`MATCH ()-[r:${prefix}OWNS]->() RETURN count(r) AS n`);
    const applied = await kfm(['apply', dir], env);
    expect(applied.code, applied.stderr.slice(-1500)).toBe(0);
    // What the run wrote, per relationship type, as Neo4j counted it (the rewrite: one delete and one create each).
    expect(await count(`MATCH ()-[r:${prefix}HAS_OWNER]->() RETURN count(r) AS n`)).toBe(owns);
    const receipt = await readJson(path.join(dir, 'receipts/run_receipt.json'));
    expect(receipt.data_changes).toEqual([
      expect.objectContaining({
        object: `${prefix}HAS_OWNER`,
        kind: 'relationship_type',
        counts: expect.objectContaining({ relationships_created: owns }),
      }),
      expect.objectContaining({
        object: `${prefix}OWNS`,
        kind: 'relationship_type',
        counts: expect.objectContaining({ relationships_deleted: owns }),
      }),
    ]);
    const pre = await readJson(path.join(dir, 'baselines/pre.json'));
    expect(labelObject(pre, `${prefix}Road`).attributes).toEqual({ detail: 'counted' });
    expect(pre.counts[`label:${prefix}Road`]).toBe(await count(`MATCH (r:${prefix}Road) RETURN count(r) AS n`));
    expect(labelObject(pre, `${prefix}Parcel`).attributes.property_keys).toContain('parcel_id');
    expect(pre.measures[`degree_out:${prefix}Parcel`]).toBeDefined();
    const rolled = await kfm(['rollback', dir], env);
    expect(rolled.code, rolled.stderr.slice(-1500)).toBe(0);
  });

  // Road is neither allowed nor forbidden. Neo4j reports no per-label write counts and a new value
  // changes no key, count or degree, so the preflight refuses the write before anything runs: in a run
  // with a commit point and in one without (where nothing else would stop the schema command before it).
  it.each([
    ['a new property', `SET r.toll = true`, true],
    ['a new value for an existing property', `SET r.road_id = r.road_id + 1000`, true],
    ['a new value, in a run without a commit point', `SET r.road_id = r.road_id + 1000`, false],
  ])(
    'a write to a label the declaration does not allow (%s) is refused, the graph unchanged',
    async (_, set, transactional) => {
      const dir = await exampleBundle(`MATCH (r:${prefix}Road) ${set};\n`, transactional);
      const run = await kfm(['apply', dir], env);
      expect(run.code, run.stderr.slice(-1500)).toBe(1);
      const failed = (run.json.checks ?? []).filter((c: { status: string }) => c.status === 'fail');
      expect(failed.map((c: any) => [c.code, c.pointer, c.observed])).toContainEqual([
        'PREFLIGHT_FORBIDDEN',
        '/scope/allowed_labels',
        `${prefix}Road`,
      ]);
      const untouched = `MATCH (r:${prefix}Road) WHERE r.toll IS NULL AND r.road_id <= 40 RETURN count(r) AS n`;
      expect(await count(untouched)).toBe(40);
      expect(await count(`MATCH (r:${prefix}Road) RETURN count(r) AS n`)).toBe(40);
    },
  );

  it('a rollback script that writes outside the scope is refused before the forward script runs', async () => {
    const dir = await exampleBundle();
    const rollback = path.join(dir, 'rollback.cypher');
    await fs.appendFile(rollback, `\nMATCH (r:${prefix}Road) SET r.road_id = r.road_id + 1000;\n`);
    const owns = `MATCH ()-[r:${prefix}OWNS]->() RETURN count(r) AS n`;
    const before = await count(owns);
    const run = await kfm(['apply', dir], env);
    expect(run.code, run.stderr.slice(-1500)).toBe(1);
    const failed = (run.json.checks ?? []).filter((c: { status: string }) => c.status === 'fail');
    expect(failed.map((c: any) => [c.name.split(':')[0], c.code, c.pointer, c.observed])).toEqual([
      ['rollback', 'PREFLIGHT_FORBIDDEN', '/scope/allowed_labels', `${prefix}Road`],
    ]);
    expect(await count(owns)).toBe(before);
    expect(await count(`MATCH (r:${prefix}Road) WHERE r.road_id <= 40 RETURN count(r) AS n`)).toBe(40);
  });

  it('a full apply rolls back without --full: the rollback captures at the applied detail', async () => {
    const dir = await exampleBundle();
    const owns = `MATCH ()-[r:${prefix}OWNS]->() RETURN count(r) AS n`;
    const before = await count(owns);
    const applied = await kfm(['apply', dir, '--full'], env);
    expect(applied.code, applied.stderr.slice(-1500)).toBe(0);
    expect(await count(owns)).toBe(0);
    expect(labelObject(await readJson(path.join(dir, 'baselines/pre.json')), `${prefix}Road`).attributes).toEqual({
      property_keys: ['road_id'],
    });
    const rolled = await kfm(['rollback', dir], env);
    expect(rolled.code, rolled.stderr.slice(-1500)).toBe(0);
    expect(await count(owns)).toBe(before);
    const after = await readJson(path.join(dir, 'baselines/after_rollback.json'));
    expect(labelObject(after, `${prefix}Road`).attributes).toEqual({ property_keys: ['road_id'] });
  });
});
