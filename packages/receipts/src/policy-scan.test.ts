import { describe, expect, it } from 'vitest';
import { canonicalJson, cidOfBytes, cidOfJson } from './digest.js';
import { assertPolicySafe, policyFindingToIssue, scanArtifact } from './policy-scan.js';

/** A baseline as the PostGIS capture writes it: many digests, counts, geometry column types, no data. */
async function realisticBaseline(): Promise<string> {
  const objects = [];
  for (let i = 0; i < 150; i++) {
    const table = `public.parcels_${String(i).padStart(3, '0')}`;
    objects.push({
      kind: 'table',
      name: table,
      scope: { schemas: ['public'], tables: [table] },
      digest: await cidOfBytes(new TextEncoder().encode(table)),
      attributes: {
        columns: [
          { name: 'id', type: 'bigint', nullable: false },
          { name: 'geom', type: 'geometry(MultiPolygon,4326)' },
          { name: 'centroid', type: 'geometry(Point,4326)' },
          { name: 'site', type: 'geography(POINT,4326)' },
          { name: 'route', type: 'geometry(LineStringZ,26914)' },
          { name: 'latitude_band', type: 'integer' },
        ],
        indexes: [`CREATE INDEX ${table.slice(7)}_geom_idx ON ${table} USING gist (geom)`],
        constraints: [`CHECK (st_srid(geom) = 4326)`, `CHECK (geometrytype(geom) = 'MULTIPOLYGON'::text)`],
      },
    });
  }
  const baseline = {
    kfm_baseline_version: 'v1',
    store: 'postgis',
    server: { product: 'PostgreSQL', version: '15.8', extensions: { postgis: '3.3.2' } },
    counts: { tables: 150, indexes: 150, constraints: 300, spatial_indexes: 150 },
    measures: { rows: { 'public.parcels_000': 1234567, 'public.parcels_001': 42 } },
    objects,
    fingerprints: { schema: await cidOfJson(objects), protected: await cidOfJson([]) },
    invariants: [
      { name: 'spatial_index:public.parcels_000.geom', status: 'pass', rule: 'invariant', declared: 1, observed: 1 },
    ],
    mappings: { location: { type: 'geo_point' }, shape: { type: 'geo_shape' } },
    connection: { url_variable: 'KFM_PG_DSN', server: 'postgres://127.0.0.1:5432/kfm' },
  };
  return canonicalJson(baseline);
}

