import { describe, expect, it } from 'vitest';
import type { MigrationDeclaration } from '@kfm/migration-contracts';
import { preflightSearch, type AliasLookup, type IndexResolver } from './preflight.js';

const declaration: MigrationDeclaration = {
  migration_id: 'SEARCH-MIG-2026-03-05-01',
  type: 'search',
  intent: 'test',
  scope: { allowed_indices: ['parcels_*'], allowed_aliases: ['parcels'], forbidden_indices: ['authority-sites'] },
  limits: {},
  requires_rollback: true,
  approvals: {},
  runner: {},
  artifacts: { forward: ['forward.json'] },
};
const live: AliasLookup = async (indices) =>
  new Map(indices.filter((i) => i === 'parcels_v1').map((i) => [i, new Set(['parcels'])]));
const plan = (operations: unknown[]) => [
  { path: 'forward.json', text: JSON.stringify({ operations }, null, 2), digest: 'bafkreitest' },
];
const failures = async (operations: unknown[], overrides: Partial<MigrationDeclaration> = {}) =>
  (await preflightSearch(plan(operations), { ...declaration, ...overrides }, {}, live)).checks
    .filter((c) => c.status === 'fail')
    .map((c) => [c.code, c.pointer]);

const flip = {
  op: 'update_aliases',
  body: {
    actions: [
      { remove: { index: 'parcels_v1', alias: 'parcels' } },
      { add: { index: 'parcels_v2', alias: 'parcels' } },
    ],
  },
};

