// Baseline capture on the real cluster: determinism, volatile values outside digests, a constant
// number of requests however many indices exist, protected fingerprints, hidden indices excluded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureWith, createSearchClient, type SearchRest, type ServerInfo } from '../src/index.js';
import { adminRest, cleanup, ENGINE, ES_URL, PRODUCT, uniquePrefix } from './cluster.js';

const prefix = uniquePrefix();
const admin = adminRest();
const body = (analyzer = 'standard') => ({
  settings: {
    number_of_shards: 1,
    number_of_replicas: 0,
    analysis: { analyzer: { folded: { type: 'custom', tokenizer: analyzer, filter: ['lowercase'] } } },
  },
  mappings: { properties: { title: { type: 'text', analyzer: 'folded' }, code: { type: 'keyword' } } },
});

describe('captureSearchBaseline on a real cluster', () => {
  let v: ServerInfo;
  beforeAll(async () => {
    v = await admin.rest.info();
    // the engine the project under test names, or this run proves nothing about it
    expect(v.engine).toBe(ENGINE);
    await admin.rest.request('PUT', `/${prefix}books_a`, { body: body() });
    await admin.rest.request('PUT', `/${prefix}books_b`, { body: body() });
    await admin.rest.request('POST', '/_aliases', {
      body: { actions: [{ add: { index: `${prefix}books_a`, alias: `${prefix}books`, is_write_index: true } }] },
    });
    await admin.rest.request('PUT', `/_index_template/${prefix}logs`, {
      body: { index_patterns: [`${prefix}logs-*`], priority: 500, template: { settings: { number_of_replicas: 0 } } },
    });
    await admin.rest.request('PUT', `/_ingest/pipeline/${prefix}stamp`, {
      body: { description: 'test', processors: [{ set: { field: 'stamped', value: true } }] },
    });
    await admin.rest
      .request('POST', `/${prefix}books_a/_bulk`, { query: { refresh: 'true' }, body: undefined })
      .catch(() => undefined);
    await admin.rest.request('PUT', `/${prefix}books_a/_doc/1`, {
      body: { title: 'Émile', code: 'x' },
      query: { refresh: 'true' },
    });
    await admin.rest.request('PUT', `/.${prefix}hidden`, {
      body: { settings: { 'index.hidden': true, number_of_replicas: 0 } },
    });
  });
  afterAll(async () => {
    await cleanup(prefix);
    await admin.close();
  });

  it('gives the same fingerprint for the same state, and lists every object kind', async () => {
    const options = { indexPattern: `${prefix}*`, protected: { indices: [`${prefix}books_b`] } };
    const first = await captureWith(admin.rest, v, options);
    const second = await captureWith(admin.rest, v, options);
    expect(second).toEqual(first);
    expect(first.store).toBe('search');
    expect(first.server).toEqual({ product: PRODUCT, version: v.version });
    expect(first.objects.map((o) => `${o.kind}:${o.name}`)).toEqual([
      `alias:${prefix}books->${prefix}books_a`,
      `analyzer:${prefix}books_a/folded`,
      `analyzer:${prefix}books_b/folded`,
      `index:${prefix}books_a`,
      `index:${prefix}books_b`,
      `index_template:${prefix}logs`,
      `pipeline:${prefix}stamp`,
    ]);
    expect(first.counts).toEqual({
      indices: 2,
      aliases: 1,
      index_templates: 1,
      component_templates: 0,
      pipelines: 1,
      analyzers: 2,
    });
    expect(first.measures?.docs).toEqual({ [`${prefix}books_a`]: 1, [`${prefix}books_b`]: 0 });
    const alias = first.objects.find((o) => o.kind === 'alias')!;
    expect(alias.scope).toEqual({ aliases: [`${prefix}books`], indices: [`${prefix}books_a`] });
    expect(alias.attributes).toMatchObject({ is_write_index: true });
    expect(first.protected?.objects).toEqual([`analyzer:${prefix}books_b/folded`, `index:${prefix}books_b`]);
  });

  it('keeps uuids, creation dates and version stamps out of digests', async () => {
    const before = await captureWith(admin.rest, v, { indexPattern: `${prefix}*` });
    const digestOf = (baseline: typeof before, name: string) =>
      baseline.objects.find((o) => o.kind === 'index' && o.name === name)!.digest;
    // two indices created at different times with different uuids, same definition
    expect(digestOf(before, `${prefix}books_a`)).toBe(digestOf(before, `${prefix}books_b`));
    // dropping and recreating an index changes its uuid and creation_date, not the baseline
    await admin.rest.request('DELETE', `/${prefix}books_b`);
    await admin.rest.request('PUT', `/${prefix}books_b`, { body: body() });
    const after = await captureWith(admin.rest, v, { indexPattern: `${prefix}*` });
    expect(after.fingerprints.schema).toBe(before.fingerprints.schema);
    // a real definition change does move the fingerprint
    await admin.rest.request('PUT', `/${prefix}books_b/_mapping`, {
      body: { properties: { extra: { type: 'keyword' } } },
    });
    const changed = await captureWith(admin.rest, v, { indexPattern: `${prefix}*` });
    expect(changed.fingerprints.schema).not.toBe(before.fingerprints.schema);
    expect(digestOf(changed, `${prefix}books_b`)).not.toBe(digestOf(before, `${prefix}books_b`));
  });

  it('moves the protected fingerprint only when a protected object changes', async () => {
    const options = { indexPattern: `${prefix}*`, protected: { indices: [`${prefix}books_a`] } };
    const before = await captureWith(admin.rest, v, options);
    await admin.rest.request('PUT', `/${prefix}books_b/_settings`, {
      body: { index: { number_of_replicas: 0, refresh_interval: '5s' } },
    });
    const other = await captureWith(admin.rest, v, options);
    expect(other.fingerprints.schema).not.toBe(before.fingerprints.schema);
    expect(other.fingerprints.protected).toBe(before.fingerprints.protected);
    await admin.rest.request('POST', '/_aliases', {
      body: { actions: [{ add: { index: `${prefix}books_a`, alias: `${prefix}extra` } }] },
    });
    const touched = await captureWith(admin.rest, v, options);
    expect(touched.fingerprints.protected).not.toBe(before.fingerprints.protected);
  });

  it('digests protected documents with the index identity: an overwrite and a recreated index are changes', async () => {
    const index = `${prefix}books_c`;
    const options = { indexPattern: `${prefix}*`, protected: { indices: [index] } };
    const put = (title: string) =>
      admin.rest.request('PUT', `/${index}/_doc/1`, { body: { title, code: 'x' }, query: { refresh: 'true' } });
    await admin.rest.request('PUT', `/${index}`, { body: body() });
    await put('Émile');
    const before = await captureWith(admin.rest, v, options);
    expect(before.protected?.content?.[index]).toMatch(/^bagaaiera/);
    expect((await captureWith(admin.rest, v, options)).protected?.content).toEqual(before.protected?.content);
    // Same document count, same mappings: only the content moved.
    await put('Emile');
    const overwritten = await captureWith(admin.rest, v, options);
    expect(overwritten.measures?.docs).toEqual(before.measures?.docs);
    expect(overwritten.fingerprints.schema).toBe(before.fingerprints.schema);
    expect(overwritten.protected?.content?.[index]).not.toBe(before.protected?.content?.[index]);
    // Deleted and recreated with the same document: another index.
    await admin.rest.request('DELETE', `/${index}`);
    await admin.rest.request('PUT', `/${index}`, { body: body() });
    await put('Emile');
    const recreated = await captureWith(admin.rest, v, options);
    expect(recreated.protected?.content?.[index]).not.toBe(overwritten.protected?.content?.[index]);
    await admin.rest.request('DELETE', `/${index}`);
  });

  it('uses a fixed number of requests however many indices exist, and skips hidden indices', async () => {
    const counted = (rest: SearchRest) => {
      const calls: string[] = [];
      return {
        calls,
        rest: {
          request: (method: string, path: string, spec?: object) => {
            calls.push(`${method} ${path}`);
            return rest.request(method, path, spec as never);
          },
        } as SearchRest,
      };
    };
    const few = counted(admin.rest);
    await captureWith(few.rest, v, { indexPattern: `${prefix}*` });
    for (let i = 0; i < 6; i++) await admin.rest.request('PUT', `/${prefix}many_${i}`, { body: body() });
    const many = counted(admin.rest);
    const baseline = await captureWith(many.rest, v, { indexPattern: `${prefix}*` });
    expect(baseline.counts.indices).toBe(8);
    expect(many.calls.length).toBe(few.calls.length);
    expect(many.calls.length).toBeLessThanOrEqual(8);
  });

  it('counts top-level documents, nested objects apart, each checked against _count', async () => {
    const nested = `${prefix}nested_docs`;
    const flat = `${prefix}flat_docs`;
    await admin.rest.request('PUT', `/${nested}`, {
      body: {
        settings: { number_of_shards: 1, number_of_replicas: 0 },
        mappings: { properties: { owners: { type: 'nested', properties: { name: { type: 'keyword' } } } } },
      },
    });
    await admin.rest.request('PUT', `/${flat}`, { body: body() });
    for (let i = 0; i < 3; i++)
      await admin.rest.request('PUT', `/${nested}/_doc/${i}`, {
        body: { owners: [{ name: 'a' }, { name: 'b' }] },
        query: { refresh: 'true' },
      });
    for (let i = 0; i < 4; i++)
      await admin.rest.request('PUT', `/${flat}/_doc/${i}`, {
        body: { title: 't', code: 'c' },
        query: { refresh: 'true' },
      });
    const baseline = await captureWith(admin.rest, v, { indexPattern: `${prefix}*` });
    for (const index of [nested, flat]) {
      const counted = await admin.rest.request<{ count: number }>('GET', `/${index}/_count`);
      expect(baseline.measures?.docs?.[index]).toBe(counted?.count);
    }
    expect(baseline.measures?.docs?.[nested]).toBe(3); // 9 Lucene documents: 3 parents, 6 nested objects
    await admin.rest.request('DELETE', `/${nested},${flat}`);
  });

  it('leaves hidden and system indices out of a cluster-wide baseline', async () => {
    const whole = await captureWith(admin.rest, v, {});
    const names = whole.objects.flatMap((o) => [o.name, ...(o.scope.indices ?? [])]);
    expect(names).toContain(`${prefix}books_a`);
    expect(names.filter((name) => name.startsWith('.'))).toEqual([]);
    expect(Object.keys(whole.measures?.docs ?? {}).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('captures through a fresh client with the same result', async () => {
    const client = createSearchClient(ES_URL);
    try {
      const viaClient = await captureWith(client, v, { indexPattern: `${prefix}*` });
      const viaAdmin = await captureWith(admin.rest, v, { indexPattern: `${prefix}*` });
      expect(viaClient.fingerprints).toEqual(viaAdmin.fingerprints);
    } finally {
      await client.close();
    }
  });
});
