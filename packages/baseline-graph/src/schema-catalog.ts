// Constraints and indexes as catalog objects with a normalized identity, so two servers' catalogs
// compare by value (as neo4j-migrations does): an object is named by what it enforces, e.g.
// `UNIQUENESS (:Parcel {parcel_id})`; its given name is part of the digest, so a rename is a
// `changed` object, not a drop plus an add. Volatile columns (id, state, population, read counts)
// are dropped; indexes owned by a constraint are described by that constraint.
import type { BaselineObject } from '@kfm/migration-contracts';
import { cidOfJson } from '@kfm/receipts';
import { rows, type CypherRunner, type Row } from './cypher-runner.js';
import { compareText, inScope, isReserved, type GraphScopeOptions } from './scope.js';
import { toPlain, type Plain } from './neo4j-values.js';

export const CONSTRAINTS_QUERY = 'SHOW CONSTRAINTS YIELD *';
export const INDEXES_QUERY = 'SHOW INDEXES YIELD *';

const CONSTRAINT_COLUMNS = [
  'name',
  'type',
  'entityType',
  'labelsOrTypes',
  'properties',
  'propertyType',
  'ownedIndex',
  'options',
];
const INDEX_COLUMNS = ['name', 'type', 'entityType', 'labelsOrTypes', 'properties', 'indexProvider', 'options'];

function pick(row: Row, columns: readonly string[]): Record<string, Plain> {
  const out: Record<string, Plain> = {};
  for (const column of columns) {
    const value = toPlain(row[column]);
    if (value !== null) out[column] = value;
  }
  return out;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

/** `(:A {x, y})`, `()-[:T {x}]-()`, `(:A|B {x})`; LOOKUP indexes have no tokens. */
export function schemaIdentity(
  type: string,
  entityType: string,
  tokens: readonly string[],
  properties: readonly string[],
): string {
  if (tokens.length === 0) return `${type} ${entityType}`;
  const props = properties.length ? ` {${properties.join(', ')}}` : '';
  const names = tokens.join('|');
  return entityType === 'RELATIONSHIP' ? `${type} ()-[:${names}${props}]-()` : `${type} (:${names}${props})`;
}

/** True when the catalog object belongs to the captured namespace. */
function objectInScope(tokens: readonly string[], options: GraphScopeOptions): boolean {
  if (tokens.some(isReserved)) return false;
  if (options.labelPrefix === undefined) return true;
  return tokens.length > 0 && tokens.every((token) => inScope(token, options));
}

async function toObject(kind: 'constraint' | 'index', row: Row, columns: readonly string[]): Promise<BaselineObject> {
  const definition = pick(row, columns);
  const type = String(row.type);
  const entityType = String(row.entityType);
  const tokens = stringList(row.labelsOrTypes);
  const properties = stringList(row.properties);
  const dimension = entityType === 'RELATIONSHIP' ? 'relationship_types' : 'labels';
  return {
    kind,
    name: schemaIdentity(type, entityType, tokens, properties),
    scope: tokens.length ? { [dimension]: tokens } : {},
    digest: await cidOfJson({ kind, ...definition }),
    attributes: definition,
  };
}

/** Constraint and index objects in scope, sorted by (kind, name). */
export async function schemaObjects(runner: CypherRunner, options: GraphScopeOptions): Promise<BaselineObject[]> {
  const objects: BaselineObject[] = [];
  for (const row of await rows(runner, CONSTRAINTS_QUERY)) {
    if (objectInScope(stringList(row.labelsOrTypes), options))
      objects.push(await toObject('constraint', row, CONSTRAINT_COLUMNS));
  }
  for (const row of await rows(runner, INDEXES_QUERY)) {
    if (row.owningConstraint !== null && row.owningConstraint !== undefined) continue;
    if (objectInScope(stringList(row.labelsOrTypes), options))
      objects.push(await toObject('index', row, INDEX_COLUMNS));
  }
  return objects.sort((a, b) => compareText(a.kind, b.kind) || compareText(a.name, b.name));
}