describe('preflightSearch', () => {
  it('passes the shadow-index pattern and predicts its touches', async () => {
    const result = await preflightSearch(
      plan([
        { op: 'create_index', index: 'parcels_v2' },
        { op: 'reindex', body: { source: { index: 'parcels_v1' }, dest: { index: 'parcels_v2' } } },
        flip,
      ]),
      declaration,
      {},
      live,
    );
    expect(result.checks.every((c) => c.status === 'pass')).toBe(true);
    expect(result.predicted).toEqual({
      aliases: ['parcels'],
      indices: ['parcels_v1', 'parcels_v2'],
      pipelines: [],
      templates: [],
    });
    expect(result.statements.map((s) => [s.kind, s.transactional, s.data])).toEqual([
      ['create_index', true, false],
      ['reindex', true, true],
      ['update_aliases', true, false],
    ]);
  });

  it('refuses in-place changes of existing indices in a governed apply, but not when declared non-transactional', async () => {
    const ops = [
      { op: 'put_mapping', index: 'parcels_v1', body: { properties: { x: { type: 'keyword' } } } },
      { op: 'reindex', body: { source: { index: 'parcels_v1' }, dest: { index: 'parcels_v3' } } },
    ];
    expect(await failures(ops)).toEqual([
      ['PREFLIGHT_NON_TRANSACTIONAL', '/transactional'],
      ['PREFLIGHT_NON_TRANSACTIONAL', '/transactional'],
    ]);
    expect(await failures(ops, { transactional: false })).toEqual([]);
  });

  it('requires update_aliases to be the last operations of a governed apply', async () => {
    expect(
      await failures([
        { op: 'create_index', index: 'parcels_v2' },
        flip,
        { op: 'put_settings', index: 'parcels_v2', body: { index: { refresh_interval: '1s' } } },
      ]),
    ).toEqual([['PREFLIGHT_NON_TRANSACTIONAL', '/operations/2']]);
  });

  it('names forbidden indices with a pointer to the rule, and protected ones without approval', async () => {
    const ops = [{ op: 'create_index', index: 'authority-sites' }];
    expect(await failures(ops)).toEqual([['PREFLIGHT_FORBIDDEN', '/scope/forbidden_indices/0']]);
    const protectedOnly = await preflightSearch(
      plan([{ op: 'create_index', index: 'parcels_v9' }]),
      declaration,
      { protected: { indices: ['parcels_v9'] } },
      live,
    );
    expect(protectedOnly.checks.filter((c) => c.status === 'fail').map((c) => c.pointer)).toEqual([
      '/approvals/exception_ref',
    ]);
    const approved = await preflightSearch(
      plan([{ op: 'create_index', index: 'parcels_v9' }]),
      { ...declaration, approvals: { exception_ref: 'CHG-1' } },
      { protected: { indices: ['parcels_v9'] } },
      live,
    );
    expect(approved.checks.filter((c) => c.status === 'fail')).toEqual([]);
  });

  it('refuses deleting an index still behind an alias or outside allowed_indices', async () => {
    const nonTx = { transactional: false };
    expect(await failures([{ op: 'delete_index', index: 'parcels_v1' }], nonTx)).toEqual([
      ['PREFLIGHT_FORBIDDEN', '/operations/0'],
    ]);
    expect(await failures([{ op: 'delete_index', index: 'other' }], nonTx)).toEqual([
      ['PREFLIGHT_FORBIDDEN', '/scope/allowed_indices'],
    ]);
    // once the plan moved the alias away, deleting the old index is allowed
    expect(await failures([flip, { op: 'delete_index', index: 'parcels_v1' }], nonTx)).toEqual([]);
  });

  it('turns schema violations into failing checks with pointers', async () => {
    const result = await preflightSearch(plan([{ op: 'create_index', index: 'Parcels' }]), declaration, {}, live);
    expect(result.checks).toHaveLength(1);
    expect(result.checks[0]).toMatchObject({
      status: 'fail',
      code: 'PREFLIGHT_PARSE',
      pointer: '/operations/0/index',
      observed: 'SCHEMA_PATTERN',
    });
    expect(result.checks[0]!.message).toMatch(/^forward\.json:5:\d+ \/operations\/0\/index/);
  });

  describe('names resolved as the cluster will', () => {
    const resolve: IndexResolver = async (names) =>
      new Map(
        names.flatMap((name) =>
          name === 'authority_bar'
            ? [[name, ['authority_bar_v1']]]
            : name === 'parcels'
              ? [[name, ['parcels_v1']]]
              : [],
        ) as [string, string[]][],
      );
    const refused = async (operations: unknown[], overrides: Partial<MigrationDeclaration> = {}) =>
      (
        await preflightSearch(
          plan(operations),
          {
            ...declaration,
            scope: { ...declaration.scope, forbidden_indices: ['authority-sites', 'authority_bar_*'] },
            ...overrides,
          },
          {},
          live,
          { transactional: false },
          resolve,
        )
      ).checks
        .filter((c) => c.status === 'fail')
        .map((c) => c.message);

    it('refuses a reindex into an alias of a forbidden index, naming both', async () => {
      const messages = await refused(
        [{ op: 'reindex', body: { source: { index: 'parcels_v1' }, dest: { index: 'authority_bar' } } }],
        { transactional: false },
      );
      expect(messages.join('\n')).toMatch(/authority_bar, an alias of authority_bar_v1, which the declaration forbids/);
      expect(messages.join('\n')).toMatch(
        /writes to authority_bar, an alias of authority_bar_v1, which scope.allowed_indices does not declare/,
      );
    });

    it('predicts the indices behind an alias a plan writes to', async () => {
      const result = await preflightSearch(
        plan([{ op: 'put_settings', index: 'parcels', body: { index: { refresh_interval: '1s' } } }]),
        {
          ...declaration,
          scope: { ...declaration.scope, allowed_indices: ['parcels', 'parcels_*'] },
          transactional: false,
        },
        {},
        live,
        { transactional: false },
        resolve,
      );
      expect(result.predicted.indices).toEqual(['parcels', 'parcels_v1']);
      expect(result.checks.filter((c) => c.status === 'fail')).toEqual([]);
    });

    it('refuses reindex scripts and pipelines that re-route documents, and undeclared pipelines', async () => {
      const reindex = (extra: object) => ({
        op: 'reindex',
        body: { source: { index: 'parcels_v1' }, dest: { index: 'parcels_v2' }, ...extra },
      });
      expect(
        (
          await refused([
            { op: 'create_index', index: 'parcels_v2' },
            reindex({ script: { source: "ctx._index = 'authority-sites'" } }),
          ])
        ).join(),
      ).toMatch(/\[reindex-routing\]/);
      expect(
        (
          await refused([
            { op: 'create_index', index: 'parcels_v2' },
            reindex({ script: { source: "if (ctx['op'] == 'x') { ctx['op'] = 'delete' }" } }),
          ])
        ).join(),
      ).toMatch(/\[reindex-routing\]/);
      expect(
        await refused([
          { op: 'create_index', index: 'parcels_v2' },
          reindex({
            script: { source: "ctx._source.name = ctx._source.name.toLowerCase(); if (ctx.op == 'index') {}" },
          }),
        ]),
      ).toEqual([]);
      expect(
        (
          await refused(
            [
              {
                op: 'put_pipeline',
                id: 'p1',
                body: { processors: [{ set: { field: '_index', value: 'authority-sites' } }] },
              },
            ],
            { scope: { ...declaration.scope, allowed_pipelines: ['p1'] } },
          )
        ).join(),
      ).toMatch(/\[pipeline-routing\]/);
      expect(
        (
          await refused([
            { op: 'create_index', index: 'parcels_v2' },
            {
              op: 'reindex',
              body: { source: { index: 'parcels_v1' }, dest: { index: 'parcels_v2', pipeline: 'mystery' } },
            },
          ])
        ).join(),
      ).toMatch(/pipeline mystery, which scope.allowed_pipelines does not declare/);
    });
  });
});
