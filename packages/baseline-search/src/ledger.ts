// The ledger in Elasticsearch: an append-only history document per event, a latest-state document
// per migration id (what ledgerState reads) and a head document with the newest receipt digest,
// which chains receipts across migrations. All reads are realtime GETs by id.
import type { LedgerEntry, LedgerState } from '@kfm/migration-contracts';
import type { SearchRest } from './es-client.js';
import { docPath, ensureRunnerIndex } from './runner-index.js';

const HEAD_ID = 'ledger-head';

interface StateDocument {
  type: 'ledger_state';
  migration_id: string;
  status: LedgerEntry['status'];
  forward_digest: string;
  run_id: string;
  receipt_digest?: string;
  at: string;
}

export class SearchLedger {
  constructor(private readonly rest: SearchRest, private readonly index: string, private readonly now: () => Date) {}

  async state(migrationId: string): Promise<LedgerState> {
    const [state, head] = await Promise.all([
      this.rest.request<{ _source?: StateDocument }>('GET', docPath(this.index, `ledger:${migrationId}`), { ignore: [404] }),
      this.rest.request<{ _source?: { receipt_digest?: string } }>('GET', docPath(this.index, HEAD_ID), { ignore: [404] }),
    ]);
    const last = head?._source?.receipt_digest;
    const source = state?._source;
    if (!source) return { state: 'absent', ...(last ? { last_receipt_digest: last } : {}) };
    return { state: source.status, forward_digest: source.forward_digest, run_id: source.run_id, ...(last ? { last_receipt_digest: last } : {}) };
  }

  async record(entry: LedgerEntry): Promise<void> {
    await ensureRunnerIndex(this.rest, this.index);
    const document: StateDocument = {
      type: 'ledger_state',
      migration_id: entry.migration_id,
      status: entry.status,
      forward_digest: entry.forward_digest,
      run_id: entry.run_id,
      ...(entry.receipt_digest ? { receipt_digest: entry.receipt_digest } : {}),
      at: this.now().toISOString(),
    };
    // History first: a crash between the writes leaves an event without a state change, never the reverse.
    await this.rest.request('POST', `/${encodeURIComponent(this.index)}/_doc`, { body: { ...document, type: 'ledger_event' }, query: { op_type: 'create' } });
    await this.rest.request('PUT', docPath(this.index, `ledger:${entry.migration_id}`), { body: document, query: { refresh: 'true' } });
    if (entry.receipt_digest) {
      await this.rest.request('PUT', docPath(this.index, HEAD_ID), { body: { type: 'ledger_head', receipt_digest: entry.receipt_digest, migration_id: entry.migration_id, at: document.at }, query: { refresh: 'true' } });
    }
  }
}
