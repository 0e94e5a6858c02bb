// Rollback rehearsal for search bundles, through the CLI, on the real engine (this file runs once per engine):
// the indices in scope are copied into a scratch namespace on the same cluster, the real bundle's forward and
// rollback run on the copy, and the copy is deleted. The real indices, aliases and ledger must be exactly as
// before, whether the rehearsal passes or fails; everything is read back with the engine's own REST API.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seedSearch } from '../../../fixtures/seed/search/seed.mjs';
import { kfm } from './postgis-harness.js';
import { copyExample, randomId, searchRest } from './stores-harness.js';

const url = process.env.KFM_ES_URL ?? 'http://127.0.0.1:9200';
const rest = (method: string, pathname: string, body?: unknown) => searchRest(url, method, pathname, body);

/** Index names with document counts and alias targets matching `pattern`, as the engine lists them. */
async function listing(pattern: string) {
  await rest('POST', `/${pattern}/_refresh?expand_wildcards=all&allow_no_indices=true`);
  const indices = ((await rest(
    'GET',
    `/_cat/indices/${pattern}?format=json&h=index,docs.count&expand_wildcards=all`,
  )) ?? []) as { index: string; 'docs.count': string }[];
  const aliases = ((await rest('GET', `/${pattern}/_alias?expand_wildcards=all&allow_no_indices=true`)) ??
    {}) as Record<string, { aliases: Record<string, unknown> }>;
  return {
    indices: indices.map((row) => `${row.index}:${row['docs.count']}`).sort(),
    aliases: Object.entries(aliases)
      .flatMap(([index, entry]) => Object.keys(entry.aliases).map((alias) => `${alias}->${index}`))
      .sort(),
  };
}

describe('kfm-migrate rehearse on search', () => {
  let prefix = '';
  let id = '';
  beforeEach(async () => {
    prefix = `kfmrh-${randomBytes(3).toString('hex')}-`;
    id = randomId('SEARCH');
    await seedSearch({ url, prefix, docs: 2_000 });
  });
  afterEach(async () => {
    const rows = ((await rest('GET', `/_cat/indices/${prefix}*?format=json&h=index&expand_wildcards=all`)) ?? []) as {
      index: string;
    }[];
    if (rows.length) await rest('DELETE', `/${rows.map((row) => row.index).join(',')}`);
    await rest('DELETE', `/_index_template/${prefix}shape`);
  });

  const example = (rollback?: (text: string) => string) =>
    copyExample('search/SEARCH-MIG-2026-03-05-01', (name, text) => {
      const out = text
        .replace(/"(parcels|authority-sites)/g, `"${prefix}$1`)
        .replace(/^(\s+- )(parcels_v1|parcels_v2|parcels|authority-sites)$/gm, `$1${prefix}$2`)
        .replace(/SEARCH-MIG-2026-03-05-01/g, id);
      return name === 'rollback.json' && rollback ? rollback(out) : out;
    });

  it('passes on a scratch namespace and leaves the real indices, aliases and ledger as they were', async () => {
    // an index template that shapes the index the plan creates: the copy must carry it too
    await rest('PUT', `/_index_template/${prefix}shape`, {
      index_patterns: [`${prefix}parcels_v*`],
      priority: 900,
      template: { settings: { 'index.refresh_interval': '7s' } },
    });
    const template = await rest('GET', `/_index_template/${prefix}shape`);
    const dir = await example();
    const before = await listing(`${prefix}*`);
    const run = await kfm(['rehearse', dir], { KFM_ES_URL: url });
    expect(run.code, run.stderr.slice(-3000)).toBe(0);
    expect(run.json.outcome.status).toBe('rolled_back');
    const scratch: string = run.json.rehearsal.scratch;
    expect(scratch).toMatch(/^kfm-rehearsal-[0-9a-f]{8}-\*$/);
    expect(run.json.checks.map((c: { name: string; status: string }) => `${c.name}:${c.status}`)).toEqual(
      expect.arrayContaining([
        'scratch_copy_matches_source:pass',
        'rehearsal_apply_committed:pass',
        'rehearsal_rollback_restored_pre:pass',
        'real_store_untouched:pass',
      ]),
    );
    // the copy really was built and flipped: the scratch apply reindexed every document of parcels_v1
    expect(run.json.metrics.docs_reindexed).toBe(2_000);
    // the real store: same indices, counts and alias; the real ledger never heard of the migration
    expect(await listing(`${prefix}*`)).toEqual(before);
    expect(await rest('GET', `/.kfm-migrations/_doc/ledger:${id}`)).toBeUndefined();
    // the copy held the shaping template (the rehearsal's PRE is the copy's), and the real one is as it was
    const runs = await fs.readdir(path.join(dir, 'receipts/runs'));
    const pre = JSON.parse(await fs.readFile(path.join(dir, 'receipts/runs', runs[0]!, 'baselines/pre.json'), 'utf8'));
    expect(pre.objects.map((o: { kind: string; name: string }) => `${o.kind}:${o.name}`)).toContain(
      `index_template:${prefix}shape`,
    );
    expect(await rest('GET', `/_index_template/${prefix}shape`)).toEqual(template);
    // the scratch namespace is gone: no index, template or pipeline left under it
    expect(await listing(scratch)).toEqual({ indices: [], aliases: [] });
    expect((await rest('GET', `/_index_template/${scratch}`))?.index_templates ?? []).toEqual([]);
    expect(Object.keys((await rest('GET', `/_ingest/pipeline/${scratch}`)) ?? {})).toEqual([]);
  });

  it('fails when the rollback does not restore PRE, with the real store untouched and the copy dropped', async () => {
    // a rollback that moves the alias back but forgets to delete parcels_v2
    const dir = await example((text) => {
      const plan = JSON.parse(text);
      plan.operations = plan.operations.filter((operation: { op: string }) => operation.op !== 'delete_index');
      return JSON.stringify(plan, null, 2);
    });
    const before = await listing(`${prefix}*`);
    const run = await kfm(['rehearse', dir], { KFM_ES_URL: url });
    expect(run.code, run.stderr.slice(-3000)).toBe(1);
    expect(run.json.outcome.status).toBe('rollback_failed');
    expect(run.json.checks.map((c: { name: string; status: string }) => `${c.name}:${c.status}`)).toEqual(
      expect.arrayContaining(['rehearsal_rollback_restored_pre:fail', 'real_store_untouched:pass']),
    );
    expect(await listing(`${prefix}*`)).toEqual(before);
    expect(await listing(run.json.rehearsal.scratch)).toEqual({ indices: [], aliases: [] });
  });
});
