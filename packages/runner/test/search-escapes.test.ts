// Escapes on the real Elasticsearch, tried as a hostile contributor would: a write through an alias of a
// protected index, and a reindex script that re-routes documents. Both must be refused before the first
// request, with the protected index checked unchanged through the REST API.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seedSearch } from '../../../fixtures/seed/search/seed.mjs';
import { kfm, repo } from './postgis-harness.js';
import { randomId, searchRest } from './stores-harness.js';

const url = process.env.KFM_ES_URL ?? 'http://127.0.0.1:9200';
let prefix = '';

const rest = (method: string, pathname: string, body?: unknown) => searchRest(url, method, pathname, body);

/** What the attacker is after: the protected index's documents, counted and summed by the server. */
async function protectedState() {
  await rest('POST', `/${prefix}authority-sites/_refresh`);
  const count = await rest('GET', `/${prefix}authority-sites/_count`);
  const aliases = await rest('GET', `/${prefix}authority-sites/_alias`);
  return { count: count.count, aliases };
}

async function bundleWith(operations: unknown[]): Promise<string> {
  const source = path.join(repo, 'migrations/search/SEARCH-MIG-2026-03-05-01');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-search-escape-'));
  const id = randomId('SEARCH');
  const yml = (await fs.readFile(path.join(source, 'migration.yml'), 'utf8'))
    .replace(/SEARCH-MIG-2026-03-05-01/g, id)
    .replace('transactional: true', 'transactional: false')
    .replace(/^(\s+- )(parcels_v1|parcels_v2|parcels|authority-sites)$/gm, `$1${prefix}$2`);
  await fs.writeFile(path.join(dir, 'migration.yml'), yml);
  await fs.writeFile(path.join(dir, 'forward.json'), JSON.stringify({ operations }, null, 2));
  await fs.writeFile(
    path.join(dir, 'rollback.json'),
    JSON.stringify({ operations: [{ op: 'delete_index', index: `${prefix}parcels_v2` }] }, null, 2),
  );
  await fs.writeFile(path.join(dir, 'notes.md'), 'escape test\n');
  return dir;
}

beforeEach(async () => {
  prefix = `kfmesc-${randomBytes(3).toString('hex')}-`;
  await seedSearch({ url, prefix, docs: 200 });
  // An alias the declaration does not list, pointing at the protected index.
  await rest('POST', '/_aliases', {
    actions: [{ add: { index: `${prefix}authority-sites`, alias: `${prefix}authority_bar` } }],
  });
});

afterEach(async () => {
  const rows = (await rest('GET', `/_cat/indices/${prefix}*?format=json&h=index&expand_wildcards=all`)) as {
    index: string;
  }[];
  if (rows.length) await rest('DELETE', `/${rows.map((row) => row.index).join(',')}`);
});

describe('search escapes are refused before the first request', () => {
  it('a reindex into an alias of the protected index, without a commit point: exit 1, protected documents unchanged', async () => {
    const before = await protectedState();
    const dir = await bundleWith([
      { op: 'reindex', body: { source: { index: `${prefix}parcels_v1` }, dest: { index: `${prefix}authority_bar` } } },
    ]);
    const run = await kfm(['apply', dir], { KFM_ES_URL: url });
    expect(run.code, run.stderr.slice(-2000)).toBe(1);
    const messages = (run.json.checks ?? [])
      .filter((check: { status: string }) => check.status === 'fail')
      .map((check: { message: string }) => check.message)
      .join('\n');
    expect(messages).toContain(`${prefix}authority_bar, an alias of ${prefix}authority-sites`);
    expect(await protectedState()).toEqual(before);
  });

  it('a reindex script that sets ctx._index: exit 1, nothing created, protected documents unchanged', async () => {
    const before = await protectedState();
    const dir = await bundleWith([
      { op: 'create_index', index: `${prefix}parcels_v2` },
      {
        op: 'reindex',
        body: {
          source: { index: `${prefix}parcels_v1` },
          dest: { index: `${prefix}parcels_v2` },
          script: { source: `ctx._index = '${prefix}authority-sites'` },
        },
      },
    ]);
    const run = await kfm(['apply', dir], { KFM_ES_URL: url });
    expect(run.code, run.stderr.slice(-2000)).toBe(1);
    expect(JSON.stringify(run.json.checks)).toContain('[reindex-routing]');
    expect(await protectedState()).toEqual(before);
    expect((await fetch(`${url}/${prefix}parcels_v2`, { method: 'HEAD' })).status).toBe(404);
  });

  it('records the documents the cluster counted per index in the receipt, checked against the scope', async () => {
    const dir = await bundleWith([
      { op: 'create_index', index: `${prefix}parcels_v2`, body: { settings: { number_of_replicas: 0 } } },
      { op: 'reindex', body: { source: { index: `${prefix}parcels_v1` }, dest: { index: `${prefix}parcels_v2` } } },
    ]);
    const run = await kfm(['apply', dir], { KFM_ES_URL: url });
    expect(run.code, run.stderr.slice(-2000)).toBe(0);
    await rest('POST', `/${prefix}parcels_v2/_refresh`);
    const count = (await rest('GET', `/${prefix}parcels_v2/_count`)).count;
    const receipt = JSON.parse(await fs.readFile(path.join(dir, 'receipts/run_receipt.json'), 'utf8'));
    // the engine that answered is named in the evidence (this file runs once per engine)
    const pre = JSON.parse(await fs.readFile(path.join(dir, 'baselines/pre.json'), 'utf8'));
    const engine = (await rest('GET', '/')).version.distribution === 'opensearch' ? 'OpenSearch' : 'Elasticsearch';
    expect(engine).toBe(process.env.KFM_SEARCH_ENGINE === 'opensearch' ? 'OpenSearch' : 'Elasticsearch');
    expect(pre.server.product).toBe(engine);
    expect(receipt.data_changes).toEqual([
      {
        object: `${prefix}parcels_v2`,
        kind: 'index',
        scope: { indices: [`${prefix}parcels_v2`] },
        counts: { indexed: count, deleted: 0 },
        approximate: true,
      },
    ]);
  });
});
