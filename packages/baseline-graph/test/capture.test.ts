// Baseline capture against the real Neo4j, inside one test namespace seeded with the demo graph.
import { validateValue, type Baseline } from '@kfm/migration-contracts';
import type { Driver } from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureGraphBaseline, type GraphBaselineOptions } from '../src/index.js';
import { countOf, declarationFor, openDriver, run, testNamespace } from './neo4j-harness.js';

const ns = testNamespace();
const n = ns.name;
let driver: Driver;

function options(extra: Partial<GraphBaselineOptions> = {}): GraphBaselineOptions {
  return { labelPrefix: ns.prefix, declaration: declarationFor(ns), capturedAt: '2026-03-06T00:00:00.000Z', ...extra };
}

const capture = (extra: Partial<GraphBaselineOptions> = {}) => captureGraphBaseline(driver, options(extra));

/** A label's log2 degree histogram counted by hand, one Cypher query for the label alone. */
async function histogram(label: string, arrow: string): Promise<Record<string, number>> {
  const rows = await run(driver, `MATCH (x:\`${label}\`) WITH COUNT { ${arrow} } AS d RETURN d, count(*) AS c`);
  const byBucket: Record<string, number> = {};
  for (const row of rows) {
    const d = Number(row.d);
    const k = Math.floor(Math.log2(d));
    const bucket = d === 0 ? '0' : d === 1 ? '1' : `${2 ** k}-${2 ** (k + 1) - 1}`;
    byBucket[bucket] = (byBucket[bucket] ?? 0) + Number(row.c);
  }
  return byBucket;
}

beforeAll(async () => {
  driver = openDriver();
  await ns.seed(driver);
});

afterAll(async () => {
  await ns.clear(driver);
  await driver.close();
});

