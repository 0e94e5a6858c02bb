// Documents written per index during a run, from the cluster's own indexing counters
// (`GET /_stats/indexing`, primaries: index_total and delete_total). Writes happen only through plan
// operations, and preflight resolves where those go; these counters are the independent check that
// nothing landed elsewhere. They are cluster-wide, so other clients' writes count too: the changes are
// marked approximate, and only indices the declaration names (allowed, forbidden) or the policy protects
// are reported — an unrelated index's live traffic is not this run's business.
import { matchesAny } from '@kfm/adapter-kit';
import type { DataChange, MigrationDeclaration, ProtectedDomains } from '@kfm/migration-contracts';
import type { SearchRest } from './es-client.js';
import { isReserved } from './scope.js';

export type WriteCounters = Map<string, { indexed: number; deleted: number }>;

export async function writeCounters(rest: SearchRest): Promise<WriteCounters> {
  const answer = await rest.request<{
    indices?: Record<string, { primaries?: { indexing?: { index_total?: number; delete_total?: number } } }>;
  }>('GET', '/_stats/indexing', {
    query: {
      level: 'indices',
      expand_wildcards: 'all',
      filter_path: 'indices.*.primaries.indexing.index_total,indices.*.primaries.indexing.delete_total',
    },
    ignore: [404],
  });
  const counters: WriteCounters = new Map();
  for (const [index, stats] of Object.entries(answer?.indices ?? {})) {
    if (index.startsWith('.') || isReserved(index)) continue;
    counters.set(index, {
      indexed: stats.primaries?.indexing?.index_total ?? 0,
      deleted: stats.primaries?.indexing?.delete_total ?? 0,
    });
  }
  return counters;
}

/** Indices whose counters moved, among those the declaration or the policy names. */
export function writesSince(
  before: WriteCounters,
  after: WriteCounters,
  declaration: MigrationDeclaration,
  domains: ProtectedDomains | undefined,
): DataChange[] {
  const scope = declaration.scope as Record<string, string[] | undefined>;
  const named = [...(scope.allowed_indices ?? []), ...(scope.forbidden_indices ?? []), ...(domains?.indices ?? [])];
  const changes: DataChange[] = [];
  for (const [index, now] of after) {
    const then = before.get(index) ?? { indexed: 0, deleted: 0 };
    const counts = { indexed: now.indexed - then.indexed, deleted: now.deleted - then.deleted };
    if (counts.indexed <= 0 && counts.deleted <= 0) continue;
    if (!matchesAny(named, [index])) continue;
    changes.push({ object: index, kind: 'index', scope: { indices: [index] }, counts, approximate: true });
  }
  return changes.sort((a, b) => (a.object < b.object ? -1 : a.object > b.object ? 1 : 0));
}
