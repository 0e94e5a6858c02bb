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

const CONTENT_QUERY = (label: string) => `
MATCH (n:${quoteName(label)})
RETURN n[$key] AS key, labels(n) AS labels, properties(n) AS properties,
  COLLECT { MATCH (n)-[r]->() WITH type(r) AS type, count(*) AS c ORDER BY type RETURN type + ':' + toString(c) } AS outgoing,
  COLLECT { MATCH (n)<-[r]-() WITH type(r) AS type, count(*) AS c ORDER BY type RETURN type + ':' + toString(c) } AS incoming`;

/**
 * The protected labels that apply: literal names always (a missing label hashes as empty, so its
 * appearance is a change), patterns resolved against the labels that exist.
 */
export function resolveProtectedLabels(domains: ProtectedDomains | undefined, existing: readonly string[]): ProtectedLabel[] {
  const resolved = new Map<string, ProtectedLabel>();
  for (const entry of domains?.labels ?? []) {
    const names = entry.label.includes('*') ? existing.filter((name) => matchesNamePattern(name, entry.label)) : [entry.label];
    for (const label of names) if (!resolved.has(label)) resolved.set(label, { label, key: entry.key });
  }
  return [...resolved.values()].sort((a, b) => compareText(a.label, b.label));
}

export async function protectedLabelContent(runner: CypherRunner, entry: ProtectedLabel): Promise<ProtectedLabelContent> {
  let sum = 0n;
  let missingKey = 0;
  const nodes = await stream(runner, CONTENT_QUERY(entry.label), { key: entry.key }, (row) => {
    const key = toPlain(row.key);
    if (key === null) missingKey++;
    const node = {
      key,
      labels: (row.labels as string[]).map(String).sort(compareText),
      properties: toPlain(row.properties),
      outgoing: (row.outgoing as string[]).map(String),
      incoming: (row.incoming as string[]).map(String),
    };
    const hash = createHash('sha256').update(canonicalJson(node)).digest('hex');
    sum = (sum + BigInt(`0x${hash}`)) % MODULUS;
  });
  const digest = await cidOfJson({ label: entry.label, key: entry.key, nodes, missing_key: missingKey, sum: sum.toString(16).padStart(64, '0') });
  return { ...entry, nodes, missingKey, digest };
}
