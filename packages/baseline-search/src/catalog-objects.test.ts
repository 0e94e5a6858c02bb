import { evaluate } from '@kfm/diff';
import type { Baseline, MigrationDeclaration } from '@kfm/migration-contracts';
import { describe, expect, it } from 'vitest';
import { searchVocabulary } from './adapter.js';
import { assembleBaseline } from './capture.js';
import { type CatalogResponses, catalogObjects } from './catalog-objects.js';

const responses = (
  componentBody: Record<string, unknown>,
  pipelineBody: Record<string, unknown>,
): CatalogResponses => ({
  indices: [
    { index: 'authority-sites', status: 'open' },
    { index: 'parcels_v1', status: 'open' },
  ],
  mappings: {},
  settings: { 'authority-sites': { settings: { 'index.default_pipeline': 'stamp' } }, parcels_v1: { settings: {} } },
  aliases: {},
  indexTemplates: [
    { name: 'authority-tpl', index_template: { index_patterns: ['authority-*'], composed_of: ['shared'] } },
  ],
  componentTemplates: [{ name: 'shared', component_template: { template: componentBody } }],
  pipelines: { stamp: pipelineBody },
});
const filter = { excluded: () => false };
const baseline = async (r: CatalogResponses): Promise<Baseline> =>
  assembleBaseline(
    { server: { product: 'Elasticsearch', version: '7.10.2' }, objects: await catalogObjects(r, filter), docs: {} },
    {},
  );

const declaration: MigrationDeclaration = {
  migration_id: 'SEARCH-MIG-2026-12-01-01',
  type: 'search',
  intent: 'test',
  scope: {
    allowed_templates: ['shared'],
    allowed_pipelines: ['stamp'],
    allowed_indices: ['parcels_*'],
    forbidden_templates: ['authority-*'],
  },
  limits: {},
  requires_rollback: true,
  approvals: {},
  runner: {},
  artifacts: { forward: ['forward.json'] },
};

describe('dependents of shared search objects', () => {
  it('names the index templates composed of a component template and the indices a pipeline feeds', async () => {
    const objects = await catalogObjects(responses({ settings: {} }, { processors: [] }), filter);
    expect(objects.find((o) => o.kind === 'component_template')?.scope).toEqual({
      templates: ['shared', 'authority-tpl'],
    });
    expect(objects.find((o) => o.kind === 'pipeline')?.scope).toEqual({
      pipelines: ['stamp'],
      indices: ['authority-sites'],
    });
  });

  it('fails a change to an allowed component template or pipeline that reaches a forbidden template or an undeclared index', async () => {
    const pre = await baseline(responses({ settings: {} }, { processors: [] }));
    const post = await baseline(
      responses({ settings: { 'index.refresh_interval': '1s' } }, { processors: [{ set: { field: 'x', value: 1 } }] }),
    );
    const summary = evaluate(declaration, { pre, post }, searchVocabulary);
    const failing = summary.checks.filter((check) => check.status === 'fail').map((check) => check.name);
    expect(failing).toEqual(expect.arrayContaining(['scope.forbidden_templates', 'scope.allowed_indices']));
  });
});
