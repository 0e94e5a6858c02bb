// Elasticsearch baseline capture: a fixed handful of cluster-wide catalog requests (never one per
// index), turned into digested objects, counts, doc-count measures and fingerprints. The runner's
// own hidden index and every `.`-prefixed (system/hidden) index are outside every fingerprint.
import type { Baseline, BaselineObject, BaselineOptions, Check, ProtectedDomains } from '@kfm/migration-contracts';
import { cidOfJson, fingerprintOf } from '@kfm/receipts';
import { catalogObjects, included, type CatalogFilter, type CatalogResponses } from './catalog-objects.js';
import type { SearchClient, SearchRest, ServerInfo } from './es-client.js';
import { compareText, expressionPatterns, matchesPattern } from './scope.js';

/** The runner's hidden index: lock and ledger documents; never part of a baseline. */
export const RUNNER_INDEX = '.kfm-migrations';

export interface SearchScopeOptions {
  /**
   * Restricts capture to names matching this index expression (`kfmt-ab12-*`, comma-separated
   * patterns allowed): indices, aliases on them, templates, component templates and pipelines.
   * Lets tests and tenants share a cluster without seeing each other.
   */
  indexPattern?: string;
}

export interface SearchBaselineOptions extends BaselineOptions, SearchScopeOptions {
  /** Extra invariant checks to record (the governed apply adds its plan invariants). */
  invariants?: Check[];
}

const COUNT_KEYS: Record<string, string> = {
  index: 'indices',
  alias: 'aliases',
  index_template: 'index_templates',
  component_template: 'component_templates',
  pipeline: 'pipelines',
  analyzer: 'analyzers',
};

