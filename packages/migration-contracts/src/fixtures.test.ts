// Runs every declaration fixture: each valid/<case>/ must load, each invalid/<case>/ must yield the
// issue its expected.json names. Cases are discovered, so adding one is adding a directory.
import fs from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { loadDeclaration } from './declaration.js';
import { decodePointer } from './document.js';
import { ErrorCodes, exitCodeFor, exitCodeOf, formatIssue, type ErrorCode, type Issue } from './errors.js';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/declarations/', import.meta.url));

interface Expected {
  code: ErrorCode;
  pointer: string;
  line?: number;
  /** Text that must not appear in any issue (a planted secret). */
  absent?: string[];
  why?: string;
}

interface Setup {
  /** Builds a file too large to commit: `header`, then `fill` repeated, cut to exactly `bytes`. */
  generate?: { file: string; bytes: number; header: string; fill: string };
}

function cases(kind: 'valid' | 'invalid'): string[] {
  return readdirSync(path.join(FIXTURES, kind), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

async function exists(file: string): Promise<boolean> {
  return fs.lstat(file).then(
    () => true,
    () => false,
  );
}

const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((dir) => fs.rm(dir, { recursive: true, force: true })));
});

/** The case directory, or a temporary copy of it with setup.json's generated inputs. */
async function prepare(caseDir: string): Promise<string> {
  const setupFile = path.join(caseDir, 'setup.json');
  if (!(await exists(setupFile))) return caseDir;
  const setup = JSON.parse(await fs.readFile(setupFile, 'utf8')) as Setup;
  const copy = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-fixture-'));
  scratch.push(copy);
  await fs.cp(caseDir, copy, { recursive: true, verbatimSymlinks: true });
  if (setup.generate) {
    const { file, bytes, header, fill } = setup.generate;
    const body = header + fill.repeat(Math.ceil(Math.max(0, bytes - header.length) / fill.length));
    await fs.writeFile(path.join(copy, file), body.slice(0, bytes));
    expect((await fs.stat(path.join(copy, file))).size).toBe(bytes);
  }
  return copy;
}

/** Whether the pointer names a node that is present in the (well-formed) YAML text. */
function pointerExists(text: string, pointer: string): boolean {
  const doc = parseDocument(text, { uniqueKeys: false });
  if (doc.errors.length > 0) return false;
  let node: unknown;
  try {
    node = doc.toJS({ maxAliasCount: 100 });
  } catch {
    return false;
  }
  if (node === null || node === undefined) return false;
  for (const segment of decodePointer(pointer)) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, segment)) return false;
    node = (node as Record<string, unknown>)[segment];
  }
  return true;
}

function show(issues: readonly Issue[]): string {
  return issues.map(formatIssue).join('\n');
}

describe('valid declaration fixtures', () => {
  const names = cases('valid');

  it('cover the source example, every store type, non-transactional, irreversible and wildcard cases', () => {
    expect(names).toEqual(
      expect.arrayContaining([
        'source-readme-example',
        'search-shadow-index-alias-flip',
        'graph-label-backfill',
        'postgis-non-transactional',
        'postgis-irreversible',
        'postgis-wildcards-protected',
      ]),
    );
  });

  it.each(names)('%s loads without issues', async (name) => {
    const dir = path.join(FIXTURES, 'valid', name);
    const result = await loadDeclaration(dir);
    expect(result.issues, show(result.issues)).toEqual([]);
    if (!result.ok) return;
    const root = await fs.realpath(dir);
    expect(result.bundleDir).toBe(path.resolve(dir));
    expect(result.forward).toHaveLength(result.declaration.artifacts.forward.length);
    const scripts = [...result.forward, ...(result.declaration.requires_rollback ? result.rollback : [])];
    for (const script of scripts) {
      expect(script.startsWith(root + path.sep), `${script} is inside ${root}`).toBe(true);
      expect((await fs.stat(script)).isFile()).toBe(true);
    }
    if (result.declaration.requires_rollback) expect(result.rollback.length).toBeGreaterThan(0);
    else {
      expect(result.declaration.approvals.irreversibility_ref).toBeTruthy();
      expect(await exists(path.join(dir, result.declaration.artifacts.notes ?? 'notes.md'))).toBe(true);
    }
  });

  it('accept the source README example with its environment variable NAME', async () => {
    const result = await loadDeclaration(path.join(FIXTURES, 'valid', 'source-readme-example'));
    expect(result.ok && result.declaration.runner.environment).toEqual(['KFM_DB_DSN_REF']);
  });
});

describe('invalid declaration fixtures', () => {
  const names = cases('invalid');

  it('number at least 30', () => {
    expect(names.length).toBeGreaterThanOrEqual(30);
  });

  it.each(names)('%s yields its expected issue', async (name) => {
    const caseDir = path.join(FIXTURES, 'invalid', name);
    const expected = JSON.parse(await fs.readFile(path.join(caseDir, 'expected.json'), 'utf8')) as Expected;
    expect(Object.keys(ErrorCodes), 'expected.json names a stable code').toContain(expected.code);
    expect(typeof expected.pointer, 'expected.json has a pointer').toBe('string');

    const dir = await prepare(caseDir);
    const result = await loadDeclaration(dir);
    expect(result.ok).toBe(false);
    expect(result.issues.length).toBeGreaterThan(0);

    const match = result.issues.find((issue) => issue.code === expected.code && issue.pointer === expected.pointer);
    expect(match, `no ${expected.code} at "${expected.pointer}" among:\n${show(result.issues)}`).toBeDefined();
    if (expected.line !== undefined) expect(match?.line, formatIssue(match as Issue)).toBe(expected.line);
    expect(exitCodeFor(result.issues)).toBe(exitCodeOf(expected.code));

    const declarationFile = path.join(dir, 'migration.yml');
    const text = await fs.readFile(declarationFile, 'utf8').catch(() => undefined);
    for (const issue of result.issues) {
      expect(issue.file, formatIssue(issue)).toBeTruthy();
      expect(typeof issue.pointer, formatIssue(issue)).toBe('string');
      expect(issue.message.length, formatIssue(issue)).toBeGreaterThan(0);
      if (text !== undefined && text.length <= 1024 * 1024 && pointerExists(text, issue.pointer ?? '')) {
        expect(issue.line, `line for ${formatIssue(issue)}`).toBeGreaterThan(0);
        expect(issue.column, `column for ${formatIssue(issue)}`).toBeGreaterThan(0);
      }
    }
    for (const secret of expected.absent ?? []) {
      expect(text, 'the secret is planted in the fixture').toContain(secret);
      expect(JSON.stringify(result.issues)).not.toContain(secret);
      expect(show(result.issues)).not.toContain(secret);
    }
  });
});
