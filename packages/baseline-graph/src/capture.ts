// Neo4j baseline capture: labels, relationship types, constraints and indexes as digested objects;
// counts (label, type, pattern, totals), degree histograms, protected-label content digests and
// invariant checks. Everything is aggregated in the database; the client holds one row per schema
// object or histogram bucket, never nodes. Same graph ⇒ same fingerprints.
//
// Detail follows the declaration: the labels and types it allows, forbids, protects or names in an
// invariant, and those the preflight predicts the scripts touch, get property keys, degree
// histograms and patterns (scans proportional to their size); every other label and type is counted
// from the count store, and its object says so (`attributes.detail: 'counted'`). `full`
// (kfm-migrate --full), or no declaration, looks at all of them closely; `like` repeats the detail an
// earlier baseline was captured at, so the two compare.
import {
  matchesNamePattern,
  type Baseline,
  type BaselineObject,
  type BaselineOptions,
  type MigrationDeclaration,
  type ProtectedDomains,
} from '@kfm/migration-contracts';
import { cidOfJson, fingerprintOf } from '@kfm/receipts';
import type { Driver, Session, SessionMode } from 'neo4j-driver';
import { rows, type CypherRunner } from './cypher-runner.js';
import { invariantChecks } from './graph-invariants.js';
import { compareText, inScope, type GraphScopeOptions } from './scope.js';
import { captureShape, type GraphShape, type ShapeDetail } from './graph-structure.js';
import { protectedLabelContent, resolveProtectedLabels } from './protected-content.js';
import { schemaObjects } from './schema-catalog.js';

export interface GraphBaselineOptions extends BaselineOptions, GraphScopeOptions {
  /** Database to read when given a driver (default: the server's default database). */
  database?: string;
}

/** A driver (a read transaction is opened), a session (same), or a transaction to read inside. */
export type GraphCaptureTarget = Driver | Session | CypherRunner;

function isDriver(target: GraphCaptureTarget): target is Driver {
  return (
    typeof (target as Driver).session === 'function' && typeof (target as Driver).verifyConnectivity === 'function'
  );
}

function isSession(target: GraphCaptureTarget): target is Session {
  return typeof (target as Session).beginTransaction === 'function';
}

/** One read transaction for the whole capture, so every query sees the same committed state. */
export async function captureGraphBaseline(
  target: GraphCaptureTarget,
  options: GraphBaselineOptions = {},
): Promise<Baseline> {
  if (isDriver(target)) {
    const mode: SessionMode = 'READ';
    const session = target.session({
      defaultAccessMode: mode,
      ...(options.database ? { database: options.database } : {}),
    });
    try {
      return await captureGraphBaseline(session, options);
    } finally {
      await session.close();
    }
  }
  if (isSession(target)) {
    const transaction = target.beginTransaction();
    try {
      const baseline = await captureIn(transaction, options);
      await transaction.commit();
      return baseline;
    } finally {
      if (transaction.isOpen()) await transaction.rollback();
    }
  }
  return captureIn(target, options);
}

function mergedProtected(options: GraphBaselineOptions): ProtectedDomains {
  const labels = [...(options.protected?.labels ?? []), ...(options.declaration?.protected?.labels ?? [])];
  const relationship_types = [
    ...(options.protected?.relationship_types ?? []),
    ...(options.declaration?.protected?.relationship_types ?? []),
  ];
  return { labels, relationship_types };
}

/** What a label or type counted from the count store alone carries instead of keys and patterns. */
const COUNTED = 'counted';

const isCounted = (object: BaselineObject) =>
  (object.attributes as { detail?: unknown } | undefined)?.detail === COUNTED;

/**
 * The labels and types a declaration looks at closely: allowed, forbidden, protected (store policy
 * included), those its invariants name, and those the preflight predicts the scripts touch.
 */
function declaredDetail(declaration: MigrationDeclaration, options: GraphBaselineOptions): ShapeDetail {
  const scope = declaration.scope ?? {};
  const invariants = declaration.invariants;
  const labels = [
    ...(scope.allowed_labels ?? []),
    ...(scope.forbidden_labels ?? []),
    ...(mergedProtected(options).labels ?? []).map((entry) => entry.label),
    ...(invariants?.provenance_label ? [invariants.provenance_label] : []),
    ...(invariants?.required_relationships ?? []).map((entry) => entry.label),
    ...(invariants?.exclusive_labels ?? []).flat(),
    ...(options.predicted?.labels ?? []),
  ];
  const types = [
    ...(scope.allowed_relationship_types ?? []),
    ...(scope.forbidden_relationship_types ?? []),
    ...(mergedProtected(options).relationship_types ?? []),
    ...(invariants?.required_relationships ?? []).map((entry) => entry.type),
    ...(options.predicted?.relationship_types ?? []),
  ];
  const matches = (patterns: readonly string[]) => (name: string) =>
    patterns.some((pattern) => matchesNamePattern(name, pattern));
  return { label: matches(labels), relationshipType: matches(types) };
}

/**
 * Unset (every label and type in detail) for --full or without a declaration. `like` decides first:
 * a capture that will be compared with an earlier one takes each label and type it has at the same
 * detail (all of them if it was full), and only names it did not have by the declaration.
 */
