// A namespace is a view of one cluster in which every index, alias, template and pipeline name carries a
// prefix the code above never sees: requests get the prefix added to the names they carry (in the path and
// in the request bodies the adapter sends), answers get it removed, and listings are confined to it. A
// rehearsal runs the real bundle, unchanged, against a scratch copy that lives in such a namespace on the
// same cluster, so everything the adapter does (capture, preflight, apply, lock, ledger) works on the copy
// as it would on the real names, and the copy's baseline is comparable with the real one object by object.
import { SearchResponseError, type RequestSpec, type SearchRest } from './es-client.js';

/** Marks a connection URL as a namespace view: `<url>#kfm-namespace=<prefix>` (a fragment is never sent). */
export const NAMESPACE_FRAGMENT = 'kfm-namespace=';

/** Splits `url#kfm-namespace=<prefix>` into the URL and the prefix. */
export function namespaceOf(url: string): { url: string; namespace?: string } {
  const at = url.lastIndexOf(`#${NAMESPACE_FRAGMENT}`);
  if (at < 0) return { url };
  return { url: url.slice(0, at), namespace: url.slice(at + NAMESPACE_FRAGMENT.length + 1) };
}

/** Endpoints whose path segment after them is a name of that kind (not an index expression). */
const NAMED = new Set(['_index_template', '_component_template', '_template']);
/** Cluster-level endpoints that take an index expression in front of them; alone they mean "every index". */
const INDEX_SCOPED = new Set(['_mapping', '_settings', '_alias', '_stats', '_search', '_count', '_refresh']);
/** Segments after which the next one is a document id, never a name. */
const DOC_ACTIONS = new Set(['_doc', '_create', '_update', '_source']);

