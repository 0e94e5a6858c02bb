// Scratch copies for search rehearsals. A search cluster cannot be copied whole the way PostgreSQL copies a
// database, and it need not be: a migration reaches only the indices, aliases, templates and pipelines its
// declaration names. Those are copied into a namespace on the same cluster (`kfm-rehearsal-<hex>-…`, see
// namespace.ts): each index is created with its own settings and mappings and filled by a server-side
// `_reindex` (no write block on the real index, no documents through the runner), its aliases are added with
// their definitions, templates and pipelines are put again, and the store policy is copied into the
// namespace's own runner index. The rehearsal then connects to `<url>#kfm-namespace=<prefix>` and runs the
// real bundle unchanged; its baselines name the objects as the real ones are named. Dispose deletes every
// index, template and pipeline of the namespace, and nothing outside it.
import { randomBytes } from 'node:crypto';
import type {
  ConnectionValues,
  MigrationDeclaration,
  RehearsalCapability,
  ScratchStore,
} from '@kfm/migration-contracts';
import { KfmError } from '@kfm/migration-contracts';
import { RUNNER_INDEX } from './capture.js';
import { createSearchClient, describeError, type SearchRest } from './es-client.js';
import { isVolatileSetting } from './normalize.js';
import { matchesPattern } from './scope.js';
import { NAMESPACE_FRAGMENT, namespacedRest, namespaceOf } from './namespace.js';

/** Every scratch namespace starts with this; dispose refuses anything else. */
export const SCRATCH_PREFIX = 'kfm-rehearsal-';
const POLICY_ID = 'policy-latest';

/** Settings a new index cannot be created with (the cluster sets them) or that name the source itself. */
const NOT_COPIED =
  /^index\.(uuid|creation_date|creation_date_string|provided_name|version\.|resize\.|routing\.allocation\.initial_recovery\.|blocks\.)/;

function namesIn(declaration: MigrationDeclaration): {
  expressions: string[];
  templates: string[];
  pipelines: string[];
} {
  const scope = (declaration.scope ?? {}) as Record<string, unknown>;
  const lists = (keys: (key: string) => boolean) =>
    Object.entries(scope)
      .filter(([key, value]) => keys(key) && Array.isArray(value))
      .flatMap(([, value]) => value as string[]);
  const protectedLists = Object.values(declaration.protected ?? {}).flatMap((value) =>
    Array.isArray(value) ? (value as string[]) : [],
  );
  return {
    expressions: [...new Set([...lists((key) => /indices|aliases/.test(key)), ...protectedLists])],
    templates: [...new Set(lists((key) => key.includes('template')))],
    pipelines: [...new Set(lists((key) => key.includes('pipeline')))],
  };
}

async function copyInto(rest: SearchRest, prefix: string, declaration: MigrationDeclaration): Promise<void> {
  const view = namespacedRest(rest, prefix);
  const { expressions, templates, pipelines } = namesIn(declaration);
  const resolved =
    expressions.length === 0
      ? undefined
      : await rest.request<{ indices?: { name: string }[] }>(
          'GET',
          `/_resolve/index/${expressions.map(encodeURIComponent).join(',')}`,
          { query: { expand_wildcards: 'open' }, ignore: [404] },
        );
  const indices = [...new Set((resolved?.indices ?? []).map((entry) => entry.name))].filter(
    (name) => !name.startsWith('.'),
  );
  // every index's definition first: the pipelines they name are copied before the indices that use them
  const referenced = new Set(pipelines);
  const definitions: { index: string; body: Record<string, unknown> }[] = [];
  for (const index of indices) {
    const answer = await rest.request<
      Record<
        string,
        { settings?: Record<string, unknown>; mappings?: Record<string, unknown>; aliases?: Record<string, unknown> }
      >
    >('GET', `/${encodeURIComponent(index)}`, { query: { flat_settings: true } });
    const definition = answer[index] ?? {};
    const settings = Object.fromEntries(
      Object.entries(definition.settings ?? {}).filter(([key]) => !NOT_COPIED.test(key) && !isVolatileSetting(key)),
    );
    for (const key of ['index.default_pipeline', 'index.final_pipeline'])
      if (typeof settings[key] === 'string' && settings[key] !== '_none') referenced.add(settings[key] as string);
    definitions.push({
      index,
      body: { settings, mappings: definition.mappings ?? {}, aliases: definition.aliases ?? {} },
    });
  }
  for (const id of referenced) {
    const answer = await rest.request<Record<string, unknown> | undefined>(
      'GET',
      `/_ingest/pipeline/${encodeURIComponent(id)}`,
      { ignore: [404] },
    );
    if (answer?.[id]) await view.request('PUT', `/_ingest/pipeline/${encodeURIComponent(id)}`, { body: answer[id] });
  }
  for (const { index, body } of definitions)
    await view.request('PUT', `/${encodeURIComponent(index)}`, { body, query: { wait_for_active_shards: 1 } });
  // Templates: the ones the declaration names, and every index template that would shape an index the
  // declaration reaches (its patterns match a name in scope), with the component templates it is composed
  // of; put after the indices, so they shape only what the rehearsed plan creates, as on the real cluster.
  const all =
    (
      await rest.request<{ index_templates?: { name: string; index_template: Record<string, unknown> }[] } | undefined>(
        'GET',
        '/_index_template',
        { ignore: [404] },
      )
    )?.index_templates ?? [];
  const shaping = all.filter(
    ({ name, index_template }) =>
      templates.some((wanted) => matchesPattern(name, wanted)) ||
      ((index_template.index_patterns as string[] | undefined) ?? []).some((pattern) =>
        expressions.some((scoped) => matchesPattern(scoped, pattern)),
      ),
  );
  const components = new Set([
    ...templates,
    ...shaping.flatMap(({ index_template }) => (index_template.composed_of as string[] | undefined) ?? []),
  ]);
  for (const name of components) {
    const answer = await rest.request<
      { component_templates?: { name: string; component_template: unknown }[] } | undefined
    >('GET', `/_component_template/${encodeURIComponent(name)}`, { ignore: [404] });
    for (const entry of answer?.component_templates ?? [])
      await view.request('PUT', `/_component_template/${encodeURIComponent(entry.name)}`, {
        body: entry.component_template,
      });
  }
  for (const { name, index_template } of shaping)
    await view.request('PUT', `/_index_template/${encodeURIComponent(name)}`, { body: index_template });
  // the documents, copied by the cluster itself, one index at a time (from the real name into the namespace)
  for (const index of indices)
    await rest.request('POST', '/_reindex', {
      body: { source: { index }, dest: { index: `${prefix}${index}` } },
      query: { wait_for_completion: true, refresh: true },
    });
  // the pushed policy decides the protected domains: the copy must see the same one
  const policy = await rest.request<{ _source?: unknown } | undefined>('GET', `/${RUNNER_INDEX}/_doc/${POLICY_ID}`, {
    ignore: [404],
  });
  if (policy?._source) {
    await view.request('PUT', `/${RUNNER_INDEX}`, {
      body: { settings: { 'index.hidden': true, 'index.number_of_shards': 1, 'index.auto_expand_replicas': '0-1' } },
    });
    await view.request('PUT', `/${RUNNER_INDEX}/_doc/${POLICY_ID}`, {
      body: policy._source,
      query: { refresh: 'true' },
    });
  }
}

