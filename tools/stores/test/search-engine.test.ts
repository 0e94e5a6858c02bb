import { Client as ElasticsearchClient } from '@elastic/elasticsearch';
import { Client as OpenSearchClient } from '@opensearch-project/opensearch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ES_URL, runId, SEARCH_ENGINE } from './env.js';

// The same smoke test for both search engines tools/stores runs, each through its own client: the `store`
// project runs it against Elasticsearch, `store-opensearch` against OpenSearch (see vitest.config.ts).
// Everything this file creates starts with this prefix and is removed in afterAll.
const prefix = `kfm-smoke-${runId()}`;
// Both clients expose the same 7.x-style API surface used below; each is typed by its own package.
const client: any =
  SEARCH_ENGINE === 'opensearch' ? new OpenSearchClient({ node: ES_URL }) : new ElasticsearchClient({ node: ES_URL });

// The 7.x client wraps responses as { body, statusCode, headers }; 8.x returns the body. Accept both.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call<T = any>(p: Promise<unknown>): Promise<T> {
  const r = (await p) as Record<string, unknown>;
  return (r && typeof r === 'object' && 'body' in r && 'statusCode' in r ? r.body : r) as T;
}

/** What lowercase + asciifolding should do to a word, computed independently of Elasticsearch. */
const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

const created = { templates: [] as string[], components: [] as string[], pipelines: [] as string[] };

