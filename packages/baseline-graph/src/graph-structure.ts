// Labels, relationship types and their shape, computed inside Neo4j: counts come from the count
// store, property keys and degree histograms are aggregated server-side, and only one row per
// (label, key), (label, bucket) or (start labels, type, end labels) combination reaches the client.
// Costs: property keys and degrees take one scan of the nodes carrying any label in detail; keys and
// pattern counts one scan of each type's relationships (the count store cannot count a pattern with
// labels on both ends). A scoped capture (`detail`) pays those scans only for the labels and types it is
// asked to look at closely; the rest are count-store reads, O(1) whatever the graph's size.
import { rows, type CypherRunner } from './cypher-runner.js';
import { compareText, inScope, quoteName, RESERVED_PREFIX, type GraphScopeOptions } from './scope.js';
import { toCount } from './neo4j-values.js';

/** Property keys and degree histograms: present for a label captured in detail, absent for a counted one. */
export interface LabelDetail {
  propertyKeys: string[];
  degreeOut: Record<string, number>;
  degreeIn: Record<string, number>;
}

export interface LabelShape {
  name: string;
  nodes: number;
  detail?: LabelDetail;
}

export interface RelationshipTypeDetail {
  propertyKeys: string[];
  /** `[start, end]` label pairs (in-scope labels; `''` for an end with none) and their counts. */
  patterns: { start: string; end: string; count: number }[];
}

export interface RelationshipTypeShape {
  name: string;
  relationships: number;
  detail?: RelationshipTypeDetail;
}

/** Which labels and types get the scans (keys, degrees, patterns); unset: all of them. */
export interface ShapeDetail {
  label(name: string): boolean;
  relationshipType(name: string): boolean;
}

export interface GraphShape {
  labels: LabelShape[];
  relationshipTypes: RelationshipTypeShape[];
  /** Nodes carrying at least one in-scope label (or every non-runner node without a prefix). */
  nodes: number;
}

/** Log2 buckets of a degree: `0`, `1`, `2-3`, `4-7`, … (k is floor(log2(degree)), -1 for 0). */
export function degreeBucket(k: number): string {
  if (k < 0) return '0';
  if (k === 0) return '1';
  return `${2 ** k}-${2 ** (k + 1) - 1}`;
}

/** floor(log2(d)) of a degree, exactly (-1 for 0): bit arithmetic below 2^31, exact powers above. */
export function degreeExponent(degree: number): number {
  if (degree < 1) return -1;
  if (degree < 2 ** 31) return 31 - Math.clz32(degree);
  let k = Math.floor(Math.log2(degree));
  while (2 ** k > degree) k--;
  while (2 ** (k + 1) <= degree) k++;
  return k;
}

// One pass over the union of the labels in detail, so a node carrying several of them is read once (each
// label's own pass read it once per label): nodes grouped by their label list and exact (out, in) degree
// pair, with the distinct key lists seen, bucketed here per label. The groups are few (hundreds at 500k
// nodes); at 500k nodes of two labels each this is 0.87 s where one pass per label took 1.6 s.
const DETAIL_QUERY = (labels: readonly string[]) =>
  `MATCH (n) WHERE ${labels.map((label) => `n:${quoteName(label)}`).join(' OR ')} RETURN labels(n) AS labels, COUNT { (n)-->() } AS outDegree, COUNT { (n)<--() } AS inDegree, count(*) AS nodes, collect(DISTINCT keys(n)) AS keys`;

/** Each label's detail, and how many distinct nodes carry at least one of the labels (each node is one row's). */
async function labelDetails(
  runner: CypherRunner,
  names: readonly string[],
): Promise<{ details: Map<string, LabelDetail>; nodes: number }> {
  if (names.length === 0) return { details: new Map(), nodes: 0 };
  const tallies = new Map(
    names.map((name) => [
      name,
      { keys: new Set<string>(), out: new Map<number, number>(), in: new Map<number, number>() },
    ]),
  );
  const tally = (into: Map<number, number>, degree: unknown, nodes: number) => {
    const k = degreeExponent(toCount(degree));
    into.set(k, (into.get(k) ?? 0) + nodes);
  };
  let union = 0;
  for (const row of await rows(runner, DETAIL_QUERY(names))) {
    const nodes = toCount(row.nodes);
    union += nodes;
    for (const label of row.labels as string[]) {
      const entry = tallies.get(label);
      if (!entry) continue;
      for (const list of row.keys as string[][]) for (const key of list) entry.keys.add(key);
      tally(entry.out, row.outDegree, nodes);
      tally(entry.in, row.inDegree, nodes);
    }
  }
  // Buckets in ascending order, as the baseline has always listed them.
  const histogram = (tallies: Map<number, number>) =>
    Object.fromEntries([...tallies].sort((a, b) => a[0] - b[0]).map(([k, nodes]) => [degreeBucket(k), nodes]));
  const details = new Map(
    [...tallies].map(([name, entry]) => [
      name,
      {
        propertyKeys: [...entry.keys].sort(compareText),
        degreeOut: histogram(entry.out),
        degreeIn: histogram(entry.in),
      },
    ]),
  );
  return { details, nodes: union };
}

