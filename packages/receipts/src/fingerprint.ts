// The baseline fingerprint rule, one for every store: the CID (json codec) of the canonical JSON array
// of [kind, name, digest] triples, sorted by kind, then name, then digest (code-unit order). Same
// catalog ⇒ same root, on any machine. By hand: `jq -c '[.objects[] | [.kind, .name, .digest]] | sort'`
// then the json-codec CID of those bytes (docs/verify-by-hand.md).
import { createHash } from 'node:crypto';
import type { BaselineObject } from '@kfm/migration-contracts';
import { JSON_CODEC, cidFromSha256 } from './cid.js';

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Characters of canonical text hashed per update: few calls into the hash, no whole-array string. */
const CHUNK = 1 << 16;

/**
 * The root digest over objects: identical object sets give identical fingerprints. The canonical array is
 * hashed as it is written, triple by triple: for an array of arrays of strings, RFC 8785 is exactly
 * `[` + JSON.stringify of each triple joined by `,` + `]` (JCS serializes strings as JSON.stringify does,
 * with no whitespace), so the bytes are the canonical ones without holding them all (tens of MB at
 * 100,000 objects; digest.test.ts checks the two ways agree).
 */
export async function fingerprintOf(
  objects: readonly Pick<BaselineObject, 'kind' | 'name' | 'digest'>[],
): Promise<string> {
  const triples = objects.map((object) => [object.kind, object.name, object.digest] as const);
  triples.sort((a, b) => compare(a[0], b[0]) || compare(a[1], b[1]) || compare(a[2], b[2]));
  const hash = createHash('sha256');
  let pending = '[';
  for (let at = 0; at < triples.length; at++) {
    if (at > 0) pending += ',';
    pending += JSON.stringify(triples[at]);
    if (pending.length >= CHUNK) {
      hash.update(pending, 'utf8');
      pending = '';
    }
  }
  hash.update(`${pending}]`, 'utf8');
  return cidFromSha256(JSON_CODEC, hash.digest());
}