describe('captureGraphBaseline', () => {
  it('is deterministic and valid against baseline.v1', async () => {
    const first = await capture();
    const second = await capture();
    expect(second).toEqual(first);
    expect(JSON.stringify(second)).toBe(JSON.stringify(first));
    expect(validateValue('baseline.v1', first)).toEqual([]);
    expect(first.store).toBe('graph');
    expect(first.server.product).toBe('Neo4j');
    expect(first.server.version).toMatch(/^5\./);
  });

  it('counts labels, relationship types and patterns as the graph holds them', async () => {
    const baseline = await capture();
    const parcels = await countOf(driver, `MATCH (p:\`${n('Parcel')}\`) RETURN count(p) AS count`);
    const owns = await countOf(driver, `MATCH ()-[r:\`${n('OWNS')}\`]->() RETURN count(r) AS count`);
    expect(parcels).toBe(2000);
    expect(baseline.counts[`label:${n('Parcel')}`]).toBe(parcels);
    expect(baseline.counts[`relationship_type:${n('OWNS')}`]).toBe(owns);
    expect(baseline.counts[`pattern:(${n('Parcel')})-[${n('OWNS')}]->(${n('Owner')})`]).toBe(owns);
    expect(baseline.counts[`pattern:(${n('Parcel')})-[${n('WITHIN')}]->(${n('AuthoritySite')})`]).toBe(50);
    expect(baseline.counts.labels).toBe(4);
    expect(baseline.counts.relationship_types).toBe(3);
    expect(baseline.counts.nodes).toBe(2000 + 500 + 20 + 48);
    expect(baseline.counts.relationships).toBe(2200 + 2000 + 50);
    // Nothing of another namespace, nor the runner's own labels, is in scope.
    expect(Object.keys(baseline.counts).filter((key) => key.includes(':') && !key.includes(ns.prefix))).toEqual([]);
  });

  it('describes labels and types by their property keys, and relationship types by the label pairs they connect', async () => {
    const baseline = await capture();
    const parcel = baseline.objects.find((o) => o.kind === 'label' && o.name === n('Parcel'));
    expect(parcel?.attributes).toEqual({ property_keys: ['area_m2', 'parcel_id'] });
    expect(parcel?.scope).toEqual({ labels: [n('Parcel')] });
    const owns = baseline.objects.find((o) => o.kind === 'relationship_type' && o.name === n('OWNS'));
    expect(owns?.attributes).toEqual({ property_keys: ['share'], patterns: [[n('Parcel'), n('Owner')]] });
    expect(owns?.scope).toEqual({ relationship_types: [n('OWNS')] });
  });

  it('computes log2 degree histograms in the database', async () => {
    const baseline = await capture();
    // Parcels: 1 or 2 OWNS + 1 DERIVED_FROM (+ 1 WITHIN for every 40th) → buckets 2-3 and 4-7.
    const parcelOut = baseline.measures?.[`degree_out:${n('Parcel')}`];
    expect(parcelOut).toEqual(await histogram(n('Parcel'), '(x)-->()'));
    expect(Object.keys(parcelOut ?? {})).toEqual(['2-3', '4-7']);
    expect(Object.values(parcelOut ?? {}).reduce((a: number, b) => a + (b ?? 0), 0)).toBe(2000);
    expect(baseline.measures?.[`degree_in:${n('Parcel')}`]).toEqual({ '0': 2000 });
    expect(baseline.measures?.[`degree_in:${n('Owner')}`]).toEqual(await histogram(n('Owner'), '(x)<--()'));
    expect(baseline.measures?.[`degree_out:${n('Owner')}`]).toEqual({ '0': 500 });
  });

  it('gives every label of a node carrying several its degrees and keys, from one pass over them all', async () => {
    // 30 nodes Layer:Tile {z}, 20 Layer {a}, 10 Tile {b}; every Layer-only node points at 1–3 of the shared ones.
    const [layer, tile, link] = [n('Layer'), n('Tile'), n('LINKS')];
    await run(
      driver,
      `UNWIND range(1, 30) AS i CREATE (:\`${layer}\`:\`${tile}\` {z: i})
       WITH count(*) AS made UNWIND range(1, 20) AS i CREATE (:\`${layer}\` {a: i})
       WITH count(*) AS made UNWIND range(1, 10) AS i CREATE (:\`${tile}\` {b: i})`,
    );
    await run(
      driver,
      `MATCH (from:\`${layer}\`) WHERE from.a IS NOT NULL MATCH (to:\`${layer}\`:\`${tile}\`) WHERE to.z <= from.a % 3 + 1
       CREATE (from)-[:\`${link}\`]->(to)`,
    );
    try {
      const baseline = await capture({ full: true });
      for (const label of [layer, tile]) {
        expect(baseline.measures?.[`degree_out:${label}`]).toEqual(await histogram(label, '(x)-->()'));
        expect(baseline.measures?.[`degree_in:${label}`]).toEqual(await histogram(label, '(x)<--()'));
      }
      expect(baseline.counts[`label:${layer}`]).toBe(50);
      expect(baseline.counts[`label:${tile}`]).toBe(40);
      const keys = (name: string) => baseline.objects.find((o) => o.kind === 'label' && o.name === name)?.attributes;
      expect(keys(layer)).toEqual({ property_keys: ['a', 'z'] });
      expect(keys(tile)).toEqual({ property_keys: ['b', 'z'] });
      // Scoped to Tile alone, Tile keeps the same histograms; Layer is counted only.
      const scoped = await capture({ declaration: { ...declarationFor(ns), scope: { allowed_labels: [tile] } } });
      expect(scoped.measures?.[`degree_in:${tile}`]).toEqual(baseline.measures?.[`degree_in:${tile}`]);
      expect(scoped.measures?.[`degree_in:${layer}`]).toBeUndefined();
      // Nodes in the namespace, each once however many of its labels it carries (30 carry two), counted by
      // hand over every node in the database: the full capture takes the figure from its detail scan, the
      // scoped one from the label index; a node of another namespace is in neither.
      await run(driver, 'CREATE (:`OtherNamespace_Tile` {b: 0})');
      const hand = await countOf(
        driver,
        'MATCH (x) WHERE any(label IN labels(x) WHERE label STARTS WITH $prefix) RETURN count(x) AS count',
        { prefix: ns.prefix },
      );
      expect(hand).toBe(baseline.counts.nodes);
      expect((await capture({ full: true })).counts.nodes).toBe(hand);
      expect(
        (await capture({ declaration: { ...declarationFor(ns), scope: { allowed_labels: [tile] } } })).counts.nodes,
      ).toBe(hand);
      expect(hand).toBe(2000 + 500 + 20 + 48 + 30 + 20 + 10);
    } finally {
      await run(driver, `MATCH (x) WHERE x:\`${layer}\` OR x:\`${tile}\` OR x:OtherNamespace_Tile DETACH DELETE x`);
    }
  });

  it('passes the declared invariants on the seed', async () => {
    const baseline = await capture();
    expect(baseline.invariants?.map((check) => [check.name, check.status])).toEqual([
      [`invariant.provenance_not_orphaned:${n('Provenance')}`, 'pass'],
      [`invariant.required_relationship:(${n('Parcel')})-[${n('DERIVED_FROM')}]->`, 'pass'],
      [`invariant.exclusive_labels:${n('Parcel')}+${n('Owner')}`, 'pass'],
    ]);
  });

  it('fails the invariants when provenance is orphaned, a required edge is missing or labels collide', async () => {
    await run(driver, `CREATE (:\`${n('Provenance')}\` {source_id: 'S-orphan'})`);
    await run(driver, `MATCH (p:\`${n('Parcel')}\` {parcel_id: 'P-5'})-[r:\`${n('DERIVED_FROM')}\`]->() DELETE r`);
    await run(driver, `MATCH (p:\`${n('Parcel')}\` {parcel_id: 'P-6'}) SET p:\`${n('Owner')}\``);
    try {
      const checks = (await capture()).invariants ?? [];
      expect(checks.map((c) => [c.status, c.code, c.observed])).toEqual([
        ['fail', 'INVARIANT_FAILED', 1],
        ['fail', 'INVARIANT_FAILED', 1],
        ['fail', 'INVARIANT_FAILED', 1],
      ]);
      expect(checks[0]?.message).toContain('orphaned');
    } finally {
      await run(driver, `MATCH (p:\`${n('Provenance')}\` {source_id: 'S-orphan'}) DELETE p`);
      await run(
        driver,
        `MATCH (p:\`${n('Parcel')}\` {parcel_id: 'P-5'}), (s:\`${n('Provenance')}\` {source_id: 'S-5'}) CREATE (p)-[:\`${n('DERIVED_FROM')}\` {method: 'survey'}]->(s)`,
      );
      await run(driver, `MATCH (p:\`${n('Parcel')}\` {parcel_id: 'P-6'}) REMOVE p:\`${n('Owner')}\``);
    }
    expect((await capture()).invariants?.every((check) => check.status === 'pass')).toBe(true);
  });

  it('moves the protected fingerprint when a protected node changes, and only then', async () => {
    const before = await capture();
    expect(before.protected?.content?.[n('AuthoritySite')]).toMatch(/^b/);
    expect(before.fingerprints.protected).toMatch(/^b/);

    // A change elsewhere (an Owner's name) leaves the protected fingerprint alone.
    await run(driver, `MATCH (o:\`${n('Owner')}\` {owner_id: 'O-1'}) SET o.name = 'Renamed'`);
    const elsewhere = await capture();
    expect(elsewhere.fingerprints.protected).toBe(before.fingerprints.protected);

    await run(driver, `MATCH (a:\`${n('AuthoritySite')}\` {site_id: 'A-3'}) SET a.authority = 'state'`);
    const changed = await capture();
    expect(changed.fingerprints.protected).not.toBe(before.fingerprints.protected);
    expect(changed.protected?.content?.[n('AuthoritySite')]).not.toBe(before.protected?.content?.[n('AuthoritySite')]);
    // A property value is data: the schema fingerprint does not move.
    expect(changed.fingerprints.schema).toBe(before.fingerprints.schema);

    // Restoring the value restores the digest: the hash is over content, not node ids or order.
    await run(driver, `MATCH (a:\`${n('AuthoritySite')}\` {site_id: 'A-3'}) SET a.authority = 'county-3'`);
    await run(driver, `MATCH (o:\`${n('Owner')}\` {owner_id: 'O-1'}) SET o.name = 'Owner 1'`);
    expect((await capture()).fingerprints).toEqual(before.fingerprints);
  });

  it('hashes protected nodes with their identity, exact value types and relationship endpoints', async () => {
    const before = await capture();
    const site = n('AuthoritySite');
    // Delete and re-create one protected node with the same content and relationships: another node.
    const [original] = await run(
      driver,
      `MATCH (a:\`${site}\` {site_id: 'A-0'}) RETURN properties(a) AS props, elementId(a) AS id, COLLECT { MATCH (p)-[:\`${n('WITHIN')}\`]->(a) RETURN p.parcel_id } AS parcels`,
    );
    await run(driver, `MATCH (a:\`${site}\` {site_id: 'A-0'}) DETACH DELETE a`);
    await run(
      driver,
      `CREATE (a:\`${site}\`) SET a = $props WITH a MATCH (p:\`${n('Parcel')}\`) WHERE p.parcel_id IN $parcels CREATE (p)-[:\`${n('WITHIN')}\`]->(a)`,
      { props: original?.props, parcels: original?.parcels },
    );
    const recreated = await capture();
    expect(recreated.protected?.content).not.toEqual(before.protected?.content);
    expect(recreated.counts).toEqual(before.counts);

    // An integer turned into the equal float is a change.
    await run(driver, `MATCH (a:\`${site}\` {site_id: 'A-1'}) SET a.rank = 1`);
    const integer = await capture();
    await run(driver, `MATCH (a:\`${site}\` {site_id: 'A-1'}) SET a.rank = 1.0`);
    expect((await capture()).protected?.content).not.toEqual(integer.protected?.content);

    // A relationship moved to another parcel keeps every count but not the digest.
    const moved = await capture();
    await run(
      driver,
      `MATCH (p:\`${n('Parcel')}\`)-[r:\`${n('WITHIN')}\`]->(a:\`${site}\` {site_id: 'A-1'}) WITH p, r, a LIMIT 1 DELETE r WITH a MATCH (q:\`${n('Parcel')}\`) WHERE NOT (q)-[:\`${n('WITHIN')}\`]->(a) WITH q, a LIMIT 1 CREATE (q)-[:\`${n('WITHIN')}\`]->(a)`,
    );
    const after = await capture();
    expect(after.counts).toEqual(moved.counts);
    expect(after.protected?.content).not.toEqual(moved.protected?.content);
  });

  it('adds constraints and indexes as objects named by what they enforce, and they move the schema fingerprint', async () => {
    const before: Baseline = await capture();
    await run(
      driver,
      `CREATE CONSTRAINT \`${n('parcel_id_unique')}\` FOR (p:\`${n('Parcel')}\`) REQUIRE p.parcel_id IS UNIQUE`,
    );
    await run(driver, `CREATE INDEX \`${n('owner_name')}\` FOR (o:\`${n('Owner')}\`) ON (o.name)`);
    try {
      const after = await capture();
      const added = after.objects
        .filter((o) => o.kind === 'constraint' || o.kind === 'index')
        .map((o) => [o.kind, o.name, o.scope]);
      expect(added).toEqual([
        ['constraint', `UNIQUENESS (:${n('Parcel')} {parcel_id})`, { labels: [n('Parcel')] }],
        ['index', `RANGE (:${n('Owner')} {name})`, { labels: [n('Owner')] }],
      ]);
      expect(after.counts.constraints).toBe(1);
      expect(after.counts.indexes).toBe(1);
      expect(after.fingerprints.schema).not.toBe(before.fingerprints.schema);
    } finally {
      await run(driver, `DROP CONSTRAINT \`${n('parcel_id_unique')}\``);
      await run(driver, `DROP INDEX \`${n('owner_name')}\``);
    }
    expect((await capture()).fingerprints.schema).toBe(before.fingerprints.schema);
  });
});

