// Safe parsing of YAML and JSON documents with positions, so every issue can name file:line:column.
// YAML is parsed with bounded alias expansion, no duplicate keys and no custom tags.
import fs from 'node:fs/promises';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, visit, type Document, type Node } from 'yaml';
import type { Issue } from './errors.js';

export const DEFAULT_MAX_BYTES = 1024 * 1024;
const MAX_ALIAS_COUNT = 100;
const CORE_TAGS = new Set(['tag:yaml.org,2002:str', 'tag:yaml.org,2002:int', 'tag:yaml.org,2002:float', 'tag:yaml.org,2002:bool', 'tag:yaml.org,2002:null', 'tag:yaml.org,2002:map', 'tag:yaml.org,2002:seq']);

/** A parsed document that can turn a JSON pointer back into a line and column. */
export interface ParsedDocument {
  file: string;
  value: unknown;
  locate(pointer: string): { line: number; column: number } | undefined;
}

export type ParseResult = { ok: true; document: ParsedDocument } | { ok: false; issues: Issue[] };

/** Reads a file with a size cap; a missing or oversized file is an issue, not an exception. */
export async function readBounded(file: string, maxBytes = DEFAULT_MAX_BYTES): Promise<{ ok: true; text: string } | { ok: false; issues: Issue[] }> {
  let size: number;
  try {
    size = (await fs.stat(file)).size;
  } catch {
    return { ok: false, issues: [{ code: 'FILE_NOT_FOUND', file, message: 'file not found', pointer: '' }] };
  }
  if (size > maxBytes) {
    return { ok: false, issues: [{ code: 'FILE_TOO_LARGE', file, pointer: '', message: 'file is larger than the size cap', expected: `at most ${maxBytes} bytes`, found: `${size} bytes` }] };
  }
  return { ok: true, text: await fs.readFile(file, 'utf8') };
}

/** Parses YAML text (JSON is accepted too: it is YAML 1.2) into a positioned document. */
export function parseYaml(text: string, file: string): ParseResult {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true, schema: 'core', customTags: [] });
  const at = (offset: number | undefined) => (offset === undefined ? {} : { line: lineCounter.linePos(offset).line, column: lineCounter.linePos(offset).col });
  if (!Array.isArray(docs)) return { ok: true, document: { file, value: null, locate: () => undefined } };
  if (docs.length > 1) {
    return { ok: false, issues: [{ code: 'YAML_MULTI_DOCUMENT', file, ...at(docs[1]?.range[0]), pointer: '', message: 'only one YAML document per file is allowed', expected: '1 document', found: `${docs.length} documents` }] };
  }
  const doc = docs[0];
  if (!doc) return { ok: true, document: { file, value: null, locate: () => undefined } };
  const issues: Issue[] = [];
  for (const error of doc.errors) {
    const code = error.code === 'DUPLICATE_KEY' ? 'YAML_DUPLICATE_KEY' : 'YAML_SYNTAX';
    issues.push({ code, file, ...at(error.pos[0]), message: error.message.split('\n')[0] ?? 'syntax error' });
  }
  for (const warning of doc.warnings) {
    if (warning.code === 'TAG_RESOLVE_FAILED') issues.push({ code: 'YAML_CUSTOM_TAG', file, ...at(warning.pos[0]), message: 'custom YAML tags are not allowed', expected: 'plain YAML values', found: 'an unresolved tag' });
  }
  visit(doc, (_key, node) => {
    if ((isScalar(node) || isMap(node) || isSeq(node)) && node.tag && !CORE_TAGS.has(node.tag) && !issues.some((i) => i.code === 'YAML_CUSTOM_TAG')) {
      issues.push({ code: 'YAML_CUSTOM_TAG', file, ...at(node.range?.[0]), message: 'custom YAML tags are not allowed', expected: 'plain YAML values', found: `tag ${node.tag}` });
    }
  });
  if (issues.length > 0) return { ok: false, issues };
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/alias/i.test(message)) {
      return { ok: false, issues: [{ code: 'YAML_ALIAS_LIMIT', file, pointer: '', message: 'too many alias expansions (possible billion-laughs document)', expected: `at most ${MAX_ALIAS_COUNT} alias expansions` }] };
    }
    return { ok: false, issues: [{ code: 'YAML_SYNTAX', file, pointer: '', message }] };
  }
  return { ok: true, document: { file, value, locate: (pointer) => locateIn(doc, pointer, lineCounter) } };
}

/** Parses JSON fast; positions are computed lazily (through the YAML parser) only when asked for. */
export function parseJson(text: string, file: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const offset = /position (\d+)/.exec(message)?.[1];
    const pos = offset ? new LineCounterFor(text).at(Number(offset)) : {};
    return { ok: false, issues: [{ code: 'YAML_SYNTAX', file, ...pos, message: `invalid JSON: ${message}` }] };
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
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export function encodePointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

function locateIn(doc: Document, pointer: string, lineCounter: LineCounter): { line: number; column: number } | undefined {
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
