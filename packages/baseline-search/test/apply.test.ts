// The governed apply on the real cluster with the example bundle (renamed into a test prefix):
// the alias flip is the commit point, a refusal or a failed reindex leaves the store at PRE, and the
// rollback plan restores the alias and the fingerprint.
import { evaluate } from '@kfm/diff';
import type { Baseline } from '@kfm/migration-contracts';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { seedSearch } from '../../../fixtures/seed/search/seed.mjs';
import { searchVocabulary, type SearchSession } from '../src/index.js';
import {
  adminRest,
  aliasTargets,
  applyRequest,
  bundleDeclaration,
  bundleScript,
  cleanup,
  ES_URL,
  fingerprint,
  indexExists,
  openSession,
  script,
  uniquePrefix,
} from './cluster.js';

const prefix = uniquePrefix();
const admin = adminRest();
const DOCS = 1200;
const names = {
  v1: `${prefix}parcels_v1`,
  v2: `${prefix}parcels_v2`,
  alias: `${prefix}parcels`,
  authority: `${prefix}authority-sites`,
};

describe('governed apply: shadow index + alias flip', () => {
  let session: SearchSession;
  beforeEach(async () => {
    await session?.close();
    await cleanup(prefix);
    await seedSearch({ url: ES_URL, prefix, docs: DOCS });
    session = await openSession(prefix);
  });
  afterAll(async () => {
    await session?.close();
    await cleanup(prefix);
    await admin.close();
  });

  async function pre(): Promise<Baseline> {
    const declaration = await bundleDeclaration(prefix);
    return session.captureBaseline({ declaration, protected: declaration.protected! });
  }

  it('flips the alias only after decide() says yes, and the projected POST is what the cluster then holds', async () => {
    const declaration = await bundleDeclaration(prefix);
    const forward = await bundleScript('forward.json', prefix);
    const preflight = await session.preflight([forward], declaration, { protected: declaration.protected ?? {} });
    expect(preflight.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(preflight.predicted).toEqual({
      aliases: [names.alias],
      indices: [names.v1, names.v2],
      pipelines: [],
      templates: [],
    });
    const before = await pre();
    let aliasesAtDecision: Record<string, string[]> = {};
    const result = await session.apply(
      applyRequest(declaration, [forward], async ({ post, metrics }) => {
        aliasesAtDecision = await aliasTargets(admin.rest, prefix);
        const summary = evaluate(
          declaration,
          { pre: before, post, metrics, protected: declaration.protected! },
          searchVocabulary,
        );
        expect(summary.checks.filter((c) => c.status === 'fail')).toEqual([]);
        return summary.status === 'pass';
      }),
    );
    expect(result.status).toBe('committed');
    expect(result.metrics.docs_reindexed).toBe(DOCS);
    // at the decision the alias had not moved yet; after the commit it has
    expect(aliasesAtDecision).toEqual({ [names.alias]: [names.v1] });
    expect(await aliasTargets(admin.rest, prefix)).toEqual({ [names.alias]: [names.v2] });
    const real = await pre();
    expect(real.fingerprints.schema).toBe(result.post!.fingerprints.schema);
    expect(real.measures?.docs?.[names.v2]).toBe(DOCS);
    expect(result.post!.invariants?.map((c) => `${c.name}:${c.status}`)).toEqual([
      'search.mapping_versioned:pass',
      'search.alias_plan_explicit:pass',
      'search.old_index_retained:pass',
    ]);
    expect(await session.ledgerState(declaration.migration_id)).toMatchObject({
      state: 'applied',
      bundle_digest: forward.digest,
    });
    // the folding analyzer is live behind the alias: an unaccented query finds accented names
    const hits = await admin.rest.request<{ hits: { total: { value: number } } }>('POST', `/${names.alias}/_search`, {
      body: { query: { match: { name: 'emile' } } },
    });
    expect(hits.hits.total.value).toBeGreaterThan(0);

    // the rollback plan flips back and drops parcels_v2: the fingerprint equals PRE again
    const rollback = await session.runRollback([await bundleScript('rollback.json', prefix)], declaration);
    expect(rollback).toMatchObject({ ok: true });
    expect(await aliasTargets(admin.rest, prefix)).toEqual({ [names.alias]: [names.v1] });
    expect(await indexExists(admin.rest, names.v2)).toBe(false);
    expect(fingerprint(await pre())).toEqual(fingerprint(before));
  });

  it('on decide() = false moves no alias, drops the shadow and is back at PRE', async () => {
    const declaration = await bundleDeclaration(prefix);
    const forward = await bundleScript('forward.json', prefix);
    const before = await pre();
    let seen: Baseline | undefined;
    const result = await session.apply(
      applyRequest(declaration, [forward], async ({ post }) => {
        seen = post;
        return false;
      }),
    );
    expect(result).toMatchObject({ status: 'aborted', atPre: true });
    // the refused POST showed the flip that never happened
    expect(seen!.objects.filter((o) => o.kind === 'alias').map((o) => o.name)).toEqual([`${names.alias}->${names.v2}`]);
    expect(await aliasTargets(admin.rest, prefix)).toEqual({ [names.alias]: [names.v1] });
    expect(await indexExists(admin.rest, names.v2)).toBe(false);
    expect(fingerprint(await pre())).toEqual(fingerprint(before));
    expect((await session.ledgerState(declaration.migration_id)).state).toBe('absent');
  });

  it('a limit violation found at the commit point stops the flip', async () => {
    const declaration = await bundleDeclaration(prefix);
    declaration.limits.max_docs_reindexed = DOCS - 1;
    const forward = await bundleScript('forward.json', prefix);
    const before = await pre();
    const result = await session.apply(
      applyRequest(
        declaration,
        [forward],
        async ({ post, metrics }) =>
          evaluate(declaration, { pre: before, post, metrics }, searchVocabulary).status === 'pass',
      ),
    );
    expect(result.status).toBe('aborted');
    expect(await aliasTargets(admin.rest, prefix)).toEqual({ [names.alias]: [names.v1] });
    expect(fingerprint(await pre())).toEqual(fingerprint(before));
  });

  it('a reindex that fails midway (rejected documents) leaves the alias and PRE untouched', async () => {
    const declaration = await bundleDeclaration(prefix);
    const strict = await script('forward.json', {
      operations: [
        {
          op: 'create_index',
          index: names.v2,
          body: {
            settings: { number_of_shards: 1, number_of_replicas: 0 },
            mappings: { dynamic: 'strict', properties: { parcel_id: { type: 'keyword' } } },
          },
        },
        { op: 'reindex', body: { source: { index: names.v1 }, dest: { index: names.v2 } } },
        {
          op: 'update_aliases',
          body: {
            actions: [
              { remove: { index: names.v1, alias: names.alias } },
              { add: { index: names.v2, alias: names.alias } },
            ],
          },
        },
      ],
    });
    const before = await pre();
    let decided = false;
    const result = await session.apply(applyRequest(declaration, [strict], async () => (decided = true)));
    expect(result).toMatchObject({
      status: 'failed',
      atPre: true,
      failure: { code: 'STATEMENT_FAILED', pointer: '/operations/1' },
    });
    expect(result.failure?.message).toMatch(/strict_dynamic_mapping_exception|rejected/);
    expect(decided).toBe(false);
    expect(await aliasTargets(admin.rest, prefix)).toEqual({ [names.alias]: [names.v1] });
    expect(await indexExists(admin.rest, names.v2)).toBe(false);
    expect(fingerprint(await pre())).toEqual(fingerprint(before));
  });

  it('a reindex script that throws after some batches is a failure at PRE', async () => {
    const declaration = await bundleDeclaration(prefix);
    const forward = JSON.parse((await bundleScript('forward.json', prefix)).text);
    forward.operations[1].body.source.size = 100;
    forward.operations[1].body.script = {
      lang: 'painless',
      source: "if (ctx._source.parcel_id.compareTo('P-000500') > 0) { throw new IllegalStateException('boom'); }",
    };
    const before = await pre();
    const result = await session.apply(
      applyRequest(declaration, [await script('forward.json', forward)], async () => true),
    );
    expect(result).toMatchObject({ status: 'failed', atPre: true, failure: { code: 'STATEMENT_FAILED' } });
    expect(result.metrics.docs_reindexed).toBeGreaterThan(0);
    expect(result.metrics.docs_reindexed).toBeLessThan(DOCS);
    expect(await aliasTargets(admin.rest, prefix)).toEqual({ [names.alias]: [names.v1] });
    expect(await indexExists(admin.rest, names.v2)).toBe(false);
    expect(fingerprint(await pre())).toEqual(fingerprint(before));
  });

  it('restores a replaced template and deletes a new pipeline when the change is refused', async () => {
    const declaration = await bundleDeclaration(prefix);
    await admin.rest.request('PUT', `/_index_template/${prefix}tpl`, {
      body: { index_patterns: [`${prefix}x-*`], priority: 300, template: { settings: { number_of_replicas: 0 } } },
    });
    const plan = await script('forward.json', {
      operations: [
        { op: 'put_index_template', name: `${prefix}tpl`, body: { index_patterns: [`${prefix}x-*`], priority: 301 } },
        { op: 'put_pipeline', id: `${prefix}pipe`, body: { processors: [{ set: { field: 'a', value: 1 } }] } },
        { op: 'create_index', index: names.v2, body: { settings: { number_of_replicas: 0 } } },
      ],
    });
    const before = await pre();
    const result = await session.apply(
      applyRequest(declaration, [plan], async ({ post }) => {
        expect(post.objects.map((o) => o.kind)).toContain('pipeline');
        return false;
      }),
    );
    expect(result).toMatchObject({ status: 'aborted', atPre: true });
    expect(fingerprint(await pre())).toEqual(fingerprint(before));
    expect(await indexExists(admin.rest, names.v2)).toBe(false);
  });

  it('moves no alias to a new index that does not reach its declared health: a replica no node can hold', async () => {
    const declaration = await bundleDeclaration(prefix);
    const nodes = (await admin.rest.request<{ number_of_data_nodes: number }>('GET', '/_cluster/health'))
      .number_of_data_nodes;
    // one copy more than the cluster has nodes for: this index can never be green
    const forward = JSON.parse((await bundleScript('forward.json', prefix)).text);
    forward.operations[0].body.settings.number_of_replicas = nodes;
    forward.operations[0].wait_timeout = '1s';
    const before = await pre();
    const decided: boolean[] = [];
    const result = await session.apply(
      applyRequest(declaration, [await script('forward.json', forward)], async () => {
        decided.push(true);
        return true;
      }),
    );
    expect(result.status).toBe('failed');
    expect(result.atPre).toBe(true);
    expect(result.failure?.message).toMatch(
      /did not become green within 1s \(it is yellow: \d+ shard copies unassigned/,
    );
    expect(result.failure?.pointer).toBe('/operations/0');
    expect(decided).toEqual([]);
    // read back with the cluster's own APIs: the alias still on v1, the shadow gone
    expect(await aliasTargets(admin.rest, prefix)).toEqual({ [names.alias]: [names.v1] });
    expect(await indexExists(admin.rest, names.v2)).toBe(false);
    expect(fingerprint(await pre())).toEqual(fingerprint(before));

    // the same plan declaring yellow is allowed to flip
    forward.operations[0].wait_for_health = 'yellow';
    const yellow = await session.apply(
      applyRequest(declaration, [await script('forward.json', forward)], async () => true),
    );
    expect(yellow.status, yellow.failure?.message).toBe('committed');
    expect(await aliasTargets(admin.rest, prefix)).toEqual({ [names.alias]: [names.v2] });
  });
});