describe('detail follows the declaration', () => {
  // Two labels and a type no declaration names: a road network beside the parcels.
  const road = n('Road');
  const junction = n('Junction');
  const near = n('CONNECTS');
  const extra = async () => {
    await run(
      driver,
      `UNWIND range(1, 300) AS i
       CREATE (r:\`${road}\` {road_id: i})-[:\`${near}\` {m: i}]->(:\`${junction}\` {j: i})`,
    );
  };
  const drop = () => run(driver, `MATCH (x) WHERE x:\`${road}\` OR x:\`${junction}\` DETACH DELETE x`);

  it('counts what the declaration does not name from the count store, and looks closely at the rest', async () => {
    await extra();
    try {
      const scoped = await capture();
      const full = await capture({ full: true });
      const object = (b: Baseline, kind: string, name: string) =>
        b.objects.find((o) => o.kind === kind && o.name === name);
      // Not named: counted, no keys, no histograms, no patterns; the counts are what Cypher counts.
      expect(object(scoped, 'label', road)?.attributes).toEqual({ detail: 'counted' });
      expect(object(scoped, 'relationship_type', near)?.attributes).toEqual({ detail: 'counted' });
      expect(scoped.counts[`label:${road}`]).toBe(
        await countOf(driver, `MATCH (x:\`${road}\`) RETURN count(x) AS count`),
      );
      expect(scoped.counts[`relationship_type:${near}`]).toBe(300);
      expect(scoped.measures?.[`degree_out:${road}`]).toBeUndefined();
      expect(Object.keys(scoped.counts).filter((key) => key.includes(near) && key.startsWith('pattern:'))).toEqual([]);
      // Named (allowed, forbidden, protected, in an invariant): exactly what a full capture says.
      for (const name of [n('Parcel'), n('Owner'), n('AuthoritySite'), n('Provenance')]) {
        expect(object(scoped, 'label', name)).toEqual(object(full, 'label', name));
        expect(scoped.measures?.[`degree_out:${name}`]).toEqual(full.measures?.[`degree_out:${name}`]);
      }
      expect(object(scoped, 'relationship_type', n('OWNS'))).toEqual(object(full, 'relationship_type', n('OWNS')));
      expect(scoped.fingerprints.protected).toBe(full.fingerprints.protected);
      // --full looks at everything.
      expect(object(full, 'label', road)?.attributes).toEqual({ property_keys: ['road_id'] });
      expect(full.measures?.[`degree_out:${road}`]).toEqual({ '1': 300 });
      expect(full.counts[`pattern:(${road})-[${near}]->(${junction})`]).toBe(300);
      expect(validateValue('baseline.v1', scoped)).toEqual([]);

      // What a counted label still shows: a node more or less. What it does not: a new property.
      await run(driver, `CREATE (:\`${road}\` {road_id: 0})`);
      expect((await capture()).counts[`label:${road}`]).toBe(301);
      await run(driver, `MATCH (r:\`${road}\`) SET r.toll = true`);
      const keysAdded = await capture();
      expect(object(keysAdded, 'label', road)).toEqual(object(scoped, 'label', road));
      expect(object(await capture({ full: true }), 'label', road)?.attributes).toEqual({
        property_keys: ['road_id', 'toll'],
      });
    } finally {
      await drop();
    }
  });

  it('captures at the detail of the baseline it will be compared with', async () => {
    await extra();
    try {
      const scoped = await capture();
      const full = await capture({ full: true });
      // Like a full baseline: full, even without --full. Like a scoped one: scoped, even with --full.
      expect(await capture({ like: full })).toEqual(full);
      expect(await capture({ like: scoped, full: true })).toEqual(scoped);
      // What the preflight predicts a script touches is looked at closely too…
      const predicted = await capture({ predicted: { labels: [road], relationship_types: [] } });
      const roadOf = (b: Baseline) => b.objects.find((o) => o.kind === 'label' && o.name === road);
      expect(roadOf(predicted)?.attributes).toEqual({ property_keys: ['road_id'] });
      expect(roadOf(predicted)).toEqual(roadOf(full));
      // …but a name the earlier baseline has keeps its detail there, so the two still compare.
      expect(await capture({ like: scoped, predicted: { labels: [road] } })).toEqual(scoped);
      expect(await capture({ like: predicted })).toEqual(predicted);
      // `like` needs no declaration: a status check whose declaration no longer loads still compares.
      expect(roadOf(await capture({ declaration: undefined, like: scoped }))).toEqual(roadOf(scoped));
      // Without a declaration there is nothing to scope by: full.
      const undeclared = await capture({ declaration: undefined });
      expect(undeclared.objects.some((o) => (o.attributes as { detail?: string })?.detail)).toBe(false);
    } finally {
      await drop();
    }
  });
});