describe('scanArtifact', () => {
  it('passes a realistic baseline: CIDs, counts, geometry(MultiPolygon,4326) column types and SRID checks are not hits', async () => {
    const text = await realisticBaseline();
    expect(text).toContain('geometry(MultiPolygon,4326)');
    expect(text).toMatch(/bafkrei[a-z2-7]{50}/);
    expect(text).toMatch(/bagaaiera[a-z2-7]{50}/);
    const result = await scanArtifact('baselines/pre.json', text);
    expect(result).toEqual({ ok: true, findings: [] });
  });

  it('passes CSV and notes that talk about geometry without coordinates', async () => {
    expect(
      (
        await scanArtifact(
          'diffs/touched.csv',
          'kind,name,change\ncolumn,public.parcels.geom,modified\nindex,public.parcels_geom_idx,added\n',
        )
      ).ok,
    ).toBe(true);
    expect(
      (
        await scanArtifact(
          'notes.md',
          '# Notes\nAdds a GiST index on `geom` (geometry(Polygon,4326)). Connection from $KFM_PG_DSN.\n',
        )
      ).ok,
    ).toBe(true);
  });

  const hits: { rule: string; name: string; secret: string; text: (secret: string) => string }[] = [
    {
      rule: 'kfm/dsn-with-credentials',
      name: 'postgres',
      secret: 'postgres://kfm_admin:S3cr3tPass@db.internal:5432/kfm',
      text: (s) => `{"dsn":"${s}"}`,
    },
    {
      rule: 'kfm/dsn-with-credentials',
      name: 'postgresql+psycopg',
      secret: 'postgresql+psycopg://u:hunter2@10.0.0.5/db',
      text: (s) => `url = ${s}\n`,
    },
    {
      rule: 'kfm/dsn-with-credentials',
      name: 'bolt',
      secret: 'bolt://neo4j:n3o4jPassw0rd@graph:7687',
      text: (s) => `line one\nuri: ${s}\n`,
    },
    {
      rule: 'kfm/dsn-with-credentials',
      name: 'neo4j+s',
      secret: 'neo4j+s://neo4j:abcDEF123@graph.example.org',
      text: (s) => s,
    },
    {
      rule: 'kfm/dsn-with-credentials',
      name: 'https',
      secret: 'https://elastic:changeme99@es.local:9200',
      text: (s) => `{"es":"${s}/_cat"}`,
    },
    {
      rule: 'kfm/dsn-with-credentials',
      name: 'mongodb+srv',
      secret: 'mongodb+srv://app:Zx9Qw8Er7@cluster0.mongodb.net/test',
      text: (s) => s,
    },
    {
      rule: 'kfm/dsn-with-credentials',
      name: 'redis empty user',
      secret: 'redis://:r3d1sPass@cache:6379',
      text: (s) => s,
    },
    {
      rule: 'kfm/dsn-with-credentials',
      name: 'libpq keywords',
      secret: 'password=Tr0ub4dor',
      text: (s) => `host=db user=kfm ${s} dbname=kfm`,
    },
    {
      rule: 'kfm/wkt-coordinates',
      name: 'POINT',
      secret: 'POINT(-95.6789 39.0123)',
      text: (s) => `{"default":"st_geomfromtext('${s}', 4326)"}`,
    },
    {
      rule: 'kfm/wkt-coordinates',
      name: 'EWKT',
      secret: 'SRID=4326;POINT(-95.6789 39.0123)',
      text: (s) => `{"sample":"${s}"}`,
    },
    { rule: 'kfm/wkt-coordinates', name: 'LINESTRING Z', secret: 'LINESTRING Z (1.5 2.5 3, 4 5 6)', text: (s) => s },
    {
      rule: 'kfm/wkt-coordinates',
      name: 'POLYGON',
      secret: 'polygon((-95.1 39.1, -95.2 39.2, -95.3 39.1, -95.1 39.1))',
      text: (s) => `x ${s}`,
    },
    { rule: 'kfm/wkt-coordinates', name: 'MULTIPOLYGON', secret: 'MULTIPOLYGON(((1 1,2 2,3 1,1 1)))', text: (s) => s },
    {
      rule: 'kfm/wkt-coordinates',
      name: 'GEOMETRYCOLLECTION',
      secret: 'GEOMETRYCOLLECTION(POINT(4 6),LINESTRING(4 6,7 10))',
      text: (s) => s,
    },
    {
      rule: 'kfm/geojson-coordinates',
      name: 'Point',
      secret: '[-95.6789, 39.0123]',
      text: (s) => `{"type":"Point","coordinates":${s}}`,
    },
    {
      rule: 'kfm/geojson-coordinates',
      name: 'Polygon',
      secret: '[[[-95.1,39.1],[-95.2,39.2],[-95.1,39.1]]]',
      text: (s) => `{\n  "type": "Polygon",\n  "coordinates": ${s}\n}`,
    },
    {
      rule: 'kfm/lat-lon-pair',
      name: 'json',
      secret: '39.0123',
      text: (s) => `{"id":7,"lat":${s},"name":"site","lon":-95.6789}`,
    },
    {
      rule: 'kfm/lat-lon-pair',
      name: 'yaml',
      secret: '39.0123',
      text: (s) => `site:\n  latitude: ${s}\n  longitude: -95.6789\n`,
    },
    { rule: 'kfm/lat-lon-pair', name: 'csv', secret: '39.0123', text: (s) => `id,lat,lng\n1,${s},-95.6789\n` },
    {
      rule: 'kfm/private-key',
      name: 'escaped PEM in JSON',
      secret: 'MIIEowIBAAKCAQEAv3a1',
      text: (s) => `{"key":"-----BEGIN RSA PRIVATE KEY-----\\n${s}\\n-----END RSA PRIVATE KEY-----"}`,
    },
    {
      rule: 'secretlint/github',
      name: 'GitHub token',
      secret: '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',
      text: (s) => `{"token_ref":"${s}"}`,
    },
    {
      rule: 'secretlint/aws',
      name: 'AWS access key id',
      secret: 'AKIAQWERTYUIOPASDFGH',
      text: (s) => `aws_access_key_id = ${s}\n`,
    },
    {
      rule: 'secretlint/slack',
      name: 'Slack token',
      secret: 'xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx',
      text: (s) => `notify: ${s}\n`,
    },
  ];

  it.each(hits)('catches $rule ($name) and never echoes the matched text', async ({ rule, secret, text }) => {
    const name = rule === 'kfm/lat-lon-pair' && text('').startsWith('id,') ? 'diffs/touched.csv' : 'artifact.txt';
    const result = await scanArtifact(name, text(secret));
    expect(result.ok).toBe(false);
    expect(result.findings.map((finding) => finding.rule)).toContain(rule);
    for (const finding of result.findings) {
      expect(finding.file).toBe(name);
      expect(finding.line).toBeGreaterThanOrEqual(1);
    }
    const serialized = JSON.stringify(result) + JSON.stringify(result.findings.map(policyFindingToIssue));
    expect(serialized).not.toContain(secret);
    expect(serialized).not.toContain(secret.slice(0, 12));
  });

  it('reports the line of the hit', async () => {
    const result = await scanArtifact('notes.md', 'one\ntwo\nthe old DSN was postgres://a:b@h/db\nfour\n');
    expect(result.findings).toEqual([
      { file: 'notes.md', rule: 'kfm/dsn-with-credentials', line: 3, message: expect.any(String) },
    ]);
  });

  it('does not take lone lat/lon keys, or lat/lon far apart, as a position', async () => {
    expect((await scanArtifact('a.json', '{"lat":39.0123,"count":3}')).ok).toBe(true);
    expect((await scanArtifact('b.json', `{"lat":39.0123,"pad":"${'x'.repeat(400)}","lon":-95.6}`)).ok).toBe(true);
    expect((await scanArtifact('c.json', '{"latency":12,"long_running":5}')).ok).toBe(true);
  });
});

