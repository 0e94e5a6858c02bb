// Lock, ledger, preflight against live aliases, and connection faults on the real cluster.
import { KfmError } from '@kfm/migration-contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedSearch } from '../../../fixtures/seed/search/seed.mjs';
import { connectSearch, searchAdapter, type SearchSession } from '../src/index.js';
import {
  adminRest,
  bundleDeclaration,
  bundleScript,
  cleanup,
  ES_URL,
  indexExists,
  openSession,
  script,
  uniquePrefix,
} from './cluster.js';

const prefix = uniquePrefix();

describe('search session', () => {
  let first: SearchSession;
  let second: SearchSession;
  beforeAll(async () => {
    await seedSearch({ url: ES_URL, prefix, docs: 50 });
    first = await openSession(prefix, { now: () => new Date('2026-03-05T10:00:00.000Z') });
    second = await openSession(prefix);
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
    await cleanup(prefix);
  });

  const lease = (run: string, extra: Partial<{ ttlMs: number; waitMs: number }> = {}) => ({
    owner: `kfm-migrate ${run}`,
    run_id: run,
    ttlMs: 30_000,
    waitMs: 0,
    ...extra,
  });

  it('lets one run hold the lease; a second fails fast naming the holder and expiry', async () => {
    expect(await first.lock(lease('SEARCH-MIG-2026-03-05-01'))).toMatchObject({ acquired: true });
    const refused = await second.lock(lease('other'));
    expect(refused.acquired).toBe(false);
    expect(refused.acquired === false && refused.holder.description).toMatch(
      /^kfm-migrate SEARCH-MIG-2026-03-05-01 \(run SEARCH-MIG-2026-03-05-01\) since \d{4}-\d\d-\d\dT[\d:.]+Z, lease expires \d{4}-\d\d-\d\dT[\d:.]+Z \(lock document \.kfmt-/,
    );
    await second.unlock(); // not the holder: must not release the other run's lease
    expect((await second.lock(lease('other'))).acquired).toBe(false);
    await first.unlock();
    expect(await second.lock(lease('other'))).toMatchObject({ acquired: true });
    await second.unlock();
  });

  it("takes over a dead run's expired lease: cancels its reindex task, deletes its tagged shadow, keeps everything else", async () => {
    const { rest } = adminRest();
    const runner = `.${prefix}runner`;
    const dead = await openSession(prefix);
    const held = await dead.lock(lease('DEAD-RUN', { ttlMs: 800 }));
    expect(held.acquired).toBe(true);
    // What a crashed apply leaves: a shadow tagged with its run id, a running throttled reindex recorded in the runner index, an untagged index.
    await rest.request('PUT', `/${prefix}src`, { body: { settings: { number_of_shards: 1, number_of_replicas: 0 } } });
    await rest.request('POST', `/${prefix}src/_bulk`, {
      body:
        Array.from({ length: 200 }, (_, i) => [JSON.stringify({ index: {} }), JSON.stringify({ n: i })])
          .flat()
          .join('\n') + '\n',
      query: { refresh: 'true' },
    });
    await rest.request('PUT', `/${prefix}shadow`, { body: { mappings: { _meta: { kfm_run_id: 'DEAD-RUN' } } } });
    await rest.request('PUT', `/${prefix}keep`, { body: { mappings: { _meta: { kfm_run_id: 'OTHER-RUN' } } } });
    const started = await rest.request<{ task: string }>('POST', '/_reindex', {
      body: { source: { index: `${prefix}src`, size: 1 }, dest: { index: `${prefix}shadow` } },
      query: { wait_for_completion: false, requests_per_second: 1 },
    });
    await rest.request('PUT', `/${runner}/_doc/task:${encodeURIComponent(started.task)}`, {
      body: { type: 'task', run_id: 'DEAD-RUN', task: started.task },
      query: { refresh: 'true' },
    });
    await dead.close(); // the crash: nothing renews the lease any more
    const next = await first.lock(lease('NEXT-RUN', { waitMs: 10_000 }));
    expect(next).toMatchObject({
      acquired: true,
      takeover: { previous_owner: 'kfm-migrate DEAD-RUN', previous_run: 'DEAD-RUN' },
    });
    if (!next.acquired) return;
    expect(next.takeover?.cleaned).toEqual([
      `reindex task ${started.task} cancelled`,
      `shadow index ${prefix}shadow deleted`,
    ]);
    expect(await indexExists(rest, `${prefix}shadow`)).toBe(false);
    expect(await indexExists(rest, `${prefix}keep`)).toBe(true);
    const task = await rest.request<{ completed?: boolean }>('GET', `/_tasks/${encodeURIComponent(started.task)}`, {
      ignore: [404],
    });
    expect(task === undefined || task.completed === true).toBe(true);
    await first.unlock();
  });

  it('records the ledger: latest state per migration, history, newest receipt digest', async () => {
    expect(await first.ledgerState('SEARCH-MIG-2026-01-01-01')).toEqual({ state: 'absent' });
    await first.recordLedger({
      migration_id: 'SEARCH-MIG-2026-01-01-01',
      bundle_digest: 'sha256:aaa',
      run_id: 'r1',
      status: 'applied',
      receipt_digest: 'bagaaierareceipt1',
    });
    await first.recordLedger({
      migration_id: 'SEARCH-MIG-2026-01-01-01',
      bundle_digest: 'sha256:aaa',
      run_id: 'r2',
      status: 'rolled_back',
    });
    expect(await second.ledgerState('SEARCH-MIG-2026-01-01-01')).toEqual({
      state: 'rolled_back',
      bundle_digest: 'sha256:aaa',
      run_id: 'r2',
      last_receipt_digest: 'bagaaierareceipt1',
    });
    expect(
      (await second.ledgerHistory('SEARCH-MIG-2026-01-01-01')).map((row) => [row.seq, row.status, row.run_id]),
    ).toEqual([
      [1, 'applied', 'r1'],
      [2, 'rolled_back', 'r2'],
    ]);
    expect(await second.ledgerState('SEARCH-MIG-2026-01-01-02')).toEqual({
      state: 'absent',
      last_receipt_digest: 'bagaaierareceipt1',
    });
  });

  it('fails preflight for a forbidden index, a protected one, and deleting an aliased index', async () => {
    const declaration = await bundleDeclaration(prefix);
    const plan = await script('forward.json', {
      operations: [
        { op: 'create_index', index: `${prefix}parcels_v2` },
        {
          op: 'reindex',
          body: { source: { index: `${prefix}authority-sites` }, dest: { index: `${prefix}parcels_v2` } },
        },
        { op: 'delete_index', index: `${prefix}parcels_v1` },
      ],
    });
    const result = await first.preflight(
      [plan],
      { ...declaration, transactional: false },
      { protected: declaration.protected ?? {} },
    );
    const failed = result.checks.filter((c) => c.status === 'fail');
    expect(failed.map((c) => [c.code, c.pointer])).toEqual([
      ['PREFLIGHT_FORBIDDEN', '/scope/forbidden_indices/0'],
      ['PREFLIGHT_FORBIDDEN', '/approvals/exception_ref'],
      ['PREFLIGHT_FORBIDDEN', '/operations/2'],
    ]);
    expect(failed[2]!.message).toContain(`alias ${prefix}parcels still points to`);
    // the example rollback plan, by contrast, removes the alias before deleting: it passes
    const rollback = await first.preflight(
      [await bundleScript('rollback.json', prefix)],
      { ...declaration, transactional: false },
      { protected: declaration.protected ?? {} },
    );
    expect(rollback.checks.filter((c) => c.status === 'fail')).toEqual([]);
  });

  it('reports an unreachable cluster as STORE_UNREACHABLE without the URL credentials', async () => {
    const error = await searchAdapter
      .connect({ url: 'http://kfmuser:secret-pw@127.0.0.1:1' }, { applicationName: 'test' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KfmError);
    expect((error as KfmError).code).toBe('STORE_UNREACHABLE');
    const text = `${(error as KfmError).message} ${JSON.stringify((error as KfmError).issue)}`;
    expect(text).not.toContain('secret');
    expect(text).not.toContain('kfmuser');
    expect(text).toContain('127.0.0.1:1');
  });

  it('rejects an unparseable URL without echoing it', async () => {
    const error = await connectSearch('http://user:pa ss@[bad', { applicationName: 'test' }).catch((e: unknown) => e);
    expect((error as KfmError).code).toBe('STORE_UNREACHABLE');
    expect((error as KfmError).message).not.toContain('pa ss');
  });
});
