// One run per cluster: a lease on one document of the runner index. Creation uses op_type=create, so
// exactly one run wins, and waits for every copy of the shard (a new run does not start on a degraded
// runner index); renewal, takeover and release are compare-and-set on the document's
// seq_no/primary_term (a primary term bumped by a failover, with our own token still in the document,
// is not a takeover); reads are realtime GETs. The kit's LeaseLock does the rest (renewal every TTL/3,
// takeover of an expired lease, bounded waiting). A run that takes over a dead run's lease cleans what it
// left: its reindex tasks are cancelled and the shadow indices tagged with its run id (and not behind any
// alias) are deleted — nothing else.
import { LeaseLock, type LeaseRecord, type LeaseStore, type VersionedLease } from '@kfm/adapter-kit';
import { SearchResponseError, type SearchRest } from './es-client.js';
import { docPath, ensureRunnerIndex } from './runner-store.js';

export const LOCK_ID = 'lock';
/** The `_meta` key of a shadow index that names the run that created it. */
export const RUN_TAG = 'kfm_run_id';

interface Versioned {
  _seq_no: number;
  _primary_term: number;
}

function leaseOf(source: Partial<LeaseRecord> & { at?: string }): LeaseRecord {
  return {
    owner: source.owner ?? 'an unknown run',
    run_id: source.run_id ?? 'unknown',
    token: source.token ?? '',
    since: source.since ?? source.at ?? '',
    // A lock document from before leases has no expiry: a crashed old run must not block forever.
    expires_at: source.expires_at ?? '1970-01-01T00:00:00.000Z',
  };
}

export class SearchLeaseStore implements LeaseStore {
  readonly where: string;

  constructor(
    private readonly rest: SearchRest,
    private readonly index: string,
  ) {
    this.where = `lock document ${index}/_doc/${LOCK_ID}`;
  }

  async read(): Promise<VersionedLease | undefined> {
    await ensureRunnerIndex(this.rest, this.index);
    const current = await this.rest.request<(Versioned & { _source?: Partial<LeaseRecord> }) | undefined>(
      'GET',
      docPath(this.index, LOCK_ID),
      { query: { realtime: true }, ignore: [404] },
    );
    if (!current?._source) return undefined;
    return { lease: leaseOf(current._source), version: { seqNo: current._seq_no, primaryTerm: current._primary_term } };
  }

  async create(lease: LeaseRecord): Promise<VersionedLease | undefined> {
    await ensureRunnerIndex(this.rest, this.index);
    try {
      const created = await this.rest.request<Versioned>('PUT', docPath(this.index, LOCK_ID, '_create'), {
        body: { type: 'lock', ...lease },
        query: { refresh: 'true', wait_for_active_shards: 'all' },
      });
      return { lease, version: { seqNo: created._seq_no, primaryTerm: created._primary_term } };
    } catch (error) {
      if (error instanceof SearchResponseError && error.statusCode === 409) return undefined;
      throw error;
    }
  }

  async replace(version: unknown, lease: LeaseRecord): Promise<VersionedLease | undefined> {
    let { seqNo, primaryTerm } = version as { seqNo: number; primaryTerm: number };
    for (let attempt = 0; ; attempt++) {
      try {
        // Renewals wait for the primary only: every acknowledged write is still copied to all in-sync
        // replicas, and a running migration must not lose its lease because one replica is missing.
        const written = await this.rest.request<Versioned>('PUT', docPath(this.index, LOCK_ID), {
          body: { type: 'lock', ...lease },
          query: { if_seq_no: seqNo, if_primary_term: primaryTerm, refresh: 'true' },
        });
        return { lease, version: { seqNo: written._seq_no, primaryTerm: written._primary_term } };
      } catch (error) {
        if (!(error instanceof SearchResponseError && (error.statusCode === 409 || error.statusCode === 404)))
          throw error;
        // A replica promoted after the primary's node was lost bumps the primary term of a document no
        // one else wrote: still ours (same holder token) means retry at the new version, once.
        const current = attempt === 0 ? await this.read() : undefined;
        if (!current || current.lease.token !== lease.token || current.lease.run_id !== lease.run_id) return undefined;
        ({ seqNo, primaryTerm } = current.version as { seqNo: number; primaryTerm: number });
      }
    }
  }

  async remove(version: unknown): Promise<boolean> {
    const { seqNo, primaryTerm } = version as { seqNo: number; primaryTerm: number };
    const answer = await this.rest.request<{ result?: string } | undefined>('DELETE', docPath(this.index, LOCK_ID), {
      query: { if_seq_no: seqNo, if_primary_term: primaryTerm, refresh: 'true' },
      ignore: [404, 409],
    });
    return answer?.result === 'deleted';
  }

  /** Cancels the dead run's reindex tasks and deletes the unaliased indices tagged with its run id. */
  async cleanup(deadRunId: string): Promise<string[]> {
    const cleaned: string[] = [];
    await this.rest.request('POST', `/${encodeURIComponent(this.index)}/_refresh`, { ignore: [404] });
    const tasks = await this.rest.request<
      { hits?: { hits?: { _id: string; _source?: { task?: string } }[] } } | undefined
    >('POST', `/${encodeURIComponent(this.index)}/_search`, {
      body: { size: 100, query: { bool: { filter: [{ term: { type: 'task' } }, { term: { run_id: deadRunId } }] } } },
      ignore: [404],
    });
    for (const hit of tasks?.hits?.hits ?? []) {
      const task = hit._source?.task;
      if (task) {
        await this.rest.request('POST', `/_tasks/${encodeURIComponent(task)}/_cancel`, { ignore: [404] });
        cleaned.push(`reindex task ${task} cancelled`);
      }
      await this.rest.request('DELETE', docPath(this.index, hit._id), { query: { refresh: 'true' }, ignore: [404] });
    }
    const mappings = await this.rest.request<
      Record<string, { mappings?: { _meta?: Record<string, unknown> } }> | undefined
    >('GET', '/_all/_mapping', { query: { expand_wildcards: 'all' }, ignore: [404] });
    for (const [index, entry] of Object.entries(mappings ?? {})) {
      if (entry.mappings?._meta?.[RUN_TAG] !== deadRunId) continue;
      const aliases = await this.rest.request<Record<string, { aliases?: Record<string, unknown> }> | undefined>(
        'GET',
        `/${encodeURIComponent(index)}/_alias`,
        { ignore: [404] },
      );
      if (Object.keys(aliases?.[index]?.aliases ?? {}).length > 0) continue; // an alias points at it: not a leftover shadow
      await this.rest.request('DELETE', `/${encodeURIComponent(index)}`, { ignore: [404] });
      cleaned.push(`shadow index ${index} deleted`);
    }
    return cleaned;
  }
}

export function searchLock(rest: SearchRest, index: string): LeaseLock {
  return new LeaseLock(new SearchLeaseStore(rest, index));
}
