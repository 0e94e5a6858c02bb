// Turns values the Neo4j driver returns (64-bit Integers, temporal and spatial types, byte arrays)
// into plain JSON, so they can be digested canonically and written into artifacts.
import { createRequire } from 'node:module';
import type Neo4j from 'neo4j-driver';

// Loaded on first use: commands that never talk to Neo4j do not pay for the driver.
let loaded: typeof Neo4j | undefined;
export function neo4jModule(): typeof Neo4j {
  loaded ??= createRequire(import.meta.url)('neo4j-driver') as typeof Neo4j;
  return loaded;
}

export type Plain = null | boolean | number | string | Plain[] | { [key: string]: Plain };

function isRecordLike(value: object): value is Record<string, unknown> {
  const prototype = Object.getPrototypeOf(value) as unknown;
  return prototype === Object.prototype || prototype === null;
}

export function toPlain(value: unknown): Plain {
  const neo4j = neo4jModule();
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (neo4j.isInt(value)) return value.inSafeRange() ? value.toNumber() : value.toString();
  if (neo4j.isPoint(value)) {
    const point: Record<string, Plain> = { srid: toPlain(value.srid), x: value.x, y: value.y };
    if (value.z !== undefined) point.z = value.z;
    return { point };
  }
  if (
    neo4j.isDate(value) ||
    neo4j.isDateTime(value) ||
    neo4j.isLocalDateTime(value) ||
    neo4j.isTime(value) ||
    neo4j.isLocalTime(value) ||
    neo4j.isDuration(value)
  ) {
    return { [value.constructor.name.toLowerCase()]: String(value) };
  }
  if (value instanceof Uint8Array) return { bytes: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return value.map(toPlain);
  if (typeof value === 'object' && isRecordLike(value)) {
    const out: Record<string, Plain> = {};
    for (const key of Object.keys(value).sort()) out[key] = toPlain(value[key]);
    return out;
  }
  return String(value);
}

/** A count or other integer column as a JS number. */
export function toCount(value: unknown): number {
  const plain = toPlain(value);
  return typeof plain === 'number' ? plain : Number(plain);
}
