// The baseline fingerprint rule, one for every store: the CID (json codec) of the canonical JSON array
// of [kind, name, digest] triples, sorted by kind, then name, then digest (code-unit order). Same
// catalog ⇒ same root, on any machine. By hand: `jq -c '[.objects[] | [.kind, .name, .digest]] | sort'`
// then the json-codec CID of those bytes (docs/verify-by-hand.md).
import type { BaselineObject } from '@kfm/migration-contracts';
import { cidOfJson } from './digest.js';

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The root digest over objects: identical object sets give identical fingerprints. */
export async function fingerprintOf(
  objects: readonly Pick<BaselineObject, 'kind' | 'name' | 'digest'>[],
): Promise<string> {
  const triples = objects.map((object) => [object.kind, object.name, object.digest] as const);
  triples.sort((a, b) => compare(a[0], b[0]) || compare(a[1], b[1]) || compare(a[2], b[2]));
  return cidOfJson(triples);
}
