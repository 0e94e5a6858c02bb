// What a Cypher statement is (schema command, administration command, data statement, batched
// data statement) and which labels and relationship types it names. Read from tokens, so names
// inside strings and comments never count. Neo4j cannot mix schema and data writes in one
// transaction, and `CALL {…} IN TRANSACTIONS` commits on its own: both are non-transactional.
import { isSignificant, type Token } from './cypher-lexer.js';
import { BLOCK_OPENERS, CLAUSE_KEYWORDS, labelExpression, nameOf, word } from './cypher-words.js';
import { writeTargets } from './write-targets.js';
import type { CypherStatement } from './cypher-split.js';
import { compareText } from './scope.js';

export type StatementKind =
  | 'create_constraint'
  | 'drop_constraint'
  | 'create_index'
  | 'drop_index'
  | 'show'
  | 'admin'
  | 'data'
  | 'data_batched'
  | 'procedure_autocommit';

export interface StatementFacts {
  kind: StatementKind;
  /** Schema command (CREATE/DROP CONSTRAINT|INDEX): runs in auto-commit, never with data writes. */
  schema: boolean;
  /** False when Neo4j cannot run it inside an explicit transaction with the data statements. */
  transactional: boolean;
  /** Writes graph data (CREATE, MERGE, SET, DELETE, REMOVE, or a write procedure). */
  data: boolean;
  /** Removes something (DELETE, REMOVE, DROP). */
  destructive: boolean;
  /** Labels named in node patterns and label expressions; sorted, unique. */
  labels: string[];
  /** Relationship types named in relationship patterns; sorted, unique. */
  relationshipTypes: string[];
  /** Name given to the constraint or index a schema command creates or drops. */
  schemaName?: string;
  /** A dynamic label or type (`:$(expr)`) that cannot be known before the run. */
  dynamicNames: boolean;
  /**
   * Write targets no label or type binds: variables SET, REMOVEd or DELETEd that no pattern in the
   * statement gives a label (node) or type (relationship), and nodes CREATEd or MERGEd without a label.
   * Their writes cannot be attributed to the declared scope before the run.
   */
  unboundWrites: string[];
  /**
   * Labels the statement may change: of nodes it creates or merges, of variables it SETs, REMOVEs or
   * DELETEs, and labels it SETs or REMOVEs; for a schema command, the labels it names. Sorted, unique.
   */
  writtenLabels: string[];
  /** Relationship types the statement may change, likewise. Sorted, unique. */
  writtenRelationshipTypes: string[];
  /** Procedures the statement CALLs (lower-cased, dotted). */
  procedures: string[];
  /** `LOAD CSV`: reads a file or URL the baseline never sees. */
  loadCsv: boolean;
  /** `CALL { … } IN TRANSACTIONS`: commits batch by batch, outside the run's transaction. */
  batched: boolean;
}

const SCHEMA_QUALIFIERS = new Set(['RANGE', 'TEXT', 'POINT', 'LOOKUP', 'FULLTEXT', 'VECTOR', 'BTREE', 'OR', 'REPLACE']);
const ADMIN_OBJECTS = new Set([
  'DATABASE',
  'DATABASES',
  'ALIAS',
  'USER',
  'USERS',
  'ROLE',
  'ROLES',
  'COMPOSITE',
  'SERVER',
  'SERVERS',
  'PRIVILEGES',
]);
const ADMIN_VERBS = new Set([
  'GRANT',
  'DENY',
  'REVOKE',
  'ENABLE',
  'DEALLOCATE',
  'REALLOCATE',
  'TERMINATE',
  'RENAME',
  'ALTER',
  'START',
  'STOP',
]);
const WRITE_KEYWORDS = new Set(['CREATE', 'INSERT', 'MERGE', 'SET', 'DELETE', 'DETACH', 'REMOVE', 'FOREACH']);
const DESTRUCTIVE_KEYWORDS = new Set(['DELETE', 'DETACH', 'REMOVE', 'DROP']);
/** Procedures that commit on their own or change the schema, so they escape the data transaction. */
const AUTOCOMMIT_PROCEDURES = [
  'apoc.periodic.',
  'apoc.schema.',
  'apoc.cypher.runschema',
  'apoc.cypher.runmany',
  'db.index.fulltext.create',
  'db.createindex',
  'db.createuniquepropertyconstraint',
];

type Frame = 'paren' | 'relationship' | 'list' | 'map' | 'block';

/** Labels and relationship types named in the statement, tracking which bracket a colon is in. */
function namesIn(tokens: readonly Token[]): { labels: Set<string>; types: Set<string>; dynamic: boolean } {
  const labels = new Set<string>();
  const types = new Set<string>();
  let dynamic = false;
  const stack: Frame[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    const previous = tokens[i - 1];
    if (token.kind !== 'punct') continue;
    switch (token.text) {
      case '(':
        stack.push('paren');
        break;
      case '[':
        stack.push(
          previous?.kind === 'punct' && (previous.text === '-' || previous.text === '<-') ? 'relationship' : 'list',
        );
        break;
      case '{':
        stack.push(BLOCK_OPENERS.has(word(previous)) || CLAUSE_KEYWORDS.has(word(tokens[i + 1])) ? 'block' : 'map');
        break;
      case ')':
      case ']':
      case '}':
        stack.pop();
        break;
      case ':': {
        const frame = stack[stack.length - 1];
        if (frame === 'map') break; // `{key: value}`: a map key, not a label
        const target = frame === 'relationship' ? types : labels;
        const expression = labelExpression(tokens, i, frame === 'list');
        for (const name of expression.names) target.add(name);
        if (expression.dynamic) dynamic = true;
        i = expression.end;
        break;
      }
    }
  }
  return { labels, types, dynamic };
}

