// The runner's own hidden index: it holds the lock document and the ledger documents. Created on
// first use, hidden (never matched by wildcards) and excluded from every baseline by name.
import { RUNNER_INDEX } from './capture.js';
import { errors, type SearchRest } from './es-client.js';

export { RUNNER_INDEX };

const MAPPINGS = {
  dynamic: false,
  properties: {
    type: { type: 'keyword' },
    migration_id: { type: 'keyword' },
    status: { type: 'keyword' },
    forward_digest: { type: 'keyword' },
    run_id: { type: 'keyword' },
    receipt_digest: { type: 'keyword' },
    owner: { type: 'keyword' },
    at: { type: 'date' },
  },
};

/** Creates the runner index when missing; concurrent creators are fine (already-exists is success). */
export async function ensureRunnerIndex(rest: SearchRest, index = RUNNER_INDEX): Promise<void> {
  try {
    await rest.request('PUT', `/${encodeURIComponent(index)}`, {
      body: { settings: { 'index.hidden': true, 'index.number_of_shards': 1, 'index.auto_expand_replicas': '0-1' }, mappings: MAPPINGS },
    });
  } catch (error) {
    if (error instanceof errors.ResponseError && (error.body as { error?: { type?: string } })?.error?.type === 'resource_already_exists_exception') return;
    throw error;
  }
}

export function docPath(index: string, id: string, action = '_doc'): string {
  return `/${encodeURIComponent(index)}/${action}/${encodeURIComponent(id)}`;
}
