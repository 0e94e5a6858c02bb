import { describe, expect, it } from 'vitest';
import type { Baseline } from '@kfm/migration-contracts';
import { commitPoint, runStatements, statementRuns, transactionGroups } from './run-loop.js';

const s = (index: number, transactional: boolean) => ({
  index,
  file: 'forward.x',
  line: index + 1,
  kind: transactional ? 'data' : 'schema',
  transactional,
});

describe('transactionGroups', () => {
  it('keeps script order: consecutive transactional statements share a group, others stand alone', () => {
    const groups = transactionGroups([s(0, true), s(1, false), s(2, true), s(3, true), s(4, false), s(5, false)]);
    expect(groups.map((g) => [g.group, g.transaction, g.statements.map((x) => x.index)])).toEqual([
      [0, true, [0]],
      [1, false, [1]],
      [2, true, [2, 3]],
      [3, false, [4]],
      [4, false, [5]],
    ]);
    expect(
      statementRuns(groups, { failedIndex: 3, lastRunIndex: 3 }).map((r) => [r.index, r.group, r.outcome]),
    ).toEqual([
      [0, 0, 'ok'],
      [1, 1, 'ok'],
      [2, 2, 'ok'],
      [3, 2, 'failed'],
      [4, 3, 'not_run'],
      [5, 4, 'not_run'],
    ]);
  });
});

describe('runStatements', () => {
  it('runs in order and stops at the first failure with a described message', async () => {
    const ran: number[] = [];
    const outcome = await runStatements(
      [s(0, true), s(1, true), s(2, true)],
      async (x) => {
        ran.push(x.index);
        if (x.index === 1) throw Object.assign(new Error('boom'), { code: '42P01' });
      },
      { label: 'forward', describe: (e) => ({ message: (e as Error).message, code: (e as { code: string }).code }) },
    );
    expect(ran).toEqual([0, 1]);
    expect(outcome).toMatchObject({
      completed: 1,
      failure: { statement: { index: 1 }, message: 'boom', code: '42P01' },
    });
  });

  it('does not start a statement once the lease is lost', async () => {
    const controller = new AbortController();
    controller.abort(new Error('the store lease was taken by another run'));
    const outcome = await runStatements([s(0, true)], async () => undefined, {
      label: 'forward',
      signal: controller.signal,
      describe: () => ({ message: '' }),
    });
    expect(outcome).toMatchObject({ completed: 0, failure: { code: 'LEASE_LOST' } });
  });
});

describe('commitPoint', () => {
  const post = { fingerprints: { schema: 'x' } } as unknown as Baseline;
  it('commits on a yes, aborts on a no, and never commits after the lease is lost', async () => {
    const log: string[] = [];
    const steps = (decision: boolean, signal?: AbortSignal) => ({
      request: { decide: async () => decision, ...(signal ? { signal } : {}) },
      post,
      metrics: {},
      commit: async () => void log.push('commit'),
      abort: async () => void log.push('abort'),
      describe: String,
    });
    expect(await commitPoint(steps(true))).toEqual({ status: 'committed' });
    expect(await commitPoint(steps(false))).toEqual({ status: 'aborted' });
    const lost = new AbortController();
    lost.abort(new Error('lease lost'));
    expect(await commitPoint(steps(true, lost.signal))).toMatchObject({
      status: 'aborted',
      failure: { code: 'LEASE_LOST' },
    });
    expect(log).toEqual(['commit', 'abort', 'abort']);
  });

  it('reports a failing commit as a failed run', async () => {
    const outcome = await commitPoint({
      request: { decide: async () => true },
      post,
      metrics: {},
      commit: async () => {
        throw new Error('deferred constraint');
      },
      abort: async () => undefined,
      describe: (e) => (e as Error).message,
    });
    expect(outcome).toEqual({
      status: 'failed',
      failure: { code: 'STATEMENT_FAILED', message: 'commit failed: deferred constraint' },
    });
  });
});
