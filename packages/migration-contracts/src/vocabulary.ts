// A declaration checked against the vocabulary of the store adapter its `type` names: the id prefix,
// scope dimensions, limits, protected keys, invariants and connection roles. The JSON Schema keeps
// the built-in types' rules for editors; this check is what holds for every adapter, built-in or not.
import type { Issue } from './errors.js';
import type { MigrationDeclaration } from './generated/types.js';
import type { StoreAdapter } from './adapter.js';
import { encodePointer } from './document.js';

/** Where a pointer sits in the declaration file (line:column), when known. */
export type Locate = (pointer: string) => { line: number; column: number } | undefined;

export function vocabularyIssues(
  declaration: MigrationDeclaration,
  adapter: Pick<StoreAdapter, 'type' | 'vocabulary' | 'connection'>,
  file?: string,
  locate: Locate = () => undefined,
): Issue[] {
  const { vocabulary } = adapter;
  const issues: Issue[] = [];
  const at = (pointer: string) => ({ ...(file ? { file } : {}), pointer, ...locate(pointer) });
  const prefix = `${vocabulary.idPrefix}-MIG-`;
  if (!declaration.migration_id.startsWith(prefix)) {
    issues.push({
      code: 'MIGRATION_ID_TYPE_MISMATCH',
      ...at('/migration_id'),
      message: 'migration_id prefix does not agree with type',
      expected: `prefix ${prefix} for type ${adapter.type}`,
      found: declaration.migration_id,
    });
  }
  const dimensions = new Set(vocabulary.scopeDimensions);
  for (const key of Object.keys(declaration.scope ?? {})) {
    const dimension = /^(?:allowed|forbidden)_(.+)$/.exec(key)?.[1];
    if (dimension && dimensions.has(dimension)) continue;
    issues.push({
      code: 'SCOPE_KEY_NOT_FOR_TYPE',
      ...at(`/scope${encodePointer([key])}`),
      message: `\`${key}\` is not a scope key for type ${adapter.type}`,
      expected: `allowed_/forbidden_ + one of ${[...dimensions].join(', ')}`,
      found: key,
    });
  }
  for (const key of Object.keys(declaration.limits ?? {})) {
    if (Object.hasOwn(vocabulary.limits, key)) continue;
    issues.push({
      code: 'LIMIT_UNKNOWN',
      ...at(`/limits${encodePointer([key])}`),
      message: `\`${key}\` is not a limit of type ${adapter.type}`,
      expected: `one of ${Object.keys(vocabulary.limits).join(', ') || 'none'}`,
      found: key,
    });
  }
  for (const [key, entries] of Object.entries(declaration.protected ?? {})) {
    const spec = vocabulary.protectedKeys[key];
    if (!spec) {
      issues.push({
        code: 'SCOPE_KEY_NOT_FOR_TYPE',
        ...at(`/protected${encodePointer([key])}`),
        message: `\`${key}\` is not a protected key for type ${adapter.type}`,
        expected: `one of ${Object.keys(vocabulary.protectedKeys).join(', ') || 'none'}`,
        found: key,
      });
      continue;
    }
    (entries ?? []).forEach((entry: unknown, i: number) => {
      const keyed = typeof entry === 'object' && entry !== null;
      if (keyed === Boolean(spec.nameField)) return;
      issues.push({
        code: 'SCHEMA_TYPE',
        ...at(`/protected${encodePointer([key, i])}`),
        message: spec.nameField
          ? `protected ${key} entries name a ${spec.nameField} and its key`
          : `protected ${key} entries are name patterns`,
        expected: spec.nameField ? `{${spec.nameField}, key}` : 'a name pattern',
        found: keyed ? 'an object' : 'a string',
      });
    });
  }
  if (vocabulary.invariants) {
    const known = new Set(vocabulary.invariants);
    for (const key of Object.keys(declaration.invariants ?? {})) {
      if (!known.has(key))
        issues.push({
          code: 'SCHEMA_UNKNOWN_FIELD',
          ...at(`/invariants${encodePointer([key])}`),
          message: `\`${key}\` is not an invariant of type ${adapter.type}`,
          expected: `one of ${[...known].join(', ') || 'none'}`,
          found: key,
        });
    }
  }
  for (const role of Object.keys(declaration.connection ?? {})) {
    if (Object.hasOwn(adapter.connection, role)) continue;
    issues.push({
      code: 'SCHEMA_UNKNOWN_FIELD',
      ...at(`/connection${encodePointer([role])}`),
      message: `\`${role}\` is not a connection role of type ${adapter.type}`,
      expected: `one of ${Object.keys(adapter.connection).join(', ')}`,
      found: role,
    });
  }
  return issues;
}
