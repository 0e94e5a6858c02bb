// The declaration vocabulary per store type (DESIGN.md): which scope dimensions a type governs
// and which protected-domain keys apply to it. Third-party types pass their own dimensions.

/** Scope dimensions per built-in store type, in the order checks are reported. */
export const SCOPE_DIMENSIONS = {
  postgis: ['schemas', 'tables'],
  search: ['indices', 'aliases', 'templates', 'pipelines'],
  graph: ['labels', 'relationship_types'],
} as const satisfies Record<string, readonly string[]>;

export type BuiltInStoreType = keyof typeof SCOPE_DIMENSIONS;

/** Protected-domain keys per built-in store type; graph labels are `{label, key}` and match on `label`. */
export const PROTECTED_DIMENSIONS = {
  postgis: ['schemas', 'tables'],
  search: ['indices'],
  graph: ['labels'],
} as const satisfies Record<BuiltInStoreType, readonly string[]>;

export function isBuiltInStoreType(type: string): type is BuiltInStoreType {
  return Object.prototype.hasOwnProperty.call(SCOPE_DIMENSIONS, type);
}
