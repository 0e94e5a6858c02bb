// Normalization of Elasticsearch definitions before digesting: everything the server sets or changes
// by itself (UUIDs, creation dates, version stamps, recovery and resize provenance, tier defaults,
// template/pipeline timestamps) is dropped, so the same definition always gives the same digest.

/** Flat setting keys that change without anyone changing the index. */
const VOLATILE_SETTINGS: readonly RegExp[] = [
  /^index\.uuid$/,
  /^index\.creation_date(_string)?$/,
  /^index\.provided_name$/,
  /^index\.version\./,
  /^index\.routing\.allocation\.initial_recovery\./,
  /^index\.resize\.source\./,
  /^index\.shrink\.source\./,
  /^index\.history\.uuid$/,
  /^index\.verified_before_close$/,
  /^index\.lifecycle\.indexing_complete$/,
  // injected by 8.x on creation from node roles, not chosen by the index owner
  /^index\.routing\.allocation\.include\._tier_preference$/,
  /^index\.downsample\.(status|origin\.uuid)$/,
];

/** Keys of template and pipeline bodies that record when, not what (8.x adds these). */
const VOLATILE_KEYS = new Set(['created_date', 'created_date_millis', 'modified_date', 'modified_date_millis']);

export type FlatSettings = Record<string, unknown>;

// One alternation of the patterns above, compiled once: a setting key is tested once, not once per
// pattern (normalizeSettings runs it on every key of every index).
const VOLATILE_SETTING = new RegExp(VOLATILE_SETTINGS.map((pattern) => `(?:${pattern.source})`).join('|'));

export function isVolatileSetting(key: string): boolean {
  return VOLATILE_SETTING.test(key);
}

/** Flat settings (`flat_settings=true`) without volatile keys, keys sorted. */
export function normalizeSettings(settings: FlatSettings): FlatSettings {
  const out: FlatSettings = {};
  for (const key of Object.keys(settings).sort()) {
    if (!isVolatileSetting(key)) out[key] = settings[key];
  }
  return out;
}

/** Nested settings (`{index: {analysis: …}}`, as templates carry them) flattened to dotted keys. */
export function flattenSettings(value: unknown, prefix = '', out: FlatSettings = {}): FlatSettings {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value as Record<string, unknown>))
      flattenSettings(child, prefix ? `${prefix}.${key}` : key, out);
  } else if (prefix) {
    out[prefix.startsWith('index.') ? prefix : `index.${prefix}`] = value;
  }
  return out;
}

/** A template or pipeline body without its timestamps: what a PUT of the same object accepts back. */
export function withoutTimestamps<T extends Record<string, unknown>>(body: T): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) if (!VOLATILE_KEYS.has(key)) out[key] = value;
  return out as T;
}

/** A template body for digesting: no timestamps, `template.settings` flattened like index settings. */
export function normalizeTemplate(body: Record<string, unknown>): Record<string, unknown> {
  const out = withoutTimestamps(body);
  const template = out.template;
  if (template && typeof template === 'object' && !Array.isArray(template)) {
    const settings = (template as Record<string, unknown>).settings;
    if (settings !== undefined) {
      out.template = {
        ...(template as Record<string, unknown>),
        settings: normalizeSettings(flattenSettings(settings)),
      };
    }
  }
  return out;
}

/** The definition of one custom analyzer and of every custom tokenizer/filter it uses. */
export function analyzerDefinitions(settings: FlatSettings): Map<string, Record<string, unknown>> {
  const groups: Record<string, Map<string, Record<string, unknown>>> = {
    analyzer: new Map(),
    tokenizer: new Map(),
    filter: new Map(),
    char_filter: new Map(),
  };
  const pattern = /^index\.analysis\.(analyzer|tokenizer|filter|char_filter)\.([^.]+)\.(.+)$/;
  for (const [key, value] of Object.entries(settings)) {
    const match = pattern.exec(key);
    if (!match) continue;
    const [, group, name, property] = match as unknown as [string, string, string, string];
    const map = groups[group]!;
    const entry = map.get(name) ?? {};
    // list settings may come flattened as `filter.0`, `filter.1`
    const list = /^(.+)\.(\d+)$/.exec(property);
    if (list) {
      const values = (entry[list[1]!] as unknown[] | undefined) ?? [];
      values[Number(list[2])] = value;
      entry[list[1]!] = values;
    } else {
      entry[property] = value;
    }
    map.set(name, entry);
  }
  const out = new Map<string, Record<string, unknown>>();
  for (const name of [...groups.analyzer!.keys()].sort()) {
    const analyzer = groups.analyzer!.get(name)!;
    const uses = (group: string, names: unknown) => {
      const list = Array.isArray(names) ? names : names === undefined ? [] : [names];
      const found: Record<string, unknown> = {};
      for (const used of list) {
        const custom = groups[group]!.get(String(used));
        if (custom) found[String(used)] = custom;
      }
      return found;
    };
    out.set(name, {
      analyzer,
      tokenizer: uses('tokenizer', analyzer.tokenizer),
      filter: uses('filter', analyzer.filter),
      char_filter: uses('char_filter', analyzer.char_filter),
    });
  }
  return out;
}