describe(`search engine: ${SEARCH_ENGINE}`, () => {
  beforeAll(async () => {
    const info = await call(client.info());
    expect(info.version.number).toMatch(/^\d+\.\d+\.\d+/);
    // the engine this project is meant to test, or the run proves nothing about it
    expect(info.version.distribution === 'opensearch' ? 'opensearch' : 'elasticsearch').toBe(SEARCH_ENGINE);
  });

  afterAll(async () => {
    await call(client.indices.delete({ index: `${prefix}*`, ignore_unavailable: true, expand_wildcards: 'all' }));
    for (const name of created.templates) await call(client.indices.deleteIndexTemplate({ name }));
    for (const name of created.components) await call(client.cluster.deleteComponentTemplate({ name }));
    for (const id of created.pipelines) await call(client.ingest.deletePipeline({ id }));
    const left = await call(client.cat.indices({ index: `${prefix}*`, format: 'json', expand_wildcards: 'all' }));
    expect(left).toEqual([]);
    await client.close();
  });

  it('serves the modules a full distribution has', async () => {
    const nodes = await call(client.nodes.info({ node_id: '_local', metric: 'plugins' }));
    const node = Object.values(nodes.nodes)[0] as { modules: Array<{ name: string }> };
    const modules = node.modules.map((m) => m.name);
    for (const m of ['analysis-common', 'lang-painless', 'reindex', 'mapper-extras', 'ingest-common']) {
      expect(modules).toContain(m);
    }
  });

  it('creates an index with settings, mappings and a custom lowercase+asciifolding analyzer', async () => {
    const index = `${prefix}-analyzed`;
    await call(
      client.indices.create({
        index,
        body: {
          settings: {
            number_of_shards: 1,
            number_of_replicas: 0,
            analysis: {
              analyzer: { folded: { type: 'custom', tokenizer: 'standard', filter: ['lowercase', 'asciifolding'] } },
            },
          },
          mappings: {
            dynamic: 'strict',
            properties: {
              name: { type: 'text', analyzer: 'folded', fields: { raw: { type: 'keyword' } } },
              price: { type: 'scaled_float', scaling_factor: 100 }, // mapper-extras
              tags: { type: 'keyword' },
            },
          },
        },
      }),
    );

    const text = 'Crème BRÛLÉE à Zürich Ångström';
    const analyzed = await call(client.indices.analyze({ index, body: { analyzer: 'folded', text } }));
    expect(analyzed.tokens.map((t: { token: string }) => t.token)).toEqual(text.split(/\s+/).map(fold));

    const settings = await call(client.indices.getSettings({ index }));
    expect(settings[index].settings.index.analysis.analyzer.folded.filter).toEqual(['lowercase', 'asciifolding']);
    const mapping = await call(client.indices.getMapping({ index }));
    expect(mapping[index].mappings.properties.name.analyzer).toBe('folded');
    expect(mapping[index].mappings.properties.price.type).toBe('scaled_float');

    const docs = [
      { name: 'Café Zürich', price: 12.5, tags: ['cafe'] },
      { name: 'Smörgåsbord', price: 30, tags: ['food'] },
      { name: 'Plain text', price: 1.25, tags: ['cafe'] },
    ];
    for (const [i, doc] of docs.entries()) await call(client.index({ index, id: String(i), body: doc }));
    await call(client.indices.refresh({ index }));

    // accent- and case-insensitive search through the custom analyzer
    const query = 'CAFE zurich';
    const res = await call(client.search({ index, body: { query: { match: { name: { query, operator: 'and' } } } } }));
    const words = query.split(/\s+/).map(fold);
    const expected = docs
      .filter((d) => words.every((w) => d.name.split(/\s+/).map(fold).includes(w)))
      .map((d) => d.name);
    expect(res.hits.hits.map((h: { _source: { name: string } }) => h._source.name)).toEqual(expected);

    // strict mapping rejects unknown fields
    await expect(call(client.index({ index, body: { nope: 1 } }))).rejects.toMatchObject({ statusCode: 400 });

    // aggregations over the mapped fields
    const aggs = await call(
      client.search({
        index,
        body: { size: 0, aggs: { by_tag: { terms: { field: 'tags' }, aggs: { total: { sum: { field: 'price' } } } } } },
      }),
    );
    const byTag = Object.fromEntries(
      aggs.aggregations.by_tag.buckets.map((b: { key: string; doc_count: number; total: { value: number } }) => [
        b.key,
        { n: b.doc_count, total: b.total.value },
      ]),
    );
    const want: Record<string, { n: number; total: number }> = {};
    for (const d of docs)
      for (const t of d.tags) {
        want[t] ??= { n: 0, total: 0 };
        want[t].n += 1;
        want[t].total += d.price;
      }
    expect(Object.keys(byTag).sort()).toEqual(Object.keys(want).sort());
    for (const k of Object.keys(want)) {
      expect(byTag[k].n).toBe(want[k].n);
      expect(byTag[k].total).toBeCloseTo(want[k].total, 2);
    }
  });

  it('swaps an alias atomically with _aliases remove+add', async () => {
    const v1 = `${prefix}-alias-v1`;
    const v2 = `${prefix}-alias-v2`;
    const alias = `${prefix}-alias`;
    for (const [index, marker] of [
      [v1, 'one'],
      [v2, 'two'],
    ]) {
      await call(client.indices.create({ index, body: { settings: { number_of_shards: 1, number_of_replicas: 0 } } }));
      await call(client.index({ index, id: 'm', body: { marker }, refresh: true }));
    }
    await call(client.indices.putAlias({ index: v1, name: alias }));

    const swap = await call(
      client.indices.updateAliases({
        body: { actions: [{ remove: { index: v1, alias } }, { add: { index: v2, alias, is_write_index: true } }] },
      }),
    );
    expect(swap.acknowledged).toBe(true);

    const got = await call(client.indices.getAlias({ name: alias }));
    expect(Object.keys(got)).toEqual([v2]);
    const doc = await call(client.get({ index: alias, id: 'm' }));
    expect(doc._index).toBe(v2);
    expect(doc._source.marker).toBe('two');

    // a failing action list is all-or-nothing: nothing changes
    await expect(
      call(
        client.indices.updateAliases({
          body: {
            actions: [
              { remove: { index: v2, alias } },
              { add: { index: v1, alias } },
              { remove_index: { index: `${prefix}-does-not-exist` } },
            ],
          },
        }),
      ),
    ).rejects.toMatchObject({ statusCode: 404 });
    expect(Object.keys(await call(client.indices.getAlias({ name: alias })))).toEqual([v2]);
  });

  it('runs _reindex with wait_for_completion=false and a painless script, tracked through the tasks API', async () => {
    const src = `${prefix}-reindex-src`;
    const dst = `${prefix}-reindex-dst`;
    const n = 250;
    const body = Array.from({ length: n }, (_, i) => [{ index: { _index: src, _id: String(i) } }, { n: i }]).flat();
    await call(
      client.indices.create({ index: src, body: { settings: { number_of_shards: 1, number_of_replicas: 0 } } }),
    );
    await call(
      client.indices.create({ index: dst, body: { settings: { number_of_shards: 1, number_of_replicas: 0 } } }),
    );
    const bulk = await call(client.bulk({ body, refresh: true }));
    expect(bulk.errors).toBe(false);

    const started = await call(
      client.reindex({
        wait_for_completion: false,
        refresh: true,
        body: {
          source: { index: src, size: 50 },
          dest: { index: dst },
          script: { lang: 'painless', source: 'ctx._source.doubled = ctx._source.n * 2' },
        },
      }),
    );
    expect(typeof started.task).toBe('string');

    let task;
    for (let i = 0; i < 120; i++) {
      task = await call(client.tasks.get({ task_id: started.task }));
      if (task.completed) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(task.completed).toBe(true);
    expect(task.error).toBeUndefined();
    expect(task.response.total).toBe(n);
    expect(task.response.created).toBe(n);
    expect(task.response.failures).toEqual([]);

    await call(client.indices.refresh({ index: dst }));
    const count = await call(client.count({ index: dst }));
    expect(count.count).toBe(n);
    const sample = await call(client.get({ index: dst, id: '123' }));
    expect(sample._source.doubled).toBe(sample._source.n * 2);
    const wrong = await call(
      client.count({
        index: dst,
        body: { query: { script: { script: "doc['doubled'].value != doc['n'].value * 2" } } },
      }),
    );
    expect(wrong.count).toBe(0);
  });

  it('composes an index from component templates and an index template', async () => {
    const ctSettings = `${prefix}-ct-settings`;
    const ctMappings = `${prefix}-ct-mappings`;
    const it_ = `${prefix}-it`;
    await call(
      client.cluster.putComponentTemplate({
        name: ctSettings,
        body: { template: { settings: { number_of_shards: 1, number_of_replicas: 0 } } },
      }),
    );
    created.components.push(ctSettings);
    await call(
      client.cluster.putComponentTemplate({
        name: ctMappings,
        body: { template: { mappings: { properties: { ts: { type: 'date' }, level: { type: 'keyword' } } } } },
      }),
    );
    created.components.push(ctMappings);
    await call(
      client.indices.putIndexTemplate({
        name: it_,
        body: {
          index_patterns: [`${prefix}-logs-*`],
          priority: 500,
          composed_of: [ctSettings, ctMappings],
          template: { aliases: { [`${prefix}-logs`]: {} }, mappings: { properties: { msg: { type: 'text' } } } },
        },
      }),
    );
    created.templates.push(it_);

    const sim = await call(client.indices.simulateIndexTemplate({ name: `${prefix}-logs-sim` }));
    expect(Object.keys(sim.template.mappings.properties).sort()).toEqual(['level', 'msg', 'ts']);

    const index = `${prefix}-logs-1`;
    await call(
      client.index({ index, body: { ts: '2024-05-01T00:00:00Z', level: 'INFO', msg: 'hello' }, refresh: true }),
    );
    const mapping = await call(client.indices.getMapping({ index }));
    const props = mapping[index].mappings.properties;
    expect(props.ts.type).toBe('date');
    expect(props.level.type).toBe('keyword');
    expect(props.msg.type).toBe('text');
    const settings = await call(client.indices.getSettings({ index }));
    expect(settings[index].settings.index.number_of_replicas).toBe('0');
    const alias = await call(client.indices.getAlias({ name: `${prefix}-logs` }));
    expect(Object.keys(alias)).toEqual([index]);
  });

  it('transforms documents with an ingest pipeline', async () => {
    const id = `${prefix}-pipeline`;
    await call(
      client.ingest.putPipeline({
        id,
        body: {
          description: 'kfm smoke pipeline',
          processors: [
            { trim: { field: 'code' } },
            { lowercase: { field: 'code' } },
            { split: { field: 'tags', separator: ',' } },
            { set: { field: 'source', value: 'smoke' } },
            { script: { lang: 'painless', source: 'ctx.tag_count = ctx.tags.size()' } },
          ],
        },
      }),
    );
    created.pipelines.push(id);

    const input = { code: '  AB-Ü12 ', tags: 'x,y,z' };
    const expectedCode = input.code.trim().toLowerCase();
    const expectedTags = input.tags.split(',');

    const sim = await call(client.ingest.simulate({ id, body: { docs: [{ _source: input }] } }));
    expect(sim.docs[0].doc._source).toMatchObject({ code: expectedCode, tags: expectedTags, source: 'smoke' });

    const index = `${prefix}-ingested`;
    await call(client.index({ index, id: '1', pipeline: id, body: input, refresh: true }));
    const doc = await call(client.get({ index, id: '1' }));
    expect(doc._source).toEqual({
      code: expectedCode,
      tags: expectedTags,
      source: 'smoke',
      tag_count: expectedTags.length,
    });
  });
});
