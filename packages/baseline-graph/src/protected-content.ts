// Content digests of protected labels (e.g. AuthoritySite keyed by site_id). Cypher has no hash
// function without APOC, so nodes are streamed (the driver pauses at its fetch-size watermark) and
// folded one by one into an order-independent multiset hash: the sum modulo 2^256 of each node's
// sha256 over {key, labels, properties, relationship types per direction}. Client memory stays
// O(fetch size) however many protected nodes there are, and a duplicate node is not cancelled out
// (as it would be by XOR).
import { createHash } from 'node:crypto';
import type { ProtectedDomains } from '@kfm/migration-contracts';
import { canonicalJson, cidOfJson } from '@kfm/receipts';
import { stream, type CypherRunner } from './cypher-runner.js';
import { matchesNamePattern } from '@kfm/migration-contracts';
import { compareText, quoteName } from './scope.js';
import { toPlain } from './neo4j-values.js';

const MODULUS = 1n << 256n;

export interface ProtectedLabel {
  label: string;
  key: string;
}

export interface ProtectedLabelContent extends ProtectedLabel {
  nodes: number;
  /** Nodes without the key property: still hashed, and counted so a reviewer sees them. */
  missingKey: number;
  digest: string;
}

// Identity and exact types, not only values: the node's elementId (deleted and recreated with the same
// properties is another node), each property's value type (1 and 1.0 differ), and every relationship by
// type, the elementId at its other end and its own elementId (re-pointing or recreating one is a change).
const CONTENT_QUERY = (label: string) => `
MATCH (n:${quoteName(label)})
RETURN n[$key] AS key, elementId(n) AS identity, labels(n) AS labels, properties(n) AS properties,
  [k IN keys(n) | k + ':' + valueType(n[k])] AS types,
  COLLECT { MATCH (n)-[r]->(m) RETURN type(r) + '>' + elementId(m) + '#' + elementId(r) } AS outgoing,
  COLLECT { MATCH (n)<-[r]-(m) RETURN type(r) + '<' + elementId(m) + '#' + elementId(r) } AS incoming`;

/**
 * The protected labels that apply: literal names always (a missing label hashes as empty, so its
 * appearance is a change), patterns resolved against the labels that exist.
 */
export function resolveProtectedLabels(
  domains: ProtectedDomains | undefined,
  existing: readonly string[],
): ProtectedLabel[] {
  const resolved = new Map<string, ProtectedLabel>();
  for (const entry of domains?.labels ?? []) {
    const names = entry.label.includes('*')
      ? existing.filter((name) => matchesNamePattern(name, entry.label))
      : [entry.label];
    for (const label of names) if (!resolved.has(label)) resolved.set(label, { label, key: entry.key });
  }
  return [...resolved.values()].sort((a, b) => compareText(a.label, b.label));
}

export async function protectedLabelContent(
  runner: CypherRunner,
  entry: ProtectedLabel,
): Promise<ProtectedLabelContent> {
  let sum = 0n;
  let missingKey = 0;
  const nodes = await stream(runner, CONTENT_QUERY(entry.label), { key: entry.key }, (row) => {
    const key = toPlain(row.key);
    if (key === null) missingKey++;
    const node = {
      key,
      identity: String(row.identity),
      labels: (row.labels as string[]).map(String).sort(compareText),
      properties: toPlain(row.properties),
      types: (row.types as string[]).map(String).sort(compareText),
      outgoing: (row.outgoing as string[]).map(String).sort(compareText),
      incoming: (row.incoming as string[]).map(String).sort(compareText),
    };
    const hash = createHash('sha256').update(canonicalJson(node)).digest('hex');
    sum = (sum + BigInt(`0x${hash}`)) % MODULUS;
  });
  const digest = await cidOfJson({
    algorithm: 'node-sum/v2',
    label: entry.label,
    key: entry.key,
    nodes,
    missing_key: missingKey,
    sum: sum.toString(16).padStart(64, '0'),
  });
  return { ...entry, nodes, missingKey, digest };
}