function detailFor(options: GraphBaselineOptions): ShapeDetail | undefined {
  const like = options.like;
  if (like && !like.objects.some(isCounted)) return undefined;
  if (!like && (options.full || !options.declaration)) return undefined;
  // Names the earlier baseline lacks: by the declaration, or all in detail without one.
  const declared = options.declaration
    ? declaredDetail(options.declaration, options)
    : { label: () => true, relationshipType: () => true };
  if (!like) return declared;
  const earlier = new Map(
    like.objects
      .filter((object) => object.kind === 'label' || object.kind === 'relationship_type')
      .map((object) => [`${object.kind}\u0000${object.name}`, !isCounted(object)]),
  );
  return {
    label: (name) => earlier.get(`label\u0000${name}`) ?? declared.label(name),
    relationshipType: (name) => earlier.get(`relationship_type\u0000${name}`) ?? declared.relationshipType(name),
  };
}

function structureObjects(shape: GraphShape): Promise<BaselineObject[]> {
  const labels = shape.labels.map(async (label): Promise<BaselineObject> => {
    const definition = label.detail ? { property_keys: label.detail.propertyKeys } : { detail: COUNTED };
    return {
      kind: 'label',
      name: label.name,
      scope: { labels: [label.name] },
      digest: await cidOfJson({ kind: 'label', name: label.name, ...definition }),
      attributes: definition,
    };
  });
  const types = shape.relationshipTypes.map(async (type): Promise<BaselineObject> => {
    // Which label pairs a type connects is part of the graph's shape; how many is a count.
    const definition = type.detail
      ? { property_keys: type.detail.propertyKeys, patterns: type.detail.patterns.map((p) => [p.start, p.end]) }
      : { detail: COUNTED };
    return {
      kind: 'relationship_type',
      name: type.name,
      scope: { relationship_types: [type.name] },
      digest: await cidOfJson({ kind: 'relationship_type', name: type.name, ...definition }),
      attributes: definition,
    };
  });
  return Promise.all([...labels, ...types]);
}

async function serverOf(runner: CypherRunner): Promise<Baseline['server']> {
  const [row] = await rows(
    runner,
    "CALL dbms.components() YIELD name, versions, edition WHERE name = 'Neo4j Kernel' RETURN versions[0] AS version, edition",
  );
  return {
    product: 'Neo4j',
    version: String(row?.version ?? 'unknown'),
    extensions: { edition: String(row?.edition ?? 'unknown') },
  };
}

async function captureIn(runner: CypherRunner, options: GraphBaselineOptions): Promise<Baseline> {
  const server = await serverOf(runner);
  const shape = await captureShape(runner, options, options.progress, detailFor(options));
  const catalog = await schemaObjects(runner, options);
  const objects = [...(await structureObjects(shape)), ...catalog].sort(
    (a, b) => compareText(a.kind, b.kind) || compareText(a.name, b.name),
  );

  const counts: Record<string, number> = {
    constraints: catalog.filter((o) => o.kind === 'constraint').length,
    indexes: catalog.filter((o) => o.kind === 'index').length,
    labels: shape.labels.length,
    nodes: shape.nodes,
    relationship_types: shape.relationshipTypes.length,
    relationships: shape.relationshipTypes.reduce((sum, type) => sum + type.relationships, 0),
  };
  const measures: Record<string, Record<string, number>> = {};
  for (const label of shape.labels) {
    counts[`label:${label.name}`] = label.nodes;
    if (!label.detail) continue;
    measures[`degree_out:${label.name}`] = label.detail.degreeOut;
    measures[`degree_in:${label.name}`] = label.detail.degreeIn;
  }
  for (const type of shape.relationshipTypes) {
    counts[`relationship_type:${type.name}`] = type.relationships;
    for (const pattern of type.detail?.patterns ?? [])
      counts[`pattern:(${pattern.start})-[${type.name}]->(${pattern.end})`] = pattern.count;
  }

  const baseline: Baseline = {
    kfm_baseline_version: 'v1',
    store: 'graph',
    server,
    ...(options.capturedAt ? { captured_at: options.capturedAt } : {}),
    counts: sortedRecord(counts),
    objects,
    measures: sortedRecord(measures),
    fingerprints: { schema: await fingerprintOf(objects) },
  };

  const existing = shape.labels.map((label) => label.name);
  const protectedLabels = resolveProtectedLabels(mergedProtected(options), existing).filter((entry) =>
    inScope(entry.label, options),
  );
  if (protectedLabels.length > 0) {
    const content: Record<string, string> = {};
    for (const entry of protectedLabels) {
      const result = await protectedLabelContent(runner, entry);
      content[entry.label] = result.digest;
      options.progress?.(`baseline: protected ${entry.label}: ${result.nodes} node(s) hashed`);
    }
    const names = new Set(protectedLabels.map((entry) => entry.label));
    const protectedObjects = objects.filter((o) => (o.scope.labels ?? []).some((label) => names.has(label)));
    baseline.protected = {
      patterns: [...new Set(mergedProtected(options).labels?.map((entry) => entry.label))].sort(compareText),
      objects: protectedObjects.map((o) => `${o.kind}:${o.name}`),
      content: sortedRecord(content),
    };
    baseline.fingerprints.protected = await cidOfJson({
      content,
      objects: protectedObjects.map((o) => [o.kind, o.name, o.digest]),
    });
  }

  const invariants = await invariantChecks(runner, options.declaration?.invariants);
  if (invariants.length) baseline.invariants = invariants;
  return baseline;
}

function sortedRecord<T>(record: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of Object.keys(record).sort(compareText)) out[key] = record[key] as T;
  return out;
}
