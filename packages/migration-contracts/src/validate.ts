// Validates values against the versioned JSON Schemas and turns Ajv's errors into Issues with a
// stable code, a JSON pointer, a line:column and what was expected and found.
import { createRequire } from 'node:module';
import type { Ajv2020, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { schemasByName } from './generated/schemas.js';
import type { ErrorCode, Issue } from './errors.js';
import { encodePointer, type ParsedDocument } from './document.js';
import { credentialPlaceholder, looksLikeCredential, redactIssue } from './credentials.js';

export { looksLikeCredential };

export type SchemaName = keyof typeof schemasByName;
export const schemaNames = Object.keys(schemasByName) as SchemaName[];

const requireCjs = createRequire(import.meta.url);
let ajv: Ajv2020 | undefined;
const compiled = new Map<SchemaName, ValidateFunction>();

/**
 * The validator the build precompiled for a schema (Ajv standalone code, generated/validators/NAME.cjs),
 * one module per schema so a command loads only those it uses: a fraction of compiling the schemas at
 * every start. Absent (a source checkout before its first build), the schemas are compiled here instead,
 * with the same options.
 */
function precompiledValidator(name: SchemaName): ValidateFunction | undefined {
  try {
    return (requireCjs(`./generated/validators/${name}.cjs`) as { validate: ValidateFunction }).validate;
  } catch {
    return undefined;
  }
}

function validatorFor(name: SchemaName): ValidateFunction {
  let fn = compiled.get(name);
  if (fn) return fn;
  fn = precompiledValidator(name);
  if (!fn) {
    ajv ??= (() => {
      // Ajv itself loads only here, never on the precompiled path (it costs tens of ms at every start).
      const { Ajv2020: Ajv } = requireCjs('ajv/dist/2020.js') as { Ajv2020: typeof Ajv2020 };
      const addFormats = requireCjs('ajv-formats') as (ajv: Ajv2020) => void;
      const instance = new Ajv({ allErrors: true, strict: false });
      addFormats(instance);
      // Every schema is registered by its $id, so cross-file $refs (common.v1.schema.json#/$defs/…) resolve.
      for (const schema of Object.values(schemasByName)) instance.addSchema(schema as object);
      return instance;
    })();
    fn = ajv.getSchema(schemasByName[name].$id) as ValidateFunction;
  }
  compiled.set(name, fn);
  return fn;
}

/** The schema's `$id`, for messages and artifacts. */
export function schemaId(name: SchemaName): string {
  return schemasByName[name].$id;
}

/** Validates a value; returns [] when it is valid. */
export function validateValue(name: SchemaName, value: unknown, document?: ParsedDocument): Issue[] {
  const validate = validatorFor(name);
  if (validate(value)) return [];
  const issues: Issue[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const mapped = toIssue(error, value);
    if (!mapped) continue;
    // A key or value that is a credential must not reach the issue through the pointer or message.
    const { issue } = redactIssue(mapped);
    const key = `${issue.code}|${issue.pointer}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (document) {
      issue.file = document.file;
      Object.assign(issue, document.locate(issue.pointer ?? ''));
    }
    issues.push(issue);
  }
  // A malformed id already fails the id pattern; saying its prefix disagrees with `type` is noise.
  const malformed = new Set(issues.filter((i) => i.code === 'SCHEMA_PATTERN').map((i) => i.pointer));
  return issues.filter((i) => i.code !== 'MIGRATION_ID_TYPE_MISMATCH' || !malformed.has(i.pointer));
}

function toIssue(error: ErrorObject, root: unknown): Issue | undefined {
  const { keyword, instancePath, params, schemaPath } = error;
  // Conditional wrappers repeat what their inner errors say.
  if (keyword === 'if' || keyword === 'allOf') return undefined;
  if (schemaPath.includes('/propertyNames/')) return undefined;
  const found = describe(valueAt(root, instancePath));
  const p = params as Record<string, unknown>;
  const conditional = schemaPath.startsWith('#/allOf/');
  switch (keyword) {
    case 'required': {
      const field = String(p.missingProperty);
      const pointer = instancePath + encodePointer([field]);
      let code: ErrorCode = 'SCHEMA_REQUIRED';
      if (conditional && instancePath === '/artifacts' && field === 'rollback') code = 'ROLLBACK_ARTIFACT_MISSING';
      if (conditional && field === 'irreversibility_ref') code = 'IRREVERSIBLE_WITHOUT_APPROVAL';
      if (conditional && field === 'approvals') code = 'IRREVERSIBLE_WITHOUT_APPROVAL';
      return {
        code,
        pointer,
        message: `missing required field \`${field}\``,
        expected: `a value for ${field}`,
        found: 'nothing',
      };
    }
    case 'additionalProperties': {
      const field = String(p.additionalProperty);
      const code: ErrorCode = instancePath === '/limits' ? 'LIMIT_UNKNOWN' : 'SCHEMA_UNKNOWN_FIELD';
      return {
        code,
        pointer: instancePath + encodePointer([field]),
        message: code === 'LIMIT_UNKNOWN' ? `unknown limit \`${field}\`` : `unknown field \`${field}\``,
        expected: 'only fields the schema defines',
      };
    }
    case 'propertyNames': {
      const field = String(p.propertyName);
      const code: ErrorCode =
        instancePath === '/limits'
          ? 'LIMIT_UNKNOWN'
          : instancePath === '/scope'
            ? 'SCOPE_KEY_NOT_FOR_TYPE'
            : 'SCHEMA_UNKNOWN_FIELD';
      const type = describeType(root);
      return {
        code,
        pointer: instancePath + encodePointer([field]),
        message: `\`${field}\` is not a ${instancePath.slice(1)} key for type ${type}`,
        expected: `a ${instancePath.slice(1)} key defined for ${type}`,
        found: field,
      };
    }
    case 'pattern': {
      if (conditional && instancePath === '/migration_id') {
        return {
          code: 'MIGRATION_ID_TYPE_MISMATCH',
          pointer: instancePath,
          message: 'migration_id prefix does not agree with type',
          expected: `prefix ${String(p.pattern)
            .replace(/^\^/, '')
            .replace(/-MIG-$/, '')}-MIG- for type ${describeType(root)}`,
          found,
        };
      }
      return {
        code: 'SCHEMA_PATTERN',
        pointer: instancePath,
        message: error.message ?? 'does not match pattern',
        expected: `a string matching ${String(p.pattern)}`,
        found,
      };
    }
    case 'not':
      if (conditional && instancePath === '') {
        return {
          code: 'NON_TRANSACTIONAL_WITHOUT_ROLLBACK',
          pointer: '/transactional',
          message: 'a non-transactional migration needs a rollback: requires_rollback must be true',
          expected: 'requires_rollback: true with a rollback script',
          found: 'transactional: false and requires_rollback: false',
        };
      }
      return { code: 'SCHEMA_INVALID', pointer: instancePath, message: error.message ?? 'invalid', found };
    case 'minItems':
      if (conditional && instancePath === '/artifacts/rollback')
        return {
          code: 'ROLLBACK_ARTIFACT_MISSING',
          pointer: instancePath,
          message: 'requires_rollback is true but no rollback script is listed',
          expected: 'at least one rollback script',
          found,
        };
      return {
        code: 'SCHEMA_LENGTH',
        pointer: instancePath,
        message: error.message ?? 'wrong length',
        expected: `at least ${String(p.limit)} items`,
        found,
      };
    case 'maxItems':
    case 'minLength':
    case 'maxLength':
      return {
        code: 'SCHEMA_LENGTH',
        pointer: instancePath,
        message: error.message ?? 'wrong length',
        expected: `${keyword.startsWith('min') ? 'at least' : 'at most'} ${String(p.limit)}${keyword.endsWith('Length') ? ' characters' : ' items'}`,
        found,
      };
    case 'type':
      return { code: 'SCHEMA_TYPE', pointer: instancePath, message: `wrong type`, expected: String(p.type), found };
    case 'enum':
      return {
        code: 'SCHEMA_ENUM',
        pointer: instancePath,
        message: 'not an allowed value',
        expected: `one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
        found,
      };
    case 'const':
      return {
        code: 'SCHEMA_CONST',
        pointer: instancePath,
        message: 'not the fixed value',
        expected: JSON.stringify(p.allowedValue),
        found,
      };
    case 'minimum':
    case 'exclusiveMinimum':
      return {
        code: 'SCHEMA_MINIMUM',
        pointer: instancePath,
        message: 'below the minimum',
        expected: `a number >= ${String(p.limit)}`,
        found,
      };
    case 'maximum':
    case 'exclusiveMaximum':
      return {
        code: 'SCHEMA_MAXIMUM',
        pointer: instancePath,
        message: 'above the maximum',
        expected: `a number <= ${String(p.limit)}`,
        found,
      };
    case 'uniqueItems': {
      const [first, second] = [Number(p.i), Number(p.j)].sort((a, b) => a - b);
      return {
        code: 'SCHEMA_UNIQUE',
        pointer: instancePath,
        message: 'duplicate items',
        expected: 'unique items',
        found: `items ${first} and ${second} are equal`,
      };
    }
    case 'format':
      return {
        code: 'SCHEMA_FORMAT',
        pointer: instancePath,
        message: `not a valid ${String(p.format)}`,
        expected: String(p.format),
        found,
      };
    default:
      return { code: 'SCHEMA_INVALID', pointer: instancePath, message: error.message ?? 'invalid', found };
  }
}

function describeType(root: unknown): string {
  return typeof root === 'object' && root !== null && 'type' in root
    ? String((root as { type: unknown }).type)
    : 'unknown';
}

function valueAt(root: unknown, pointer: string): unknown {
  let node: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

/** A short, safe description of a found value: strings that could hold a credential are never echoed. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    if (looksLikeCredential(value)) return credentialPlaceholder(value);
    return value.length > 60 ? `"${value.slice(0, 57)}…"` : JSON.stringify(value);
  }
  return `${typeof value} ${String(value)}`;
}
