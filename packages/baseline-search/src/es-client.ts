// The search connection edge: the only module that touches a client library. It gives a thin REST view
// (plan bodies are sent verbatim), one error type for both engines, and error descriptions that never
// carry a URL or a credential.
//
// Two engines share the REST surface the adapter uses, and each is spoken to with its own client:
// - Elasticsearch through @elastic/elasticsearch 7.13, the last 7.x without the product check, so it
//   talks to the OSS 7.10 server tools/stores runs as well as to later 7.x servers;
// - OpenSearch (1.x–3.x) through @opensearch-project/opensearch, the client its project maintains.
// The engine is read from `GET /` (OpenSearch answers `version.distribution: "opensearch"`), asked with
// the Elasticsearch client, whose 7.13 transport sends no product header either engine refuses; for
// OpenSearch the connection then switches to the OpenSearch client before any other request.
import { createRequire } from 'node:module';
import type * as Elasticsearch from '@elastic/elasticsearch' with { 'resolution-mode': 'require' };
import type * as OpenSearch from '@opensearch-project/opensearch' with { 'resolution-mode': 'require' };
import { KfmError } from '@kfm/migration-contracts';

// Both packages declare types for their CommonJS entries; load those so types and code agree. Loaded
// on first use: commands that never talk to a search engine do not pay for a client.
const require = createRequire(import.meta.url);
let elasticsearch: typeof Elasticsearch | undefined;
let opensearch: typeof OpenSearch | undefined;
const elasticsearchModule = () => (elasticsearch ??= require('@elastic/elasticsearch') as typeof Elasticsearch);
const opensearchModule = () => (opensearch ??= require('@opensearch-project/opensearch') as typeof OpenSearch);

export type SearchEngine = 'elasticsearch' | 'opensearch';

export interface ServerInfo {
  engine: SearchEngine;
  /** `Elasticsearch` or `OpenSearch`: the label baselines and receipts carry. */
  product: 'Elasticsearch' | 'OpenSearch';
  version: string;
}

export interface RequestSpec {
  body?: unknown;
  query?: Record<string, string | number | boolean>;
  /** Status codes answered as `undefined` instead of an error (e.g. 404 for "nothing there"). */
  ignore?: number[];
}

/** A thin REST view of a search engine: the plan bodies are request bodies, sent verbatim. */
export interface SearchRest {
  request<T = unknown>(method: string, path: string, spec?: RequestSpec): Promise<T>;
}

/** A connection to one search engine: REST requests, the engine `GET /` named, and close. */
export interface SearchClient extends SearchRest {
  /** The engine and version (`GET /`, asked once; the first request asks it anyway). */
  info(): Promise<ServerInfo>;
  close(): Promise<void>;
}

/** An error status the engine answered (4xx/5xx), the same for both engines' clients. */
export class SearchResponseError extends Error {
  override readonly name = 'SearchResponseError';
  constructor(
    readonly statusCode: number,
    readonly body: unknown,
  ) {
    super(`search engine answered ${statusCode}`);
  }
  /** The error `type` the engine gave (e.g. `resource_already_exists_exception`). */
  get type(): string | undefined {
    return (this.body as { error?: { type?: string } } | undefined)?.error?.type;
  }
}

/** The transport call both clients share: `transport.request(params, options)` → `{ body, statusCode }`. */
interface Transport {
  request(
    params: { method: string; path: string; body?: unknown; querystring?: Record<string, unknown> },
    options?: { ignore?: number[] },
  ): Promise<{ body: unknown; statusCode: number | null }>;
}
interface EngineClient {
  transport: Transport;
  close(): Promise<void>;
}

function isResponseError(error: unknown): error is { statusCode?: number; body?: unknown } {
  return (
    error instanceof elasticsearchModule().errors.ResponseError ||
    (opensearch !== undefined && error instanceof opensearch.errors.ResponseError)
  );
}

async function send<T>(client: EngineClient, method: string, path: string, spec: RequestSpec): Promise<T> {
  const params = {
    method,
    path,
    ...(spec.body !== undefined ? { body: spec.body } : {}),
    ...(spec.query ? { querystring: spec.query } : {}),
  };
  try {
    const result = await client.transport.request(params, spec.ignore ? { ignore: spec.ignore } : {});
    if (spec.ignore?.includes(result.statusCode ?? 0)) return undefined as T;
    return result.body as T;
  } catch (error) {
    if (isResponseError(error)) throw new SearchResponseError(error.statusCode ?? 0, error.body);
    throw error;
  }
}

export interface ConnectOptions {
  /** Per-request timeout in milliseconds (default 30 s). */
  requestTimeout?: number;
}

/** host:port of a URL (of each, for a comma-separated list), or a fixed text when it does not parse; user, password, path and query are dropped. */
export function safeHost(url: string): string {
  return url
    .split(',')
    .map((part) => {
      try {
        return new URL(part.trim()).host || 'the configured host';
      } catch {
        return 'an unparseable URL';
      }
    })
    .join(',');
}

