// Turns the raw answers of the few catalog requests into baseline objects: indices, aliases,
// analyzers, index and component templates and ingest pipelines, each with the names it has per
// scope dimension and the digest of its normalized definition. Pure: no I/O, no clock.
import type { BaselineObject } from '@kfm/migration-contracts';
import { cidOfJsonSync } from '@kfm/receipts';
import {
  analyzerDefinitions,
  normalizeSettings,
  normalizeTemplate,
  withoutTimestamps,
  type FlatSettings,
} from './normalize.js';
import { compareText, matchesPattern } from './scope.js';

/** What the catalog requests answered, keyed as Elasticsearch keys them. */
export interface CatalogResponses {
  /** GET /_cat/indices?format=json&h=index,status,docs.count */
  indices: { index: string; status?: string; 'docs.count'?: string | null }[];
  /** GET /_mapping */
  mappings: Record<string, { mappings?: Record<string, unknown> }>;
  /** GET /_settings?flat_settings=true */
  settings: Record<string, { settings?: FlatSettings }>;
  /** GET /_alias */
  aliases: Record<string, { aliases?: Record<string, AliasDefinition> }>;
  /** GET /_index_template */
  indexTemplates: { name: string; index_template: Record<string, unknown> }[];
  /** GET /_component_template */
  componentTemplates: { name: string; component_template: Record<string, unknown> }[];
  /** GET /_ingest/pipeline */
  pipelines: Record<string, Record<string, unknown>>;
}

export interface AliasDefinition {
  filter?: unknown;
  index_routing?: string;
  search_routing?: string;
  routing?: string;
  is_write_index?: boolean;
  is_hidden?: boolean;
}

export interface CatalogFilter {
  /** Names the runner and the cluster own (the runner index, `.`-prefixed system/hidden indices). */
  excluded(name: string): boolean;
  /** Restricts every object kind to names matching these patterns (tests share one cluster). */
  patterns?: readonly string[];
}

export const ALIAS_SEPARATOR = '->';

export function aliasObjectName(alias: string, index: string): string {
  return `${alias}${ALIAS_SEPARATOR}${index}`;
}

export function included(name: string, filter: CatalogFilter): boolean {
  if (name.startsWith('.') || filter.excluded(name)) return false;
  return !filter.patterns || filter.patterns.some((pattern) => matchesPattern(name, pattern));
}

/** The stored form of an alias, as GET /_alias reports it: `routing` sets both routings. */
export function aliasDefinition(definition: AliasDefinition): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (definition.filter !== undefined) out.filter = definition.filter;
  const indexRouting = definition.index_routing ?? definition.routing;
  const searchRouting = definition.search_routing ?? definition.routing;
  if (indexRouting !== undefined) out.index_routing = String(indexRouting);
  if (searchRouting !== undefined) out.search_routing = String(searchRouting);
  if (definition.is_write_index !== undefined) out.is_write_index = definition.is_write_index;
  if (definition.is_hidden !== undefined) out.is_hidden = definition.is_hidden;
  return out;
}

export async function aliasObject(alias: string, index: string, definition: AliasDefinition): Promise<BaselineObject> {
  return aliasObjectSync(alias, index, definition);
}

// Digests are computed synchronously inside the catalog loop: hashing never waits on I/O, and an await
// per object only added a microtask turn (and its garbage) for each of thousands of objects.
function aliasObjectSync(alias: string, index: string, definition: AliasDefinition): BaselineObject {
  const stored = aliasDefinition(definition);
  const attributes: Record<string, unknown> = {
    is_write_index: stored.is_write_index ?? null,
    filter: stored.filter ?? null,
    routing: stored.index_routing ?? null,
  };
  if (stored.search_routing !== stored.index_routing) attributes.search_routing = stored.search_routing ?? null;
  return {
    kind: 'alias',
    name: aliasObjectName(alias, index),
    scope: { aliases: [alias], indices: [index] },
    digest: cidOfJsonSync({ alias, index, ...stored }),
    attributes,
  };
}

export function byKindAndName(a: BaselineObject, b: BaselineObject): number {
  return compareText(a.kind, b.kind) || compareText(a.name, b.name);
}

/** Objects of every kind, sorted by kind then name. */
/**
 * A governed apply tags the shadow indices it creates with its run id in `_meta` (so a takeover can
 * find a dead run's leftovers) and removes the tag at commit; the tag is bookkeeping, never part of an
 * index's definition or digest (an empty `_meta` is no `_meta`).
 */
