import { describe, expect, it } from 'vitest';
import type { RunReceipt } from '@kfm/migration-contracts';
import { canonicalJson } from './digest.js';
import { buildProv, type ProvNode } from './prov.js';

const IN = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';
const OUT = 'bagaaierasords4njcts6vs7qvdjfcvgnume4hqohf65zsfguprqphs3icwea';

const receipt: RunReceipt = {
  kfm_run_receipt_version: 'v1',
  run_id: 'kfm://run/2026-03-01T18:30:00Z.migration.PG-MIG-2026-03-01-01.abcd1234',
  run_type: 'migration',
  migration_id: 'PG-MIG-2026-03-01-01',
  operation: 'apply',
  store: 'postgis',
  actor: { principal: 'svc:migrations-runner', role: 'pipeline' },
  environment: { name: 'stage' },
  inputs: [
    { path: 'forward.sql', digest: IN },
    { path: 'migration.yml', digest: IN, bytes: 512 },
  ],
  outputs: [
    { path: 'baselines/post.json', digest: OUT },
    { path: 'baselines/pre.json', digest: OUT },
  ],
  validation: { status: 'pass', checks: [] },
  outcome: { status: 'committed', exit_code: 0 },
  policy: {},
  started_at: '2026-03-01T18:30:00Z',
  finished_at: '2026-03-01T18:31:12Z',
};

function node(graph: ProvNode[], predicate: (n: ProvNode) => boolean): ProvNode {
  const found = graph.find(predicate);
  if (!found) throw new Error('node not found');
  return found;
}

describe('buildProv', () => {
  it('models the run as a prov:Activity that used its inputs, generated its outputs and was associated with its actor', () => {
    const doc = buildProv(receipt);
    expect(doc['@context']).toMatchObject({
      prov: 'http://www.w3.org/ns/prov#',
      xsd: 'http://www.w3.org/2001/XMLSchema#',
    });
    const graph = doc['@graph'];
    const activity = node(graph, (n) => n['@type'] === 'prov:Activity');
    expect(activity['@id']).toBe(receipt.run_id);
    expect(activity['prov:startedAtTime']).toEqual({ '@value': '2026-03-01T18:30:00Z', '@type': 'xsd:dateTime' });
    expect(activity['prov:endedAtTime']).toEqual({ '@value': '2026-03-01T18:31:12Z', '@type': 'xsd:dateTime' });

    const entities = graph.filter((n) => n['@type'] === 'prov:Entity');
    expect(entities.map((n) => n['kfm:path']).sort()).toEqual([
      'baselines/post.json',
      'baselines/pre.json',
      'forward.sql',
      'migration.yml',
    ]);
    const used = (activity['prov:used'] as { '@id': string }[]).map((ref) => ref['@id']);
    const inputIds = entities.filter((n) => n['kfm:role'] === 'input').map((n) => n['@id']);
    expect(used.sort()).toEqual(inputIds.sort());
    for (const entity of entities.filter((n) => n['kfm:role'] === 'output')) {
      expect(entity['prov:wasGeneratedBy']).toEqual({ '@id': receipt.run_id });
      expect(entity['kfm:digest']).toBe(OUT);
    }
    expect(node(graph, (n) => n['kfm:path'] === 'migration.yml')['kfm:bytes']).toBe(512);

    const agent = node(graph, (n) => Array.isArray(n['@type']) && n['@type'].includes('prov:Agent'));
    expect(agent['kfm:principal']).toBe('svc:migrations-runner');
    expect(activity['prov:wasAssociatedWith']).toEqual({ '@id': agent['@id'] });
  });

  it('is deterministic whatever the order of the receipt arrays', () => {
    const shuffled = { ...receipt, inputs: [...receipt.inputs].reverse(), outputs: [...receipt.outputs].reverse() };
    expect(canonicalJson(buildProv(shuffled))).toBe(canonicalJson(buildProv(receipt)));
    const ids = buildProv(receipt)['@graph'].map((n) => n['@id']);
    expect(ids).toEqual([...ids].sort());
  });

  it('gives content a new identity when its digest changes', () => {
    const changed = { ...receipt, inputs: [{ path: 'forward.sql', digest: OUT }] };
    const before = node(buildProv(receipt)['@graph'], (n) => n['kfm:path'] === 'forward.sql')['@id'];
    const after = node(buildProv(changed)['@graph'], (n) => n['kfm:path'] === 'forward.sql')['@id'];
    expect(after).not.toBe(before);
  });
});