/** A path segment for an index expression; `*` and `,` stay meaningful, nothing else can escape. */
function expressionSegment(expression: string): string {
  if (!/^[^\s/?#"\\<>|]+$/.test(expression))
    throw new TypeError('indexPattern holds characters an index expression cannot contain');
  return encodeURIComponent(expression).replace(/%2A/gi, '*').replace(/%2C/gi, ',');
}

/** The catalog requests; an absent expression means every index, hidden ones included (`index.hidden`
 *  does not put an index outside a migration's reach); `.`-prefixed system indices are filtered later. */
export async function fetchCatalog(
  rest: SearchRest,
  indexPattern?: string,
): Promise<{ responses: CatalogResponses; docs: Record<string, number> }> {
  const target = indexPattern ? `/${expressionSegment(indexPattern)}` : '';
  const wildcards = { expand_wildcards: 'all', allow_no_indices: true, ignore_unavailable: true };
  const [indices, mappings, settings, aliases, indexTemplates, componentTemplates, pipelines] = await Promise.all([
    rest.request<CatalogResponses['indices']>('GET', `/_cat/indices${target}`, {
      query: { format: 'json', h: 'index,status,docs.count', expand_wildcards: 'all' },
      ignore: [404],
    }),
    rest.request<CatalogResponses['mappings']>('GET', `${target}/_mapping`, { query: wildcards, ignore: [404] }),
    rest.request<CatalogResponses['settings']>('GET', `${target}/_settings`, {
      query: { ...wildcards, flat_settings: true },
      ignore: [404],
    }),
    rest.request<CatalogResponses['aliases']>('GET', `${target}/_alias`, { query: wildcards, ignore: [404] }),
    rest.request<{ index_templates?: CatalogResponses['indexTemplates'] }>('GET', '/_index_template', {
      ignore: [404],
    }),
    rest.request<{ component_templates?: CatalogResponses['componentTemplates'] }>('GET', '/_component_template', {
      ignore: [404],
    }),
    rest.request<CatalogResponses['pipelines']>('GET', '/_ingest/pipeline', { ignore: [404] }),
  ]);
  const responses: CatalogResponses = {
    indices: indices ?? [],
    mappings: mappings ?? {},
    settings: settings ?? {},
    aliases: aliases ?? {},
    indexTemplates: indexTemplates?.index_templates ?? [],
    componentTemplates: componentTemplates?.component_templates ?? [],
    pipelines: pipelines ?? {},
  };
  const open = responses.indices.filter((row) => (row.status ?? 'open') === 'open');
  // The catalog's docs.count counts Lucene documents: the top-level ones, plus one per nested object.
  // Only an index whose mapping has a nested field needs the search that counts top-level documents
  // (a terms aggregation on `_index`); every other one reads its count from the catalog, no search.
  const nested = open.filter((row) => hasNested(responses.mappings[row.index]?.mappings));
  const direct = nested.length <= DIRECT_COUNT_TARGETS;
  const buckets =
    nested.length === 0
      ? []
      : await countDocuments(
          rest,
          direct ? `/${nested.map((row) => encodeURIComponent(row.index)).join(',')}` : target,
          direct ? nested.length : open.length,
        );
  const docs: Record<string, number> = {};
  for (const row of open) docs[row.index] = Number(row['docs.count'] ?? 0) || 0;
  const counted = new Map(buckets.map((bucket) => [bucket.key, bucket.doc_count]));
  for (const row of nested) docs[row.index] = counted.get(row.index) ?? 0;
  return { responses, docs };
}

/** Up to this many nested-mapped indices are named in the count's URL; beyond, the pattern is searched. */
const DIRECT_COUNT_TARGETS = 100;

/** Does a mapping (or any object in it) declare a `nested` field? */
function hasNested(mapping: unknown): boolean {
  if (mapping === null || typeof mapping !== 'object') return false;
  if ((mapping as { type?: unknown }).type === 'nested') return true;
  return Object.values(mapping).some((value) => hasNested(value));
}

/** Top-level document counts per open index in ONE search (a terms aggregation on `_index`). */
async function countDocuments(
  rest: SearchRest,
  target: string,
  size: number,
): Promise<{ key: string; doc_count: number }[]> {
  const answer = await rest.request<{ aggregations?: { docs?: { buckets?: { key: string; doc_count: number }[] } } }>(
    'POST',
    `${target || '/*'}/_search`,
    {
      query: {
        expand_wildcards: 'open,hidden',
        allow_no_indices: true,
        ignore_unavailable: true,
        request_cache: false,
      },
      body: { size: 0, track_total_hits: false, aggs: { docs: { terms: { field: '_index', size } } } },
      ignore: [404],
    },
  );
  return answer?.aggregations?.docs?.buckets ?? [];
}

export function catalogFilter(indexPattern?: string): CatalogFilter {
  const patterns = expressionPatterns(indexPattern);
  return { excluded: (name) => name === RUNNER_INDEX, ...(patterns ? { patterns } : {}) };
}

/** True when any index or alias name of the object matches a protected pattern. */
export function isProtectedObject(object: BaselineObject, domains: ProtectedDomains | undefined): boolean {
  const patterns = domains?.indices ?? [];
  if (patterns.length === 0 && (domains?.aliases ?? []).length === 0) return false;
  const names = [...(object.scope.indices ?? []), ...(object.scope.aliases ?? [])];
  const aliasPatterns = domains?.aliases ?? [];
  return (
    names.some((name) => patterns.some((pattern) => matchesPattern(name, pattern))) ||
    (object.scope.aliases ?? []).some((name) => aliasPatterns.some((pattern) => matchesPattern(name, pattern)))
  );
}

export interface BaselineParts {
  /** The engine and version the baseline names (a label: digests do not depend on it). */
  server: Pick<ServerInfo, 'product' | 'version'>;
  objects: BaselineObject[];
  docs: Readonly<Record<string, number | undefined>>;
  /** Content digests of protected indices (identity and document versions), by index. */
  content?: Readonly<Record<string, string | undefined>>;
}

/** Counts, fingerprints, protected objects and invariants around a set of objects. */
export async function assembleBaseline(parts: BaselineParts, options: SearchBaselineOptions = {}): Promise<Baseline> {
  const objects = [...parts.objects].sort((a, b) => compareText(a.kind, b.kind) || compareText(a.name, b.name));
  const counts: Record<string, number> = Object.fromEntries(Object.values(COUNT_KEYS).map((key) => [key, 0]));
  for (const object of objects) {
    const key = COUNT_KEYS[object.kind];
    if (key) counts[key] = (counts[key] ?? 0) + 1;
  }
  const domains = options.protected ?? options.declaration?.protected;
  const protectedObjects = objects.filter((object) => isProtectedObject(object, domains));
  const docs: Record<string, number> = {};
  for (const name of Object.keys(parts.docs).sort(compareText)) docs[name] = parts.docs[name] ?? 0;
  const baseline: Baseline = {
    kfm_baseline_version: 'v1',
    store: 'search',
    server: { product: parts.server.product, version: parts.server.version },
    ...(options.capturedAt ? { captured_at: options.capturedAt } : {}),
    counts,
    objects,
    measures: { docs },
    fingerprints: { schema: await fingerprintOf(objects), protected: await fingerprintOf(protectedObjects) },
  };
  if (domains?.indices?.length) {
    baseline.protected = {
      patterns: domains.indices.map((pattern) => `indices:${pattern}`),
      objects: protectedObjects.map((object) => `${object.kind}:${object.name}`),
      ...(parts.content && Object.keys(parts.content).length ? { content: sortedContent(parts.content) } : {}),
    };
  }
  if (options.invariants?.length) baseline.invariants = options.invariants;
  return baseline;
}

function sortedContent(content: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(
    Object.keys(content)
      .sort(compareText)
      .map((key) => [key, content[key] as string]),
  );
}

/**
 * Content digests of protected indices, in ONE search: per index its UUID (a deleted and recreated index
 * is another index), its document count and the max and sum of `_seq_no` (every index, update or delete of
 * a document moves them). Documents never leave the server.
 */
async function protectedContent(
  rest: SearchRest,
  responses: CatalogResponses,
  objects: readonly BaselineObject[],
  domains: ProtectedDomains | undefined,
): Promise<Record<string, string>> {
  const indices = objects
    .filter(
      (object) =>
        object.kind === 'index' && (domains?.indices ?? []).some((pattern) => matchesPattern(object.name, pattern)),
    )
    .map((object) => object.name);
  if (indices.length === 0) return {};
  const answer = await rest.request<{
    aggregations?: {
      per?: {
        buckets?: { key: string; doc_count: number; max?: { value: number | null }; sum?: { value: number | null } }[];
      };
    };
  }>('POST', `/${indices.map(encodeURIComponent).join(',')}/_search`, {
    query: { expand_wildcards: 'all', ignore_unavailable: true, allow_no_indices: true, request_cache: false },
    body: {
      size: 0,
      track_total_hits: false,
      aggs: {
        per: {
          terms: { field: '_index', size: indices.length },
          aggs: { max: { max: { field: '_seq_no' } }, sum: { sum: { field: '_seq_no' } } },
        },
      },
    },
    ignore: [404],
  });
  const buckets = new Map((answer?.aggregations?.per?.buckets ?? []).map((bucket) => [bucket.key, bucket]));
  const content: Record<string, string> = {};
  for (const index of indices) {
    const bucket = buckets.get(index);
    const uuid = responses.settings[index]?.settings?.['index.uuid'] ?? null;
    content[index] = await cidOfJson({
      algorithm: 'seq-no/v1',
      uuid,
      docs: bucket?.doc_count ?? 0,
      max_seq_no: bucket?.max?.value ?? null,
      sum_seq_no: bucket?.sum?.value ?? null,
    });
  }
  return content;
}

/** Captures the baseline of the cluster (or of `indexPattern`) behind `rest`. */
export async function captureWith(
  rest: SearchRest,
  server: ServerInfo,
  options: SearchBaselineOptions = {},
): Promise<Baseline> {
  const { responses, docs } = await fetchCatalog(rest, options.indexPattern);
  return fromCatalog(rest, responses, docs, server, options);
}

async function fromCatalog(
  rest: SearchRest,
  responses: CatalogResponses,
  docs: Record<string, number>,
  server: ServerInfo,
  options: SearchBaselineOptions,
): Promise<Baseline> {
  const filter = catalogFilter(options.indexPattern);
  const objects = await catalogObjects(responses, filter);
  const kept: Record<string, number> = {};
  for (const [index, count] of Object.entries(docs)) if (included(index, filter)) kept[index] = count;
  options.progress?.(`baseline: ${objects.length} objects, ${Object.keys(kept).length} indices`);
  const content = await protectedContent(rest, responses, objects, options.protected ?? options.declaration?.protected);
  return assembleBaseline({ server, objects, docs: kept, content }, options);
}

/** `captureSearchBaseline(client, options)`: the engine and version come from the client's `GET /`. */
export async function captureSearchBaseline(
  client: SearchClient,
  options: SearchBaselineOptions = {},
): Promise<Baseline> {
  const [info, { responses, docs }] = await Promise.all([client.info(), fetchCatalog(client, options.indexPattern)]);
  return fromCatalog(client, responses, docs, info, options);
}