function withoutRunTag(mappings: Record<string, unknown>): Record<string, unknown> {
  const meta = mappings._meta as Record<string, unknown> | undefined;
  if (!meta || typeof meta !== 'object') return mappings;
  const { kfm_run_id: _tag, ...rest } = meta;
  const { _meta: _dropped, ...others } = mappings;
  return Object.keys(rest).length ? { ...others, _meta: rest } : others;
}

export async function catalogObjects(responses: CatalogResponses, filter: CatalogFilter): Promise<BaselineObject[]> {
  const objects: BaselineObject[] = [];
  const indexNames = responses.indices.map((row) => row.index).filter((name) => included(name, filter));
  const status = new Map(responses.indices.map((row) => [row.index, row.status ?? 'open']));

  for (const index of indexNames) {
    const settings = normalizeSettings(responses.settings[index]?.settings ?? {});
    const mappings = withoutRunTag(responses.mappings[index]?.mappings ?? {});
    const state = status.get(index) ?? 'open';
    objects.push({
      kind: 'index',
      name: index,
      scope: { indices: [index] },
      digest: cidOfJsonSync({ mappings, settings, state }),
      attributes: {
        state,
        number_of_shards: Number(settings['index.number_of_shards'] ?? 0),
        number_of_replicas: Number(settings['index.number_of_replicas'] ?? 0),
      },
    });
    for (const [analyzer, definition] of analyzerDefinitions(settings)) {
      objects.push({
        kind: 'analyzer',
        name: `${index}/${analyzer}`,
        scope: { indices: [index] },
        digest: cidOfJsonSync(definition),
        attributes: { type: (definition.analyzer as Record<string, unknown>).type ?? 'custom' },
      });
    }
    for (const [alias, definition] of Object.entries(responses.aliases[index]?.aliases ?? {})) {
      objects.push(aliasObjectSync(alias, index, definition));
    }
  }

  const normalizedTemplates = responses.indexTemplates.map(({ name, index_template: body }) => ({
    name,
    normalized: normalizeTemplate(body),
  }));
  for (const { name, normalized } of normalizedTemplates) {
    if (!included(name, filter)) continue;
    objects.push({
      kind: 'index_template',
      name,
      scope: { templates: [name] },
      digest: cidOfJsonSync(normalized),
      attributes: {
        index_patterns: normalized.index_patterns ?? [],
        priority: normalized.priority ?? null,
        composed_of: normalized.composed_of ?? [],
      },
    });
  }
  // A component template is part of every index template composed of it: changing it changes them, so
  // they are among its names (a forbidden or protected one makes the change forbidden or protected).
  const composers = new Map<string, string[]>();
  for (const { name, normalized } of normalizedTemplates) {
    const composedOf = normalized.composed_of;
    for (const component of Array.isArray(composedOf) ? (composedOf as string[]) : [])
      composers.set(component, [...(composers.get(component) ?? []), name]);
  }
  for (const { name, component_template: body } of responses.componentTemplates) {
    if (!included(name, filter)) continue;
    objects.push({
      kind: 'component_template',
      name,
      scope: { templates: [name, ...(composers.get(name) ?? []).sort(compareText)] },
      digest: cidOfJsonSync(normalizeTemplate(body)),
    });
  }
  // A pipeline that is an index's default or final pipeline rewrites every document indexed there:
  // changing it touches those indices.
  const users = new Map<string, string[]>();
  for (const index of indexNames) {
    const settings = responses.settings[index]?.settings ?? {};
    for (const key of ['index.default_pipeline', 'index.final_pipeline']) {
      const pipeline = settings[key];
      if (typeof pipeline === 'string' && pipeline !== '_none')
        users.set(pipeline, [...(users.get(pipeline) ?? []), index]);
    }
  }
  for (const [id, body] of Object.entries(responses.pipelines)) {
    if (!included(id, filter)) continue;
    const normalized = withoutTimestamps(body);
    const indices = [...new Set(users.get(id) ?? [])].sort(compareText);
    objects.push({
      kind: 'pipeline',
      name: id,
      scope: { pipelines: [id], ...(indices.length ? { indices } : {}) },
      digest: cidOfJsonSync(normalized),
      attributes: { processors: Array.isArray(normalized.processors) ? normalized.processors.length : 0 },
    });
  }
  return objects.sort(byKindAndName);
}