/** Deletes every index, template and pipeline of the namespace; a name outside it is never touched. */
async function dropNamespace(rest: SearchRest, prefix: string): Promise<void> {
  if (!prefix.startsWith(SCRATCH_PREFIX)) throw new Error(`refusing to drop ${prefix}: not a scratch namespace`);
  const indices = await rest.request<{ index: string }[] | undefined>(
    'GET',
    `/_cat/indices/${encodeURIComponent(`${prefix}*`)}`,
    { query: { format: 'json', h: 'index', expand_wildcards: 'all' }, ignore: [404] },
  );
  const names = (indices ?? []).map((row) => row.index).filter((name) => name.startsWith(prefix));
  if (names.length) await rest.request('DELETE', `/${names.map(encodeURIComponent).join(',')}`, { ignore: [404] });
  for (const [kind, key] of [
    ['_index_template', 'index_templates'],
    ['_component_template', 'component_templates'],
  ] as const) {
    const answer = await rest.request<Record<string, { name: string }[]> | undefined>(
      'GET',
      `/${kind}/${encodeURIComponent(`${prefix}*`)}`,
      { ignore: [404] },
    );
    for (const { name } of answer?.[key] ?? [])
      if (name.startsWith(prefix))
        await rest.request('DELETE', `/${kind}/${encodeURIComponent(name)}`, { ignore: [404] });
  }
  const pipelines = await rest.request<Record<string, unknown> | undefined>(
    'GET',
    `/_ingest/pipeline/${encodeURIComponent(`${prefix}*`)}`,
    { ignore: [404] },
  );
  for (const id of Object.keys(pipelines ?? {}))
    if (id.startsWith(prefix))
      await rest.request('DELETE', `/_ingest/pipeline/${encodeURIComponent(id)}`, { ignore: [404] });
}

export const searchRehearsal: RehearsalCapability = {
  async createScratch(values: ConnectionValues, options: { declaration: MigrationDeclaration }): Promise<ScratchStore> {
    const { url, namespace } = namespaceOf(values.url ?? '');
    if (!url)
      throw new KfmError({ code: 'ENV_MISSING', message: 'no search engine URL was given (connection role `url`)' });
    if (namespace)
      throw new KfmError({ code: 'ARGUMENT_INVALID', message: 'a scratch namespace cannot itself be rehearsed on' });
    const prefix = `${SCRATCH_PREFIX}${randomBytes(4).toString('hex')}-`;
    const client = createSearchClient(url);
    const dispose = async () => {
      const cleaner = createSearchClient(url);
      try {
        await dropNamespace(cleaner, prefix);
      } finally {
        await cleaner.close();
      }
    };
    try {
      await copyInto(client, prefix, options.declaration);
    } catch (error) {
      await dispose().catch(() => undefined);
      throw new KfmError({
        code: 'STORE_UNREACHABLE',
        message: `could not copy the indices in scope into ${prefix}*: ${describeError(error)}`,
      });
    } finally {
      await client.close();
    }
    return {
      values: { ...values, url: `${url}#${NAMESPACE_FRAGMENT}${prefix}` },
      name: `${prefix}*`,
      partial: true,
      dispose,
    };
  },
};
