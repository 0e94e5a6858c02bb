// The store lock: one document created with op_type=create in the runner index. Creation is atomic
// per document id, so exactly one run wins; the loser learns the holder at once (never waits).
// Unlock deletes the document only if it is still the one this run created (seq_no/primary_term).
import type { LockResult } from '@kfm/migration-contracts';
import { errors, type SearchRest } from './es-client.js';
import { docPath, ensureRunnerIndex } from './runner-index.js';

export const LOCK_ID = 'lock';

interface LockDocument {
  type: 'lock';
  owner: string;
  at: string;
}

export class SearchLock {
  private held: { seqNo: number; primaryTerm: number } | undefined;

  constructor(private readonly rest: SearchRest, private readonly index: string, private readonly now: () => Date) {}

  async lock(owner: string): Promise<LockResult> {
    await ensureRunnerIndex(this.rest, this.index);
    const document: LockDocument = { type: 'lock', owner, at: this.now().toISOString() };
    try {
      const created = await this.rest.request<{ _seq_no: number; _primary_term: number }>('PUT', docPath(this.index, LOCK_ID, '_create'), { body: document, query: { refresh: 'true' } });
      this.held = { seqNo: created._seq_no, primaryTerm: created._primary_term };
      return { acquired: true };
    } catch (error) {
      if (!(error instanceof errors.ResponseError) || error.statusCode !== 409) throw error;
    }
    // A realtime GET sees the winner's document even before a refresh.
    const current = await this.rest.request<{ _source?: LockDocument }>('GET', docPath(this.index, LOCK_ID), { ignore: [404] });
    const holder = current?._source;
    return { acquired: false, holder: holder ? `${holder.owner} since ${holder.at} (lock document ${this.index}/${LOCK_ID})` : 'another run (released while we looked; try again)' };
  }

  async unlock(): Promise<void> {
    if (!this.held) return;
    const { seqNo, primaryTerm } = this.held;
    this.held = undefined;
    await this.rest.request('DELETE', docPath(this.index, LOCK_ID), { query: { if_seq_no: seqNo, if_primary_term: primaryTerm, refresh: 'true' }, ignore: [404, 409] });
  }
}
