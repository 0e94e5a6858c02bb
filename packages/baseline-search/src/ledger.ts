// The ledger in the search cluster: an append-only event document per recorded outcome or receipt
// (numbered by `seq`), a latest-state document per migration id (what ledgerState reads, by realtime GET)
// and a head document with the newest receipt digest and the last seq, which chains receipts across
// migrations. Written by the run that holds the lease, so seq numbers never collide. Policy documents
// hold the store-held policy (append-only events plus a latest copy).
import type {
  LedgerEntry,
  LedgerRecord,
  LedgerState,
  Policy,
  ReceiptRecord,
  StorePolicy,
} from '@kfm/migration-contracts';
import type { SearchRest } from './es-client.js';
import { docPath, ensureRunnerIndex } from './runner-store.js';

const HEAD_ID = 'ledger-head';
const POLICY_ID = 'policy-latest';

interface StateDocument {
  type: 'ledger_state' | 'ledger_event';
  seq: number;
  migration_id: string;
  status: LedgerRecord['status'];
  bundle_digest: string;
  /** Documents written before the bundle identity existed. */
  forward_digest?: string;
  run_id: string;
  receipt_digest?: string;
  pre_fingerprint?: string;
  resume?: string;
  at: string;
}

interface Source<T> {
  _source?: T;
}

export class SearchLedger {
  constructor(
    private readonly rest: SearchRest,
    private readonly index: string,
    private readonly now: () => Date,
  ) {}

  async state(migrationId: string): Promise<LedgerState> {
    const [state, head] = await Promise.all([
      this.rest.request<Source<StateDocument> | undefined>('GET', docPath(this.index, `ledger:${migrationId}`), {
        ignore: [404],
      }),
      this.rest.request<Source<{ receipt_digest?: string }> | undefined>('GET', docPath(this.index, HEAD_ID), {
        ignore: [404],
      }),
    ]);
    const last = head?._source?.receipt_digest;
    const source = state?._source;
    if (!source) return { state: 'absent', ...(last ? { last_receipt_digest: last } : {}) };
    const digest = source.bundle_digest ?? source.forward_digest;
    return {
      state: source.status as LedgerState['state'],
      ...(digest ? { bundle_digest: digest } : {}),
      run_id: source.run_id,
      ...(source.pre_fingerprint ? { pre_fingerprint: source.pre_fingerprint } : {}),
      ...(source.resume ? { resume: JSON.parse(source.resume) as Record<string, string | number> } : {}),
      ...(last ? { last_receipt_digest: last } : {}),
    };
  }

  private async nextSeq(): Promise<number> {
    const head = await this.rest.request<Source<{ seq?: number }> | undefined>('GET', docPath(this.index, HEAD_ID), {
      ignore: [404],
    });
    return (head?._source?.seq ?? 0) + 1;
  }

  private async append(document: StateDocument, moveHead: boolean): Promise<void> {
    // History first: a crash between the writes leaves an event without a state change, never the reverse.
    await this.rest.request('PUT', docPath(this.index, `event:${String(document.seq).padStart(12, '0')}`, '_create'), {
      body: { ...document, type: 'ledger_event' },
      query: { refresh: 'true' },
    });
    if (document.status !== 'receipt')
      await this.rest.request('PUT', docPath(this.index, `ledger:${document.migration_id}`), {
        body: { ...document, type: 'ledger_state' },
        query: { refresh: 'true' },
      });
    const head = await this.rest.request<Source<{ receipt_digest?: string }> | undefined>(
      'GET',
      docPath(this.index, HEAD_ID),
      { ignore: [404] },
    );
    const receipt = moveHead ? document.receipt_digest : head?._source?.receipt_digest;
    await this.rest.request('PUT', docPath(this.index, HEAD_ID), {
      body: {
        type: 'ledger_head',
        seq: document.seq,
        ...(receipt ? { receipt_digest: receipt } : {}),
        at: document.at,
      },
      query: { refresh: 'true' },
    });
  }

  async record(entry: LedgerEntry): Promise<void> {
    await ensureRunnerIndex(this.rest, this.index);
    await this.append(
      {
        type: 'ledger_state',
        seq: await this.nextSeq(),
        migration_id: entry.migration_id,
        status: entry.status,
        bundle_digest: entry.bundle_digest,
        run_id: entry.run_id,
        ...(entry.receipt_digest ? { receipt_digest: entry.receipt_digest } : {}),
        ...(entry.pre_fingerprint ? { pre_fingerprint: entry.pre_fingerprint } : {}),
        ...(entry.resume ? { resume: JSON.stringify(entry.resume) } : {}),
        at: this.now().toISOString(),
      },
      Boolean(entry.receipt_digest),
    );
  }

  async recordReceipt(record: ReceiptRecord): Promise<void> {
    await ensureRunnerIndex(this.rest, this.index);
    await this.append(
      {
        type: 'ledger_event',
        seq: await this.nextSeq(),
        migration_id: record.migration_id,
        status: 'receipt',
        bundle_digest: record.bundle_digest,
        run_id: record.run_id,
        receipt_digest: record.receipt_digest,
        at: this.now().toISOString(),
      },
      true,
    );
  }

  async history(migrationId?: string): Promise<LedgerRecord[]> {
    const answer = await this.rest.request<{ hits?: { hits?: Source<StateDocument>[] } } | undefined>(
      'POST',
      `/${encodeURIComponent(this.index)}/_search`,
      {
        body: {
          size: 10_000,
          sort: [{ seq: 'asc' }],
          query: {
            bool: {
              filter: [
                { term: { type: 'ledger_event' } },
                ...(migrationId ? [{ term: { migration_id: migrationId } }] : []),
              ],
            },
          },
        },
        ignore: [404],
      },
    );
    return (answer?.hits?.hits ?? []).flatMap((hit) => {
      const source = hit._source;
      if (!source) return [];
      const digest = source.bundle_digest ?? source.forward_digest;
      return [
        {
          seq: source.seq ?? 0,
          migration_id: source.migration_id,
          run_id: source.run_id,
          status: source.status,
          ...(digest ? { bundle_digest: digest } : {}),
          ...(source.receipt_digest ? { receipt_digest: source.receipt_digest } : {}),
          recorded_at: source.at,
        },
      ];
    });
  }

  async policy(): Promise<StorePolicy | undefined> {
    const answer = await this.rest.request<
      Source<{ policy?: string; digest?: string; run_id?: string; at?: string }> | undefined
    >('GET', docPath(this.index, POLICY_ID), { ignore: [404] });
    const source = answer?._source;
    if (!source?.policy) return undefined;
    return {
      policy: JSON.parse(source.policy) as Policy,
      digest: String(source.digest),
      run_id: String(source.run_id),
      ...(source.at ? { recorded_at: source.at } : {}),
    };
  }

  async writePolicy(policy: StorePolicy): Promise<void> {
    await ensureRunnerIndex(this.rest, this.index);
    const document = {
      type: 'policy',
      policy: JSON.stringify(policy.policy),
      digest: policy.digest,
      run_id: policy.run_id,
      at: this.now().toISOString(),
    };
    await this.rest.request('POST', `/${encodeURIComponent(this.index)}/_doc`, {
      body: { ...document, type: 'policy_event' },
      query: { refresh: 'true' },
    });
    await this.rest.request('PUT', docPath(this.index, POLICY_ID), { body: document, query: { refresh: 'true' } });
  }
}