describe('scanArtifact on a text it has scanned before', () => {
  // Past the memo's threshold (64 Ki characters): a run scans its large evidence more than once.
  const large = (tail: string) =>
    `${JSON.stringify({ objects: Array.from({ length: 8000 }, (_, i) => `object-${i}`) })}\n${tail}`;

  it('finds a secret added to a text whose clean version was scanned', async () => {
    const clean = large('');
    expect(clean.length).toBeGreaterThan(1 << 16);
    expect(await scanArtifact('pre.json', clean)).toEqual({ ok: true, findings: [] });
    const leaked = large('"url": "postgres://migrator:s3cret@db.internal:5432/kfm"');
    const result = await scanArtifact('pre.json', leaked);
    expect(result.ok).toBe(false);
    expect(result.findings).toContainEqual(expect.objectContaining({ rule: 'kfm/dsn-with-credentials', line: 2 }));
  });

  it('reports the same findings under each name the text is written at', async () => {
    const leaked = large('"url": "postgres://migrator:s3cret@db.internal:5432/kfm"');
    const first = await scanArtifact('runs/r1/post.json', leaked);
    const second = await scanArtifact('receipts/post.json', `${leaked}`);
    expect(second.findings).toEqual(first.findings.map((finding) => ({ ...finding, file: 'receipts/post.json' })));
    expect(first.findings.length).toBeGreaterThan(0);
  });

  it('scans the text again under another file type, whose rules differ', async () => {
    const rows = `id,lat,lon\n${Array.from({ length: 8000 }, (_, i) => `${i},x,y`).join('\n')}\n9001,51.5,-0.12\n`;
    expect((await scanArtifact('touched.txt', rows)).ok).toBe(true);
    const csv = await scanArtifact('touched.csv', rows);
    expect(csv.findings).toEqual([expect.objectContaining({ rule: 'kfm/lat-lon-pair', line: 8002 })]);
  });
});

describe('assertPolicySafe', () => {
  it('returns every finding across files, sorted by file and line', async () => {
    const result = await assertPolicySafe([
      { path: 'receipts/run_receipt.json', content: '{"env":"https://deployer:pw123456@es.kfm.org:9200"}' },
      { path: 'baselines/pre.json', content: await realisticBaseline() },
      { path: 'diffs/summary.json', content: '{\n"sample":"POINT(1 2)",\n"geo":{"coordinates":[1,2]}\n}' },
    ]);
    expect(result.ok).toBe(false);
    expect(result.findings.map((f) => `${f.file}:${f.line}:${f.rule}`)).toEqual([
      'diffs/summary.json:2:kfm/wkt-coordinates',
      'diffs/summary.json:3:kfm/geojson-coordinates',
      'receipts/run_receipt.json:1:kfm/dsn-with-credentials',
      'receipts/run_receipt.json:1:secretlint/basicauth',
    ]);
    expect(JSON.stringify(result)).not.toContain('pw123456');
  });

  it('is ok for clean files', async () => {
    expect(await assertPolicySafe([{ path: 'notes.md', content: 'nothing to see' }])).toEqual({
      ok: true,
      findings: [],
    });
  });
});
