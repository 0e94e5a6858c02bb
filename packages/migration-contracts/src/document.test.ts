// Safe YAML/JSON parsing: positions, size cap, and the hostile inputs a declaration may hold.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePointer, encodePointer, parseJson, parseYaml, readBounded, type ParsedDocument } from './document.js';
import type { Issue } from './errors.js';

function parsed(result: ReturnType<typeof parseYaml>): ParsedDocument {
  if (!result.ok) throw new Error(`expected a document, got ${JSON.stringify(result.issues)}`);
  return result.document;
}

function issuesOf(result: ReturnType<typeof parseYaml>): Issue[] {
  if (result.ok) throw new Error('expected issues, got a document');
  return result.issues;
}

const YAML_TEXT = [
  'migration_id: PG-MIG-2026-02-28-01', // 1
  'scope:', // 2
  '  allowed_tables:', // 3
  '    - parcels', // 4
  '    - "owners"', // 5
  '  forbidden_schemas: [governance, audit]', // 6
  'runner:', // 7
  '  "a/b~c": 1', // 8
].join('\n');

describe('parseYaml positions', () => {
  const document = parsed(parseYaml(YAML_TEXT, 'migration.yml'));

  it('maps a pointer to the line and column of its key or item', () => {
    expect(document.locate('/migration_id')).toEqual({ line: 1, column: 1 });
    expect(document.locate('/scope/allowed_tables')).toEqual({ line: 3, column: 3 });
    expect(document.locate('/scope/allowed_tables/0')).toEqual({ line: 4, column: 7 });
    expect(document.locate('/scope/allowed_tables/1')).toEqual({ line: 5, column: 7 });
    expect(document.locate('/scope/forbidden_schemas/1')).toEqual({ line: 6, column: 35 });
  });

  it('decodes ~0 and ~1 in pointer segments', () => {
    expect(document.locate(`/runner${encodePointer(['a/b~c'])}`)).toEqual({ line: 8, column: 3 });
  });

  it('falls back to the nearest existing ancestor for a missing field', () => {
    expect(document.locate('/scope/allowed_schemas')).toEqual({ line: 2, column: 1 });
    expect(document.locate('/runner/tool')).toEqual({ line: 7, column: 1 });
  });

  it('tolerates a byte-order mark without shifting positions', () => {
    const withBom = parsed(parseYaml('\ufeff' + YAML_TEXT, 'migration.yml'));
    expect(withBom.value).toEqual(document.value);
    expect(withBom.locate('/scope/allowed_tables/1')).toEqual({ line: 5, column: 7 });
  });

  it('reads YAML 1.2 core: yes/no/on are strings, not booleans', () => {
    expect(parsed(parseYaml('a: yes\nb: no\nc: on\nd: true\n', 'f.yml')).value).toEqual({
      a: 'yes',
      b: 'no',
      c: 'on',
      d: true,
    });
  });
});