async function relationshipTypeDetail(
  runner: CypherRunner,
  name: string,
  options: GraphScopeOptions,
): Promise<RelationshipTypeDetail> {
  // Keys and endpoint labels in one pass over the type's relationships (two passes took 1.4× as long).
  const combinations = await rows(
    runner,
    `MATCH (a)-[r:${quoteName(name)}]->(b) RETURN labels(a) AS startLabels, labels(b) AS endLabels, count(r) AS relationships, collect(DISTINCT keys(r)) AS keys`,
  );
  const keys = new Set<string>();
  const byPair = new Map<string, { start: string; end: string; count: number }>();
  const scoped = (labels: unknown) => {
    const names = (labels as string[]).filter((label) => inScope(label, options));
    return names.length ? names : [''];
  };
  for (const row of combinations) {
    for (const list of row.keys as string[][]) for (const key of list) keys.add(key);
    for (const start of scoped(row.startLabels)) {
      for (const end of scoped(row.endLabels)) {
        const key = `${start}\u0000${end}`;
        const entry = byPair.get(key) ?? { start, end, count: 0 };
        entry.count += toCount(row.relationships);
        byPair.set(key, entry);
      }
    }
  }
  const patterns = [...byPair.values()].sort((a, b) => compareText(a.start, b.start) || compareText(a.end, b.end));
  return { propertyKeys: [...keys].sort(compareText), patterns };
}

/**
 * Nodes in scope. Without a prefix: the count store's total minus the runner's own nodes (each carries
 * exactly one `Kfm*` label), O(1). With a prefix, the nodes carrying at least one in-scope label: the
 * detail scan already counted them when every such label was in it; otherwise a union of those labels'
 * scans (through the token lookup index every database has by default), not a pass over every node in
 * the database with each node's labels tested, most of which another namespace may own.
 */
async function nodeTotal(
  runner: CypherRunner,
  reserved: readonly string[],
  inScopeLabels: readonly string[],
  /** The detail scan's distinct nodes, when it covered every in-scope label. */
  coveredByDetail: number | undefined,
  options: GraphScopeOptions,
): Promise<number> {
  if (options.labelPrefix !== undefined) {
    if (coveredByDetail !== undefined) return coveredByDetail;
    const anyOf = inScopeLabels.map((label) => `n:${quoteName(label)}`).join(' OR ');
    return toCount((await rows(runner, `MATCH (n) WHERE ${anyOf} RETURN count(n) AS nodes`))[0]?.nodes);
  }
  let total = toCount((await rows(runner, 'MATCH (n) RETURN count(n) AS nodes'))[0]?.nodes);
  for (const label of reserved)
    total -= toCount((await rows(runner, `MATCH (n:${quoteName(label)}) RETURN count(n) AS nodes`))[0]?.nodes);
  return total;
}

/**
 * Labels and relationship types that exist (at least one node / relationship) in scope; those `detail`
 * selects (all when unset) with their property keys, degree histograms and patterns.
 */
export async function captureShape(
  runner: CypherRunner,
  options: GraphScopeOptions,
  progress?: (message: string) => void,
  detail?: ShapeDetail,
): Promise<GraphShape> {
  const allLabels = (await rows(runner, 'CALL db.labels() YIELD label RETURN label')).map((row) => String(row.label));
  const allTypes = (
    await rows(runner, 'CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType')
  ).map((row) => String(row.relationshipType));
  const counted: { name: string; nodes: number }[] = [];
  for (const name of allLabels.filter((label) => inScope(label, options)).sort(compareText)) {
    const nodes = toCount((await rows(runner, `MATCH (n:${quoteName(name)}) RETURN count(n) AS nodes`))[0]?.nodes);
    // Label tokens are never deleted; a label without nodes does not exist for the baseline.
    if (nodes > 0) counted.push({ name, nodes });
  }
  const inDetail = counted.filter((label) => !detail || detail.label(label.name)).map((label) => label.name);
  const { details, nodes: detailedNodes } = await labelDetails(runner, inDetail);
  const labels: LabelShape[] = counted.map(({ name, nodes }) => {
    const found = details.get(name);
    return found ? { name, nodes, detail: found } : { name, nodes };
  });
  progress?.(`baseline: ${labels.length} label(s) in scope, ${labels.filter((l) => l.detail).length} in detail`);
  const relationshipTypes: RelationshipTypeShape[] = [];
  for (const name of allTypes.filter((type) => inScope(type, options)).sort(compareText)) {
    const relationships = toCount(
      (await rows(runner, `MATCH ()-[r:${quoteName(name)}]->() RETURN count(r) AS relationships`))[0]?.relationships,
    );
    if (relationships === 0) continue;
    relationshipTypes.push(
      !detail || detail.relationshipType(name)
        ? { name, relationships, detail: await relationshipTypeDetail(runner, name, options) }
        : { name, relationships },
    );
  }
  progress?.(
    `baseline: ${relationshipTypes.length} relationship type(s) in scope, ${relationshipTypes.filter((t) => t.detail).length} in detail`,
  );
  const reserved = allLabels.filter((label) => label.startsWith(RESERVED_PREFIX));
  const nodes = await nodeTotal(
    runner,
    reserved,
    counted.map((label) => label.name),
    inDetail.length === counted.length ? detailedNodes : undefined,
    options,
  );
  return { labels, relationshipTypes, nodes };
}
