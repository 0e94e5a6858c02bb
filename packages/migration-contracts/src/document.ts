// Safe parsing of YAML and JSON documents with positions, so every issue can name file:line:column.
// YAML is parsed with bounded alias expansion, no duplicate keys and no custom tags.
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { Document, LineCounter, Node } from 'yaml';
import type { Issue } from './errors.js';
import { redactIssue } from './credentials.js';
import { findJsonSyntaxError } from './json-syntax.js';

/** The YAML library, loaded on the first YAML parse: JSON-only work (receipts, baselines) never loads it. */
let yamlModule: typeof Yaml | undefined;
function yaml(): typeof Yaml {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return yamlModule;
}

export const DEFAULT_MAX_BYTES = 1024 * 1024;
const MAX_ALIAS_COUNT = 100;
const MAX_ISSUES = 50;
const CORE_TAGS = new Set([
  'tag:yaml.org,2002:str',
  'tag:yaml.org,2002:int',
  'tag:yaml.org,2002:float',
  'tag:yaml.org,2002:bool',
  'tag:yaml.org,2002:null',
  'tag:yaml.org,2002:map',
  'tag:yaml.org,2002:seq',
]);

/** A parsed document that can turn a JSON pointer back into a line and column. */
export interface ParsedDocument {
  file: string;
  value: unknown;
  locate(pointer: string): { line: number; column: number } | undefined;
}

export type ParseResult = { ok: true; document: ParsedDocument } | { ok: false; issues: Issue[] };

/** Reads a file with a size cap; a missing or oversized file is an issue, not an exception. */
export async function readBounded(
  file: string,
  maxBytes = DEFAULT_MAX_BYTES,
): Promise<{ ok: true; text: string } | { ok: false; issues: Issue[] }> {
  let size: number;
  try {
    size = (await fs.stat(file)).size;
  } catch {
    return { ok: false, issues: [{ code: 'FILE_NOT_FOUND', file, message: 'file not found', pointer: '' }] };
  }
  if (size > maxBytes) {
    return {
      ok: false,
      issues: [
        {
          code: 'FILE_TOO_LARGE',
          file,
          pointer: '',
          message: 'file is larger than the size cap',
          expected: `at most ${maxBytes} bytes`,
          found: `${size} bytes`,
        },
      ],
    };
  }
  return decodeText(await fs.readFile(file), file);
}

/**
 * Strict UTF-8: an invalid byte is an issue at its line:column (never silently U+FFFD), and a leading
 * byte-order mark is dropped. Every declaration, script and artifact is read through this.
 */
export function decodeText(
  bytes: Uint8Array,
  file: string,
): { ok: true; text: string; bom: boolean } | { ok: false; issues: Issue[] } {
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    const bom = text.charCodeAt(0) === 0xfeff;
    return { ok: true, text: bom ? text.slice(1) : text, bom };
  } catch {
    const offset = firstInvalidUtf8(bytes);
    const valid = new TextDecoder('utf-8').decode(bytes.subarray(0, offset));
    const lines = valid.split('\n');
    const line = lines.length;
    const column = (lines[lines.length - 1] ?? '').replace(/^\uFEFF/, '').length + 1;
    return {
      ok: false,
      issues: [
        {
          code: 'ENCODING_INVALID',
          file,
          line,
          column,
          message: `byte 0x${(bytes[offset] ?? 0).toString(16).padStart(2, '0')} at offset ${offset} is not valid UTF-8`,
          expected: 'UTF-8 text',
          found: 'an invalid byte sequence',
        },
      ],
    };
  }
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const length =
      b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0 || i + length > bytes.length) return i;
    const decoded = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(i, i + length));
    if (decoded.includes('\uFFFD')) return i;
    i += length;
  }
  return i;
}

