// The Elasticsearch connection edge: the only module that touches the client library. It gives a
// thin REST view (plan bodies are sent verbatim) and error descriptions that never carry a URL or a
// credential. The client is @elastic/elasticsearch 7.13: the last 7.x without the product check,
// so it talks to the OSS 7.10 server tools/stores runs as well as to later 7.x servers.
import { createRequire } from 'node:module';
import type * as Elasticsearch from '@elastic/elasticsearch' with { 'resolution-mode': 'require' };
import { KfmError } from '@kfm/migration-contracts';

// The 7.x package declares types for its CommonJS entry only; load that entry so types and code agree.
// Loaded on first use: commands that never talk to a search engine do not pay for the client.
let loaded: typeof Elasticsearch | undefined;
function elasticsearchModule(): typeof Elasticsearch {
  loaded ??= createRequire(import.meta.url)('@elastic/elasticsearch') as typeof Elasticsearch;
  return loaded;
}
/** The client's error classes (instanceof checks), loaded with the client. */
export const errors = {
  get ResponseError(): typeof Elasticsearch.errors.ResponseError {
    return elasticsearchModule().errors.ResponseError;
  },
};
export type Client = Elasticsearch.Client;

export interface ServerInfo {
  product: 'Elasticsearch';
  version: string;
}

export interface RequestSpec {
  body?: unknown;
  query?: Record<string, string | number | boolean>;
  /** Status codes answered as `undefined` instead of an error (e.g. 404 for "nothing there"). */
  ignore?: number[];
}

/** A thin REST view of the client: the plan bodies are Elasticsearch request bodies, sent verbatim. */
export interface SearchRest {
  request<T = unknown>(method: string, path: string, spec?: RequestSpec): Promise<T>;
}

export function restOf(client: Client): SearchRest {
  return {
    async request<T>(method: string, path: string, spec: RequestSpec = {}): Promise<T> {
      const params = {
        method,
        path,
        ...(spec.body !== undefined ? { body: spec.body as Record<string, unknown> } : {}),
        ...(spec.query ? { querystring: spec.query } : {}),
      };
      const result = await client.transport.request(params, spec.ignore ? { ignore: spec.ignore } : {});
      if (spec.ignore?.includes(result.statusCode ?? 0)) return undefined as T;
      return result.body as T;
    },
  };
}

/** host:port of a URL, or a fixed text when it does not parse; user, password, path and query are dropped. */
export function safeHost(url: string): string {
  try {
    return new URL(url).host || 'the configured host';
  } catch {
    return 'an unparseable URL';
  }
}

/** Drops anything URL-shaped from a text: an error message may echo the node URL with credentials. */
export function withoutUrls(text: string): string {
  return text.replace(/[a-z][a-z0-9+.-]*:\/\/\S*/gi, '<url>').replace(/\b[^\s:@/]+:[^\s:@/]+@/g, '<credentials>@');
}

/** `status type: reason (caused by …)` for a response error; a URL-free message for anything else. */
export function describeError(error: unknown): string {
  if (error instanceof errors.ResponseError) {
    const body = error.body as { error?: EsErrorBody | string } | undefined;
    const detail =
      typeof body?.error === 'string' ? body.error : body?.error ? describeErrorBody(body.error) : error.name;
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

export interface ConnectOptions {
  /** Per-request timeout in milliseconds (default 30 s). */
  requestTimeout?: number;
}

/** A client for `url` (credentials in the URL are used, never echoed). Throws nothing until used. */
export function createSearchClient(url: string, options: ConnectOptions = {}): Client {
  let node: URL;
  try {
    node = new URL(url);
  } catch {
    throw new KfmError({
      code: 'STORE_UNREACHABLE',
      message: 'the Elasticsearch URL does not parse (value not shown)',
    });
  }
  return new (elasticsearchModule().Client)({
    node: node.toString(),
    maxRetries: 1,
    requestTimeout: options.requestTimeout ?? 30_000,
  });
}

/** GET / : proves the server answers and is Elasticsearch; unreachable → KfmError(STORE_UNREACHABLE). */
export async function serverInfo(rest: SearchRest, url?: string): Promise<ServerInfo> {
  const where = url ? ` at ${safeHost(url)}` : '';
  let root: { version?: { number?: string; distribution?: string }; tagline?: string } | undefined;
  try {
    root = await rest.request('GET', '/');
  } catch (error) {
    throw new KfmError({
      code: 'STORE_UNREACHABLE',
      message: `Elasticsearch${where} is unreachable: ${describeError(error)}`,
    });
  }
  const version = root?.version?.number;
  if (!version || root?.version?.distribution === 'opensearch') {
    throw new KfmError({
      code: 'STORE_UNREACHABLE',
      message: `the server${where} is not Elasticsearch`,
      found: root?.version?.distribution ?? 'no version',
    });
  }
  return { product: 'Elasticsearch', version };
}
