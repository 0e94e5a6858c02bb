// Shared set-up for the store tests: the real search engine from tools/stores, a unique name prefix
// per test file, the example bundle's plans renamed into that prefix, and cleanup of everything.
// The suite runs once per engine: the `store` project against Elasticsearch (KFM_ES_URL), the
// `store-opensearch` project against OpenSearch (KFM_ES_URL set to KFM_OS_URL, KFM_SEARCH_ENGINE=opensearch).
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  loadDeclaration,
  type ApplyRequest,
  type Baseline,
  type MigrationDeclaration,
  type ScriptFile,
} from '@kfm/migration-contracts';
import { cidOfScript } from '@kfm/receipts';
import {
  connectSearch,
  createSearchClient,
  type SearchClient,
  type SearchEngine,
  type SearchRest,
  type SearchSession,
} from '../src/index.js';

export const ES_URL = process.env.KFM_ES_URL ?? 'http://127.0.0.1:9200';
/** The engine the tests must find at ES_URL: a run against the wrong server fails instead of passing. */
export const ENGINE: SearchEngine = process.env.KFM_SEARCH_ENGINE === 'opensearch' ? 'opensearch' : 'elasticsearch';
export const PRODUCT = ENGINE === 'opensearch' ? 'OpenSearch' : 'Elasticsearch';
const here = path.dirname(fileURLToPath(import.meta.url));
export const BUNDLE = path.resolve(here, '../../../migrations/search/SEARCH-MIG-2026-03-05-01');

export function uniquePrefix(): string {
  return `kfmt-${randomBytes(4).toString('hex')}-`;
}

export function adminRest(): { rest: SearchClient; close(): Promise<void> } {
  const client = createSearchClient(ES_URL);
  return { rest: client, close: () => client.close() };
}

/** A session confined to the prefix, with its own runner index. */
export function openSession(prefix: string, extra: { now?: () => Date } = {}): Promise<SearchSession> {
  return connectSearch(ES_URL, {
    applicationName: 'kfm-test',
    indexPattern: `${prefix}*`,
    runnerIndex: `.${prefix}runner`,
    sleep: (ms) => delay(Math.min(ms, 50)),
    ...extra,
  });
}

export async function cleanup(prefix: string): Promise<void> {
  const { rest, close } = adminRest();
  try {
    // by name: clusters with action.destructive_requires_name refuse wildcard deletes
    const indices = await rest.request<{ index: string }[]>('GET', `/_cat/indices/${prefix}*,.${prefix}*`, {
      query: { format: 'json', h: 'index', expand_wildcards: 'all' },
    });
    if (indices.length > 0)
      await rest.request('DELETE', `/${indices.map((row) => row.index).join(',')}`, { ignore: [404] });
    const templates = await rest.request<{ index_templates?: { name: string }[] }>('GET', '/_index_template', {
      ignore: [404],
    });
    for (const { name } of templates?.index_templates ?? [])
      if (name.startsWith(prefix)) await rest.request('DELETE', `/_index_template/${name}`, { ignore: [404] });
    const components = await rest.request<{ component_templates?: { name: string }[] }>('GET', '/_component_template', {
      ignore: [404],
    });
    for (const { name } of components?.component_templates ?? [])
      if (name.startsWith(prefix)) await rest.request('DELETE', `/_component_template/${name}`, { ignore: [404] });
    const pipelines = await rest.request<Record<string, unknown>>('GET', '/_ingest/pipeline', { ignore: [404] });
    for (const id of Object.keys(pipelines ?? {}))
      if (id.startsWith(prefix)) await rest.request('DELETE', `/_ingest/pipeline/${id}`, { ignore: [404] });
  } finally {
    await close();
  }
}

export async function script(name: string, value: unknown): Promise<ScriptFile> {
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return { path: name, text, digest: await cidOfScript(text) };
}

/** The example bundle's plan file with every `parcels…` / `authority-sites` name moved into the prefix. */
export async function bundleScript(file: 'forward.json' | 'rollback.json', prefix: string): Promise<ScriptFile> {
  const text = await fs.readFile(path.join(BUNDLE, file), 'utf8');
  return script(file, text.replace(/"(parcels|authority-sites)/g, `"${prefix}$1`));
}

/** The example declaration with its names moved into the prefix. */
export async function bundleDeclaration(prefix: string): Promise<MigrationDeclaration> {
  const loaded = await loadDeclaration(BUNDLE);
  if (!loaded.ok) throw new Error(`example declaration invalid: ${JSON.stringify(loaded.issues)}`);
  const declaration = structuredClone(loaded.declaration);
  const scope = declaration.scope as Record<string, string[] | undefined>;
  for (const key of Object.keys(scope)) scope[key] = scope[key]!.map((name) => `${prefix}${name}`);
  if (declaration.protected?.indices)
    declaration.protected.indices = declaration.protected.indices.map((name) => `${prefix}${name}`);
  return declaration;
}

export function applyRequest(
  declaration: MigrationDeclaration,
  scripts: ScriptFile[],
  decide: ApplyRequest['decide'],
  transactional = true,
): ApplyRequest {
  return {
    declaration,
    scripts,
    transactional,
    baseline: { declaration, ...(declaration.protected ? { protected: declaration.protected } : {}) },
    ledger: {
      migration_id: declaration.migration_id,
      bundle_digest: scripts[0]!.digest,
      run_id: `${declaration.migration_id}@test`,
      status: 'applied',
    },
    decide,
  };
}

/** Index names each alias of the prefix points to. */
export async function aliasTargets(rest: SearchRest, prefix: string): Promise<Record<string, string[]>> {
  const answer = await rest.request<Record<string, { aliases?: Record<string, unknown> }>>(
    'GET',
    `/${prefix}*/_alias`,
    { query: { expand_wildcards: 'open,closed' } },
  );
  const out: Record<string, string[]> = {};
  for (const [index, entry] of Object.entries(answer))
    for (const alias of Object.keys(entry.aliases ?? {})) (out[alias] ??= []).push(index);
  for (const list of Object.values(out)) list.sort();
  return out;
}

export async function indexExists(rest: SearchRest, index: string): Promise<boolean> {
  const answer = await rest.request('HEAD', `/${index}`, { ignore: [404] });
  return answer !== undefined;
}

export function fingerprint(baseline: Baseline): { schema: string; protected: string | undefined } {
  return { schema: baseline.fingerprints.schema, protected: baseline.fingerprints.protected };
}