describe('parseYaml rejects hostile or ambiguous input', () => {
  it('rejects a billion-laughs document with YAML_ALIAS_LIMIT', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      levels.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${prev}`).join(',')}]`,
      );
    }
    const issues = issuesOf(parseYaml(levels.join('\n') + '\n', 'bomb.yml'));
    expect(issues).toEqual([expect.objectContaining({ code: 'YAML_ALIAS_LIMIT', file: 'bomb.yml', pointer: '' })]);
  });

  it('still accepts a document with a few aliases', () => {
    const value = parsed(parseYaml('base: &b [x, y]\none: *b\ntwo: *b\n', 'f.yml')).value;
    expect(value).toEqual({ base: ['x', 'y'], one: ['x', 'y'], two: ['x', 'y'] });
  });

  it('reports a duplicate key at the second occurrence, with its pointer', () => {
    const issues = issuesOf(parseYaml('approvals:\n  change_class: a\n  change_class: b\n', 'f.yml'));
    expect(issues).toEqual([
      expect.objectContaining({ code: 'YAML_DUPLICATE_KEY', pointer: '/approvals/change_class', line: 3, column: 3 }),
    ]);
  });

  it('finds duplicates inside nested mappings and keys that collide once they are JSON strings', () => {
    const nested = issuesOf(parseYaml('labels:\n  - label: A\n    key: id\n    key: uid\n', 'f.yml'));
    expect(nested).toEqual([
      expect.objectContaining({ code: 'YAML_DUPLICATE_KEY', pointer: '/labels/0/key', line: 4, column: 5 }),
    ]);
    const collide = issuesOf(parseYaml('limits:\n  1: a\n  "1": b\n', 'f.yml'));
    expect(collide).toEqual([expect.objectContaining({ code: 'YAML_DUPLICATE_KEY', pointer: '/limits/1', line: 3 })]);
  });

  it('caps the number of issues a hostile file can produce', () => {
    const issues = issuesOf(parseYaml(Array.from({ length: 500 }, (_, i) => `k${i}: !x 1`).join('\n') + '\n', 'f.yml'));
    expect(issues.length).toBeGreaterThan(1);
    expect(issues.length).toBeLessThanOrEqual(50);
    expect(issues.every((i) => i.code === 'YAML_CUSTOM_TAG')).toBe(true);
  });

  it.each([
    ['!!js/function', 'runner:\n  command: !!js/function "function () {}"\n', '/runner/command', 2],
    ['a local tag', 'intent: !custom "x"\n', '/intent', 1],
    ['!!binary', 'a: [1, !!binary aGVsbG8=]\n', '/a/1', 1],
  ])('rejects %s with YAML_CUSTOM_TAG', (_name, text, pointer, line) => {
    const issues = issuesOf(parseYaml(text, 'f.yml'));
    expect(issues).toContainEqual(expect.objectContaining({ code: 'YAML_CUSTOM_TAG', pointer, line }));
  });

  it('rejects a second document, at its line', () => {
    const issues = issuesOf(parseYaml('a: 1\n---\nb: 2\n', 'f.yml'));
    expect(issues).toEqual([expect.objectContaining({ code: 'YAML_MULTI_DOCUMENT', line: 2, found: '2 documents' })]);
  });

  it('reports a syntax error with the offending line', () => {
    const issues = issuesOf(parseYaml('scope:\n  allowed: [a]\n forbidden: [b]\n', 'f.yml'));
    expect(issues[0]).toEqual(expect.objectContaining({ code: 'YAML_SYNTAX', file: 'f.yml', line: 3, pointer: '' }));
  });

  it('never echoes a credential from the text of a syntax error', () => {
    for (const text of [
      'a: "postgres://svc:hunter2@db/x\n',
      'postgres://svc:hunter2@db/x: [\n',
      'a: !postgres://svc:hunter2@db/x 1\n',
    ]) {
      const issues = issuesOf(parseYaml(text, 'f.yml'));
      expect(JSON.stringify(issues)).not.toContain('hunter2');
    }
  });
});

describe('parseJson', () => {
  it('parses JSON and locates pointers lazily', () => {
    const document = parsed(parseJson('{\n  "a": {\n    "b": [1, 2]\n  }\n}\n', 'f.json'));
    expect(document.value).toEqual({ a: { b: [1, 2] } });
    expect(document.locate('/a/b/1')).toEqual({ line: 3, column: 14 });
  });

  it.each([
    ['a trailing comma', '{\n  "a": 1,\n}\n', 3, 1],
    ['a missing colon', '{\n  "a" 1\n}', 2, 7],
    ['an unquoted value', '{\n  "dsn": postgres://svc:hunter2@db/x\n}', 2, 10],
    ['truncated input', '{\n  "a": [1,\n', 3, 1],
  ])('reports %s with its line and column', (_name, text, line, column) => {
    const issues = issuesOf(parseJson(text, 'f.json'));
    expect(issues).toEqual([
      expect.objectContaining({ code: 'YAML_SYNTAX', file: 'f.json', pointer: '', line, column }),
    ]);
    expect(JSON.stringify(issues)).not.toContain('hunter2');
  });

  it('tolerates a byte-order mark, and positions ignore it', () => {
    expect(parsed(parseJson('\ufeff{"a": 1}', 'f.json')).value).toEqual({ a: 1 });
    expect(issuesOf(parseJson('\ufeff{"a": tru}', 'f.json'))[0]).toEqual(
      expect.objectContaining({ line: 1, column: 7 }),
    );
  });
});

describe('readBounded', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-document-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('reads a file within the cap and refuses one byte more', async () => {
    const file = path.join(dir, 'f.yml');
    await fs.writeFile(file, 'a: 1\n');
    expect(await readBounded(file, 5)).toEqual({ ok: true, text: 'a: 1\n', bom: false });
    const refused = await readBounded(file, 4);
    expect(refused).toEqual({
      ok: false,
      issues: [expect.objectContaining({ code: 'FILE_TOO_LARGE', file, pointer: '', found: '5 bytes' })],
    });
  });

  it('reports a missing file as FILE_NOT_FOUND', async () => {
    const file = path.join(dir, 'absent.yml');
    expect(await readBounded(file)).toEqual({
      ok: false,
      issues: [expect.objectContaining({ code: 'FILE_NOT_FOUND', file })],
    });
  });
});

describe('JSON pointers', () => {
  it('round-trip segments holding / and ~', () => {
    const segments = ['a/b', '~x', 'plain', '0'];
    expect(encodePointer(segments)).toBe('/a~1b/~0x/plain/0');
    expect(decodePointer(encodePointer(segments))).toEqual(segments);
    expect(decodePointer('')).toEqual([]);
  });
});
