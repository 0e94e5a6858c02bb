// W3C PROV-O (JSON-LD) view of a run receipt, for lineage tools: the run is a prov:Activity that used its
// inputs and generated its outputs, associated with its actor. Derived only from the receipt, so it is
// deterministic and carries nothing the receipt does not already hold (no secrets by construction).
import type { FileDigest, RunReceipt } from '@kfm/migration-contracts';

export const PROV_CONTEXT = {
  prov: 'http://www.w3.org/ns/prov#',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
  kfm: 'https://schemas.kfm.dev/migrations/prov#',
} as const;

export type ProvNode = { '@id': string; '@type': string | string[] } & Record<string, unknown>;

export interface ProvDocument {
  '@context': typeof PROV_CONTEXT;
  '@graph': ProvNode[];
}

/** Builds the PROV-O JSON-LD document of one run; nodes sorted by @id, references sorted too. */
export function buildProv(receipt: RunReceipt): ProvDocument {
  const activityId = receipt.run_id;
  const agentId = `kfm://agent/${encodeURIComponent(receipt.actor.principal)}`;
  const inputs = receipt.inputs.map((file) => entity(file, 'input'));
  const outputs = receipt.outputs.map((file) => ({
    ...entity(file, 'output'),
    'prov:wasGeneratedBy': { '@id': activityId },
  }));

  const association: Record<string, unknown> = { '@type': 'prov:Association', 'prov:agent': { '@id': agentId } };
  if (receipt.actor.role) association['prov:hadRole'] = { '@id': `kfm:role/${encodeURIComponent(receipt.actor.role)}` };

  const activity: ProvNode = {
    '@id': activityId,
    '@type': 'prov:Activity',
    'prov:startedAtTime': dateTime(receipt.started_at),
    'prov:endedAtTime': dateTime(receipt.finished_at),
    'prov:used': uniqueSorted(inputs.map((node) => node['@id'])).map((id) => ({ '@id': id })),
    'prov:wasAssociatedWith': { '@id': agentId },
    'prov:qualifiedAssociation': association,
    'kfm:migrationId': receipt.migration_id,
    'kfm:runType': receipt.run_type,
    'kfm:environment': receipt.environment.name,
    'kfm:validationStatus': receipt.validation.status,
  };
  if (receipt.operation) activity['kfm:operation'] = receipt.operation;
  if (receipt.store) activity['kfm:store'] = receipt.store;
  if (receipt.outcome) activity['kfm:outcome'] = receipt.outcome.status;
  if (receipt.digest_algorithm) activity['kfm:digestAlgorithm'] = receipt.digest_algorithm;

  const agent: ProvNode = {
    '@id': agentId,
    // Service principals (`svc:…`) are software; anything else is recorded only as an agent.
    '@type': receipt.actor.principal.startsWith('svc:') ? ['prov:Agent', 'prov:SoftwareAgent'] : 'prov:Agent',
    'kfm:principal': receipt.actor.principal,
  };

  const graph = mergeById([activity, agent, ...inputs, ...outputs]);
  return { '@context': PROV_CONTEXT, '@graph': graph };
}

/**
 * An artifact's identity is its path and its digest: the same file with the same bytes is the same
 * entity across runs (so lineage joins up), any change of content is a new entity.
 */
function entity(file: FileDigest, role: 'input' | 'output'): ProvNode {
  const node: ProvNode = {
    '@id': `kfm://artifact/${file.digest}/${file.path.split('/').map(encodeURIComponent).join('/')}`,
    '@type': 'prov:Entity',
    'kfm:path': file.path,
    'kfm:digest': file.digest,
    'kfm:role': file.role ?? role,
  };
  if (file.bytes !== undefined) node['kfm:bytes'] = file.bytes;
  return node;
}

function dateTime(value: string): { '@value': string; '@type': 'xsd:dateTime' } {
  return { '@value': value, '@type': 'xsd:dateTime' };
}

/** A file that is both used and generated (same path, same bytes) becomes one node with both relations. */
function mergeById(nodes: ProvNode[]): ProvNode[] {
  const byId = new Map<string, ProvNode>();
  for (const node of nodes) {
    const existing = byId.get(node['@id']);
    if (!existing) {
      byId.set(node['@id'], node);
      continue;
    }
    const merged: ProvNode = { ...existing, ...node };
    if (existing['kfm:role'] !== node['kfm:role'])
      merged['kfm:role'] = uniqueSorted([String(existing['kfm:role']), String(node['kfm:role'])]);
    byId.set(node['@id'], merged);
  }
  return [...byId.values()].sort((a, b) => (a['@id'] < b['@id'] ? -1 : a['@id'] > b['@id'] ? 1 : 0));
}

function uniqueSorted(values: string[]): string[] {
  return [...new Set(values)].sort();
}