function schemaKind(words: readonly string[]): { kind: StatementKind; nameAt: number } | undefined {
  const verb = words[0];
  if (verb !== 'CREATE' && verb !== 'DROP') return undefined;
  let i = 1;
  while (SCHEMA_QUALIFIERS.has(words[i] ?? '')) i++;
  const object = words[i];
  if (object === 'CONSTRAINT')
    return { kind: verb === 'CREATE' ? 'create_constraint' : 'drop_constraint', nameAt: i + 1 };
  if (object === 'INDEX') return { kind: verb === 'CREATE' ? 'create_index' : 'drop_index', nameAt: i + 1 };
  return undefined;
}

function isAdmin(words: readonly string[]): boolean {
  const [first, second, third] = words;
  if (first && ADMIN_VERBS.has(first)) return true;
  if (first === 'CREATE' || first === 'DROP') {
    return (
      ADMIN_OBJECTS.has(second ?? '') ||
      (second === 'OR' && ADMIN_OBJECTS.has(words[3] ?? '')) ||
      ADMIN_OBJECTS.has(third ?? '')
    );
  }
  return false;
}

function isBatched(significant: readonly Token[]): boolean {
  for (let i = 0; i + 1 < significant.length; i++) {
    if (word(significant[i]) === 'IN' && word(significant[i + 1]) === 'TRANSACTIONS') return true;
    if (word(significant[i]) === 'PERIODIC' && word(significant[i + 1]) === 'COMMIT') return true;
  }
  return false;
}

/** The dotted procedure names after every CALL (lower-cased). */
function procedures(significant: readonly Token[]): string[] {
  const names: string[] = [];
  for (let i = 0; i < significant.length; i++) {
    if (word(significant[i]) !== 'CALL' || nameOf(significant[i + 1]) === undefined) continue;
    const parts = [nameOf(significant[i + 1]) as string];
    let j = i + 2;
    while (significant[j]?.text === '.' && nameOf(significant[j + 1]) !== undefined) {
      parts.push(nameOf(significant[j + 1]) as string);
      j += 2;
    }
    names.push(parts.join('.').toLowerCase());
  }
  return names;
}

export function statementFacts(statement: Pick<CypherStatement, 'tokens'>): StatementFacts {
  const significant = statement.tokens.filter(isSignificant);
  const words = significant.map(word);
  const { labels, types, dynamic } = namesIn(significant);
  const calls = procedures(significant);
  const targets = writeTargets(significant);
  const base = {
    labels: [...labels].sort(compareText),
    relationshipTypes: [...types].sort(compareText),
    dynamicNames: dynamic,
    destructive: words.some((w) => DESTRUCTIVE_KEYWORDS.has(w)),
    unboundWrites: targets.unbound,
    writtenLabels: [...targets.labels].sort(compareText),
    writtenRelationshipTypes: [...targets.types].sort(compareText),
    procedures: calls,
    loadCsv: words.some((w, i) => w === 'LOAD' && words[i + 1] === 'CSV'),
    batched: isBatched(significant),
  };
  const schema = schemaKind(words);
  if (schema) {
    const candidate = significant[schema.nameAt];
    const reserved = ['IF', 'FOR', 'ON'].includes(word(candidate));
    const schemaName = !reserved ? nameOf(candidate) : undefined;
    return {
      ...base,
      // An index or constraint is a change to the labels and types it is on.
      writtenLabels: base.labels,
      writtenRelationshipTypes: base.relationshipTypes,
      kind: schema.kind,
      schema: true,
      transactional: false,
      data: false,
      ...(schemaName ? { schemaName } : {}),
    };
  }
  const none = { writtenLabels: [], writtenRelationshipTypes: [] };
  if (isAdmin(words)) return { ...base, ...none, kind: 'admin', schema: false, transactional: false, data: false };
  // SHOW reads the catalog and may share the data transaction.
  if (words[0] === 'SHOW') return { ...base, ...none, kind: 'show', schema: false, transactional: true, data: false };
  const writes = words.some((w) => WRITE_KEYWORDS.has(w)) || calls.length > 0;
  if (isBatched(significant))
    return { ...base, kind: 'data_batched', schema: false, transactional: false, data: writes };
  if (calls.some((name) => AUTOCOMMIT_PROCEDURES.some((prefix) => name.startsWith(prefix)))) {
    return { ...base, kind: 'procedure_autocommit', schema: false, transactional: false, data: true };
  }
  return writes
    ? { ...base, kind: 'data', schema: false, transactional: true, data: true }
    : { ...base, ...none, kind: 'data', schema: false, transactional: true, data: false };
}