export function namespacedRest(rest: SearchRest, ns: string): SearchRest {
  const name = (value: string) => (value.startsWith(ns) ? value : `${ns}${value}`);
  const expression = (value: string) =>
    value
      .split(',')
      .map((part) => (part.startsWith('-') ? `-${name(part.slice(1))}` : name(part)))
      .join(',');
  const strip = (value: unknown): unknown => {
    if (typeof value === 'string') return value.includes(ns) ? value.split(ns).join('') : value;
    if (Array.isArray(value)) return value.map(strip);
    if (value && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [strip(key) as string, strip(inner)]));
    return value;
  };

  function translatePath(path: string): string {
    const [pathname, search] = path.split('?', 2) as [string, string | undefined];
    const segments = pathname.split('/').slice(1).map(decodeURIComponent);
    const out: string[] = [];
    const first = segments[0] === '_all' ? '*' : (segments[0] ?? '');
    if (!first.startsWith('_')) {
      // /<index expression>/…
      out.push(expression(first));
      for (let i = 1; i < segments.length; i++) {
        const segment = segments[i]!;
        const previous = segments[i - 1]!;
        if (DOC_ACTIONS.has(previous)) out.push(segment);
        else if (previous === '_alias' || previous === '_aliases' || previous === '_clone' || previous === '_split')
          out.push(expression(segment));
        else out.push(segment);
      }
    } else if (NAMED.has(first)) {
      out.push(
        first,
        segments[1] === undefined ? `${ns}*` : segments[1].startsWith('_') ? segments[1] : expression(segments[1]),
      );
      out.push(...segments.slice(2));
    } else if (first === '_ingest' && segments[1] === 'pipeline') {
      out.push(first, 'pipeline', segments[2] === undefined ? `${ns}*` : expression(segments[2]));
      out.push(...segments.slice(3));
    } else if (
      first === '_cat' &&
      (segments[1] === 'indices' || segments[1] === 'shards' || segments[1] === 'aliases')
    ) {
      out.push(first, segments[1], segments[2] === undefined ? `${ns}*` : expression(segments[2]));
    } else if (first === '_resolve' && segments[1] === 'index') {
      out.push(first, 'index', expression(segments[2] ?? '*'));
    } else if (first === '_cluster' && segments[1] === 'health' && segments[2] !== undefined) {
      out.push(first, 'health', expression(segments[2]));
    } else if (INDEX_SCOPED.has(first)) {
      // /_alias/<name> or /_mapping alone: every index of the namespace
      out.push(`${ns}*`, first);
      for (const segment of segments.slice(1)) out.push(first === '_alias' ? expression(segment) : segment);
    } else out.push(...segments);
    return `/${out.map(encodeURIComponent).join('/')}${search ? `?${search}` : ''}`;
  }

  const settings = (value: unknown): unknown => {
    if (!value || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      if ((key.endsWith('default_pipeline') || key.endsWith('final_pipeline')) && typeof inner === 'string')
        out[key] = inner === '_none' ? inner : name(inner);
      else if (key === 'index' && inner && typeof inner === 'object') out[key] = settings(inner);
      else out[key] = inner;
    }
    return out;
  };
  const aliasesObject = (value: unknown) =>
    value && typeof value === 'object'
      ? Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([key, inner]) => [name(key), inner]))
      : value;
  const indexBody = (body: Record<string, unknown>) => ({
    ...body,
    ...(body.settings ? { settings: settings(body.settings) } : {}),
    ...(body.aliases ? { aliases: aliasesObject(body.aliases) } : {}),
  });

  function translateBody(method: string, path: string, body: unknown): unknown {
    if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
    const value = body as Record<string, unknown>;
    const first = path.split('?')[0]!.split('/')[1] ?? '';
    if (first === '_aliases')
      return {
        ...value,
        actions: ((value.actions ?? []) as Record<string, Record<string, unknown>>[]).map((action) =>
          Object.fromEntries(
            Object.entries(action).map(([verb, spec]) => [
              verb,
              Object.fromEntries(
                Object.entries(spec).map(([key, inner]) => [
                  key,
                  key === 'index' || key === 'alias'
                    ? name(String(inner))
                    : key === 'indices' || key === 'aliases'
                      ? (inner as string[]).map(name)
                      : inner,
                ]),
              ),
            ]),
          ),
        ),
      };
    if (first === '_reindex') {
      const source = (value.source ?? {}) as { index?: string | string[] };
      const dest = (value.dest ?? {}) as { index?: string; pipeline?: string };
      return {
        ...value,
        source: {
          ...source,
          index: Array.isArray(source.index) ? source.index.map(name) : name(String(source.index)),
        },
        dest: { ...dest, index: name(String(dest.index)), ...(dest.pipeline ? { pipeline: name(dest.pipeline) } : {}) },
      };
    }
    if (first === '_index_template' || first === '_template' || first === '_component_template') {
      const template = value.template as Record<string, unknown> | undefined;
      return {
        ...value,
        ...(value.index_patterns
          ? {
              index_patterns: (Array.isArray(value.index_patterns) ? value.index_patterns : [value.index_patterns]).map(
                name,
              ),
            }
          : {}),
        ...(value.composed_of ? { composed_of: (value.composed_of as string[]).map(name) } : {}),
        ...(template ? { template: indexBody(template) } : {}),
        ...(first === '_template' ? indexBody(value) : {}),
      };
    }
    if (first === '_ingest')
      return {
        ...value,
        processors: ((value.processors ?? []) as { pipeline?: { name?: string } }[]).map((processor) =>
          processor.pipeline?.name
            ? { ...processor, pipeline: { ...processor.pipeline, name: name(processor.pipeline.name) } }
            : processor,
        ),
      };
    if (!first.startsWith('_')) {
      const action = path.split('?')[0]!.split('/')[2];
      if (method === 'PUT' && action === undefined) return indexBody(value); // create index
      if (action === '_settings') return settings(value);
    }
    return body;
  }

  return {
    async request<T>(method: string, path: string, spec: RequestSpec = {}): Promise<T> {
      const translated = translatePath(path);
      try {
        const answer = await rest.request<unknown>(method, translated, {
          ...spec,
          ...(spec.body !== undefined ? { body: translateBody(method, path, spec.body) } : {}),
        });
        return strip(answer) as T;
      } catch (error) {
        // the engine's error names the prefixed objects; the code above knows only the plain names
        if (error instanceof SearchResponseError) throw new SearchResponseError(error.statusCode, strip(error.body));
        throw error;
      }
    },
  };
}
