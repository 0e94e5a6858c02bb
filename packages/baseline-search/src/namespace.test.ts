import { describe, expect, it } from 'vitest';
import type { RequestSpec, SearchRest } from './es-client.js';
import { namespacedRest, namespaceOf } from './namespace.js';

const NS = 'kfm-rehearsal-0a1b2c3d-';

/** A recording engine: what the namespaced view sends, and a fixed answer back. */
function recording(answer: unknown = {}) {
  const sent: { method: string; path: string; body?: unknown }[] = [];
  const rest: SearchRest = {
    async request<T>(method: string, path: string, spec: RequestSpec = {}) {
      sent.push({ method, path, ...(spec.body !== undefined ? { body: spec.body } : {}) });
      return answer as T;
    },
  };
  return { sent, view: namespacedRest(rest, NS) };
}

describe('namespaceOf', () => {
  it('splits the namespace fragment off a URL and leaves other URLs alone', () => {
    expect(namespaceOf(`http://127.0.0.1:9200#kfm-namespace=${NS}`)).toEqual({
      url: 'http://127.0.0.1:9200',
      namespace: NS,
    });
    expect(namespaceOf('http://a:9200,http://b:9200')).toEqual({ url: 'http://a:9200,http://b:9200' });
  });
});

describe('namespacedRest', () => {
  it('prefixes index expressions, names after _alias and templates, but never document ids or API words', async () => {
    const { sent, view } = recording();
    await view.request('GET', '/parcels,-parcels_old/_alias/parcels');
    await view.request('PUT', '/.kfm-migrations/_doc/ledger:PG-1');
    await view.request('GET', '/_cat/indices');
    await view.request('GET', '/_index_template');
    await view.request('DELETE', '/_ingest/pipeline/stamp');
    await view.request('GET', '/_resolve/index/parcels,authority-*');
    await view.request('GET', '/_stats/indexing');
    await view.request('GET', '/_tasks/node:12');
    await view.request('GET', '/_all/_mapping');
    expect(sent.map((r) => `${r.method} ${decodeURIComponent(r.path)}`)).toEqual([
      `GET /${NS}parcels,-${NS}parcels_old/_alias/${NS}parcels`,
      `PUT /${NS}.kfm-migrations/_doc/ledger:PG-1`,
      `GET /_cat/indices/${NS}*`,
      `GET /_index_template/${NS}*`,
      `DELETE /_ingest/pipeline/${NS}stamp`,
      `GET /_resolve/index/${NS}parcels,${NS}authority-*`,
      `GET /${NS}*/_stats/indexing`,
      'GET /_tasks/node:12',
      `GET /${NS}*/_mapping`,
    ]);
  });

  it('prefixes the names inside alias actions, reindex bodies, templates and index settings', async () => {
    const { sent, view } = recording();
    await view.request('POST', '/_aliases', {
      body: {
        actions: [{ remove: { index: 'v1', alias: 'parcels' } }, { add: { indices: ['v2'], alias: 'parcels' } }],
      },
    });
    await view.request('POST', '/_reindex', {
      body: { source: { index: ['v1'] }, dest: { index: 'v2', pipeline: 'p' } },
    });
    await view.request('PUT', '/_index_template/logs', {
      body: { index_patterns: ['logs-*'], composed_of: ['base'], template: { aliases: { logs: {} } } },
    });
    await view.request('PUT', '/v2', { body: { settings: { 'index.default_pipeline': 'p' }, aliases: { a: {} } } });
    expect(sent.map((r) => r.body)).toEqual([
      {
        actions: [
          { remove: { index: `${NS}v1`, alias: `${NS}parcels` } },
          { add: { indices: [`${NS}v2`], alias: `${NS}parcels` } },
        ],
      },
      { source: { index: [`${NS}v1`] }, dest: { index: `${NS}v2`, pipeline: `${NS}p` } },
      {
        index_patterns: [`${NS}logs-*`],
        composed_of: [`${NS}base`],
        template: { aliases: { [`${NS}logs`]: {} } },
      },
      { settings: { 'index.default_pipeline': `${NS}p` }, aliases: { [`${NS}a`]: {} } },
    ]);
  });

  it('removes the prefix from every key and string of an answer', async () => {
    const { view } = recording({
      [`${NS}v1`]: { aliases: { [`${NS}parcels`]: {} } },
      task: `reindex from [${NS}v1] to [${NS}v2]`,
    });
    expect(await view.request('GET', '/v1/_alias')).toEqual({
      v1: { aliases: { parcels: {} } },
      task: 'reindex from [v1] to [v2]',
    });
  });
});