/**
 * A client for the search engine at `url`, or at each node of a comma-separated list of URLs of one
 * cluster (credentials in a URL are used, never echoed). Nothing is
 * sent until the first request, which first asks `GET /` which engine answers and picks its client;
 * a server that is neither Elasticsearch 7.x nor OpenSearch is refused (STORE_UNREACHABLE).
 */
export function createSearchClient(url: string, options: ConnectOptions = {}): SearchClient {
  const nodes = url
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part, i) => {
      try {
        return new URL(part).toString();
      } catch {
        throw new KfmError({
          code: 'STORE_UNREACHABLE',
          message: `the search engine URL${url.includes(',') ? ` #${i + 1} of the list` : ''} does not parse (value not shown)`,
        });
      }
    });
  if (nodes.length === 0)
    throw new KfmError({ code: 'STORE_UNREACHABLE', message: 'the search engine URL is empty' });
  // Several URLs are several nodes of one cluster: requests go round-robin, and a node that stops
  // answering is skipped (a request retried on the next node), so losing one node is not losing the run.
  const settings = {
    nodes,
    maxRetries: nodes.length > 1 ? nodes.length : 1,
    requestTimeout: options.requestTimeout ?? 30_000,
  };
  const probe = new (elasticsearchModule().Client)(settings) as unknown as EngineClient;
  let chosen: Promise<{ client: EngineClient; info: ServerInfo }> | undefined;
  const connect = () => {
    chosen ??= (async () => {
      const info = await identify(probe, url);
      if (info.engine === 'elasticsearch') return { client: probe, info };
      await probe.close().catch(() => undefined);
      return { client: new (opensearchModule().Client)(settings) as unknown as EngineClient, info };
    })();
    return chosen;
  };
  return {
    async info() {
      return (await connect()).info;
    },
    async request<T>(method: string, path: string, spec: RequestSpec = {}): Promise<T> {
      return send<T>((await connect()).client, method, path, spec);
    },
    async close() {
      const connected = chosen ? await chosen.catch(() => undefined) : undefined;
      await (connected?.client ?? probe).close().catch(() => undefined);
    },
  };
}

/** GET / : which engine, which version; unreachable or unsupported → KfmError(STORE_UNREACHABLE). */
async function identify(client: EngineClient, url: string): Promise<ServerInfo> {
  const where = ` at ${safeHost(url)}`;
  let root: { version?: { number?: string; distribution?: string }; tagline?: string } | undefined;
  try {
    root = await send(client, 'GET', '/', {});
  } catch (error) {
    throw new KfmError({
      code: 'STORE_UNREACHABLE',
      message: `the search engine${where} is unreachable: ${describeError(error)}`,
    });
  }
  const info = engineOf(root);
  if (!info)
    throw new KfmError({
      code: 'STORE_UNREACHABLE',
      message: `the server${where} is neither Elasticsearch 7.x nor OpenSearch 1.x–3.x`,
      found: root?.version ? `${root.version.distribution ?? 'elasticsearch'} ${root.version.number}` : 'no version',
    });
  return info;
}

/** The engine a `GET /` answer names, or undefined when it is not one the adapter supports. */
export function engineOf(root: { version?: { number?: string; distribution?: string } } | undefined) {
  const version = root?.version?.number;
  const major = Number(version?.split('.')[0]);
  if (!version || !Number.isInteger(major)) return undefined;
  if (root?.version?.distribution === 'opensearch')
    return major >= 1 && major <= 3 ? ({ engine: 'opensearch', product: 'OpenSearch', version } as const) : undefined;
  return major === 7 ? ({ engine: 'elasticsearch', product: 'Elasticsearch', version } as const) : undefined;
}

/** Drops anything URL-shaped from a text: an error message may echo the node URL with credentials. */
export function withoutUrls(text: string): string {
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/\S*/gi, '<url>').replace(/\b[^\s:@/]+:[^\s:@/]+@/g, '<credentials>@');
}

/** `status type: reason (caused by …)` for a response error; a URL-free message for anything else. */
export function describeError(error: unknown): string {
  if (error instanceof SearchResponseError || isResponseError(error)) {
    const body = error.body as { error?: EsErrorBody | string } | undefined;
    const detail =
      typeof body?.error === 'string' ? body.error : body?.error ? describeErrorBody(body.error) : 'no error body';
    return withoutUrls(`${error.statusCode ?? 'error'} ${detail}`);
  }
  if (error instanceof Error) return withoutUrls(error.message);
  return withoutUrls(String(error));
}

export interface EsErrorBody {
  type?: string;
  reason?: string;
  caused_by?: EsErrorBody;
  failed_shards?: { reason?: EsErrorBody }[];
}

export function describeErrorBody(body: EsErrorBody): string {
  const parts: string[] = [`${body.type ?? 'error'}: ${body.reason ?? 'no reason given'}`];
  const shard = body.failed_shards?.[0]?.reason;
  if (shard && shard.reason !== body.reason) parts.push(`shard: ${describeErrorBody(shard)}`);
  if (body.caused_by) parts.push(`caused by ${describeErrorBody(body.caused_by)}`);
  return parts.join('; ');
}