/** Parses YAML text (JSON is accepted too: it is YAML 1.2) into a positioned document. */
export function parseYaml(text: string, file: string): ParseResult {
  const { LineCounter, isMap, isScalar, isSeq, parseAllDocuments, visit } = yaml();
  const lineCounter = new LineCounter();
  // The parser's own duplicate-key check compares every pair of keys (quadratic: a 400 KB mapping
  // takes seconds); duplicates are found below with one Set per mapping instead.
  const docs = parseAllDocuments(text, {
    lineCounter,
    uniqueKeys: false,
    prettyErrors: false,
    strict: true,
    schema: 'core',
    customTags: [],
  });
  const at = (offset: number | undefined) =>
    offset === undefined ? {} : { line: lineCounter.linePos(offset).line, column: lineCounter.linePos(offset).col };
  if (!Array.isArray(docs)) return { ok: true, document: { file, value: null, locate: () => undefined } };
  if (docs.length > 1) {
    return {
      ok: false,
      issues: [
        {
          code: 'YAML_MULTI_DOCUMENT',
          file,
          ...at(docs[1]?.range[0]),
          pointer: '',
          message: 'only one YAML document per file is allowed',
          expected: '1 document',
          found: `${docs.length} documents`,
        },
      ],
    };
  }
  const doc = docs[0];
  if (!doc) return { ok: true, document: { file, value: null, locate: () => undefined } };
  const issues: Issue[] = [];
  // Bounded, so a hostile file with thousands of faults costs no more than one with a few.
  const add = (issue: Issue) => {
    if (issues.length < MAX_ISSUES && !issues.some((i) => i.code === issue.code && i.pointer === issue.pointer))
      issues.push(redactIssue(issue).issue);
  };
  // After a syntax error the tree is a guess, so only a well-formed tree yields pointers.
  const wellFormed = doc.errors.length === 0;
  const where = (offset: number | undefined) => ({
    ...at(offset),
    pointer: offset === undefined || !wellFormed ? '' : pointerAt(doc, offset),
  });
  for (const error of doc.errors) {
    if (issues.length >= MAX_ISSUES) break;
    add({ code: 'YAML_SYNTAX', file, ...where(error.pos[0]), message: error.message.split('\n')[0] ?? 'syntax error' });
  }
  visit(doc, (_key, node) => {
    if (issues.length >= MAX_ISSUES) return visit.BREAK;
    if ((isScalar(node) || isMap(node) || isSeq(node)) && node.tag && !CORE_TAGS.has(node.tag)) {
      add({
        code: 'YAML_CUSTOM_TAG',
        file,
        ...where(node.range?.[0]),
        message: 'custom YAML tags are not allowed',
        expected: 'plain YAML values',
        found: `tag ${node.tag}`,
      });
    }
    if (isMap(node)) {
      // Keys compare as the strings they become in JSON: `1` and "1" would collide there too.
      const keys = new Set<string>();
      for (const pair of node.items) {
        if (!isScalar(pair.key)) continue;
        const key = String(pair.key.value);
        if (keys.has(key)) {
          // One report per mapping: locating each repeat of a key repeated 100 000 times is quadratic.
          add({
            code: 'YAML_DUPLICATE_KEY',
            file,
            ...where(pair.key.range?.[0]),
            message: 'map keys must be unique',
            expected: 'each key once',
            found: 'the key a second time',
          });
          break;
        }
        keys.add(key);
      }
    }
    return undefined;
  });
  for (const warning of doc.warnings) {
    if (issues.length >= MAX_ISSUES) break;
    if (warning.code === 'TAG_RESOLVE_FAILED')
      add({
        code: 'YAML_CUSTOM_TAG',
        file,
        ...where(warning.pos[0]),
        message: 'custom YAML tags are not allowed',
        expected: 'plain YAML values',
        found: 'an unresolved tag',
      });
  }
  if (issues.length > 0) return { ok: false, issues };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/alias/i.test(message)) {
      return {
        ok: false,
        issues: [
          {
            code: 'YAML_ALIAS_LIMIT',
            file,
            pointer: '',
            message: 'too many alias expansions (possible billion-laughs document)',
            expected: `at most ${MAX_ALIAS_COUNT} alias expansions`,
          },
        ],
      };
    }
    return { ok: false, issues: [redactIssue({ code: 'YAML_SYNTAX', file, pointer: '', message }).issue] };
  }
  return { ok: true, document: { file, value, locate: (pointer) => locateIn(doc, pointer, lineCounter) } };
}

/** Parses JSON fast; positions are computed lazily (through the YAML parser) only when asked for. */
export function parseJson(text: string, file: string): ParseResult {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    // V8's message quotes the source around the error (a secret, perhaps): use our own scanner's.
    const error = findJsonSyntaxError(body);
    const pos = error ? new LineCounterFor(body).at(error.offset) : {};
    return {
      ok: false,
      issues: [
        {
          code: 'YAML_SYNTAX',
          file,
          ...pos,
          pointer: '',
          message: `invalid JSON: ${error?.reason ?? 'the error could not be located (nesting too deep)'}`,
        },
      ],
    };
  }
  let positioned: ParsedDocument | undefined | null;
  return {
    ok: true,
    document: {
      file,
      value,
      locate(pointer) {
        if (positioned === undefined) {
          const parsed = text.length <= 4 * DEFAULT_MAX_BYTES ? parseYaml(text, file) : undefined;
          positioned = parsed?.ok ? parsed.document : null;
        }
        return positioned?.locate(pointer);
      },
    },
  };
}

class LineCounterFor {
  constructor(private readonly text: string) {}
  at(offset: number): { line: number; column: number } {
    const before = this.text.slice(0, offset);
    const line = before.split('\n').length;
    return { line, column: offset - before.lastIndexOf('\n') };
  }
}

export function decodePointer(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function encodePointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

function locateIn(
  doc: Document,
  pointer: string,
  lineCounter: LineCounter,
): { line: number; column: number } | undefined {
  const { isMap, isPair, isScalar, isSeq } = yaml();
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node | null)?.range?.[0];
  for (const segment of decodePointer(pointer)) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === segment);
      if (!pair) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)];
      if (!item) break;
      offset = (item as Node).range?.[0] ?? offset;
      node = item;
    } else break;
  }
  if (offset === undefined) return undefined;
  const pos = lineCounter.linePos(offset);
  return { line: pos.line, column: pos.col };
}

/** The pointer of the deepest node whose source range holds `offset` (where a parse error sits). */
function pointerAt(doc: Document, offset: number): string {
  const { isMap, isScalar, isSeq } = yaml();
  const segments: (string | number)[] = [];
  const span = (node: unknown): [number, number] | undefined => {
    const range = (node as Node | null | undefined)?.range;
    return range ? [range[0], range[2]] : undefined;
  };
  const holds = (start: unknown, end: unknown) => {
    const a = span(start);
    const b = span(end) ?? a;
    return !!a && !!b && a[0] <= offset && offset < Math.max(a[1], b[1]);
  };
  let node: unknown = doc.contents;
  for (;;) {
    if (isMap(node)) {
      const pair = node.items.find((p) => holds(p.key, p.value));
      if (!pair || !isScalar(pair.key)) break;
      segments.push(String(pair.key.value));
      node = pair.value;
    } else if (isSeq(node)) {
      const index = node.items.findIndex((item) => holds(item, item));
      if (index < 0) break;
      segments.push(index);
      node = node.items[index];
    } else break;
  }
  return encodePointer(segments);
}
