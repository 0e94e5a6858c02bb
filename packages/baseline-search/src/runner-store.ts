// Where the runner keeps its own records in the search cluster: one hidden index holding the lease
// document, the ledger (events, per-migration state, the chain head), reindex task records of running
// applies and the store-held policy. Created on first use, hidden (never matched by wildcards), excluded
// from every baseline by name and forbidden to every migration.
import { RUNNER_INDEX } from './capture.js';
import { SearchResponseError, type SearchRest } from './es-client.js';

export { RUNNER_INDEX };

const MAPPINGS = {
  dynamic: false,
  properties: {
    type: { type: 'keyword' },
    seq: { type: 'long' },
    migration_id: { type: 'keyword' },
    status: { type: 'keyword' },
    bundle_digest: { type: 'keyword' },
    forward_digest: { type: 'keyword' },
    run_id: { type: 'keyword' },
    receipt_digest: { type: 'keyword' },
    owner: { type: 'keyword' },
    task: { type: 'keyword' },
    at: { type: 'date' },
  },
};

/** Creates the runner index when missing; concurrent creators are fine (already-exists is success). */
export async function ensureRunnerIndex(rest: SearchRest, index = RUNNER_INDEX): Promise<void> {
  try {
    await rest.request('PUT', `/${encodeURIComponent(index)}`, {
      body: {
        settings: { 'index.hidden': true, 'index.number_of_shards': 1, 'index.auto_expand_replicas': '0-1' },
        mappings: MAPPINGS,
      },
      query: { wait_for_active_shards: 1 },
    });
  } catch (error) {
    if (error instanceof SearchResponseError && error.type === 'resource_already_exists_exception') return;
    throw error;
  }
}

export function docPath(index: string, id: string, action = '_doc'): string {
  return `/${encodeURIComponent(index)}/${action}/${encodeURIComponent(id)}`;
}
