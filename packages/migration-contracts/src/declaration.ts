// Loads migration.yml into a typed declaration, or into issues naming file, line, pointer,
// what was expected and what was found. Checks what a schema cannot: allowed-and-forbidden
// overlaps, artifact confinement and presence, credentials where variable names belong.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { MigrationDeclaration } from './generated/types.js';
import type { Issue } from './errors.js';
import { encodePointer, parseJson, parseYaml, readBounded, type ParsedDocument, type ParseResult } from './document.js';
import { validateValue, type SchemaName } from './validate.js';
import { credentialPlaceholder, looksLikeCredential } from './credentials.js';
import { resolveInBundle } from './bundle-paths.js';

export const DECLARATION_FILE = 'migration.yml';

export interface LoadedDeclaration {
  declaration: MigrationDeclaration;
  /** Absolute path of the bundle directory. */
  bundleDir: string;
  /** Absolute path of migration.yml. */
  file: string;
  /** Absolute paths of the forward and rollback scripts, in declared order. */
  forward: string[];
  rollback: string[];
  /** line:column of a JSON pointer in migration.yml, for issues found after loading. */
  locate(pointer: string): { line: number; column: number } | undefined;
}

export type DeclarationResult = ({ ok: true; issues: [] } & LoadedDeclaration) | { ok: false; issues: Issue[] };

/** Loads a bundle directory or a migration.yml path. Never throws for bad input. */
export async function loadDeclaration(target: string): Promise<DeclarationResult> {
  let file = path.resolve(target);
  try {
    if ((await fs.stat(file)).isDirectory()) file = path.join(file, DECLARATION_FILE);
  } catch {
    return {
      ok: false,
      issues: [{ code: 'FILE_NOT_FOUND', file: target, pointer: '', message: 'no bundle or declaration at this path' }],
    };
  }
  const bundleDir = path.dirname(file);
  const parsed = await parseFile(file);
  if (!parsed.ok) return parsed;
  const { document } = parsed;
  const value = document.value as MigrationDeclaration;
  // A credential is the finding that matters at its pointer: a schema complaint there (a DSN is not
  // a variable name) would only restate it.
  const secrets = credentialIssues(value, document);
  const secretPointers = new Set(secrets.map((i) => i.pointer));
  const schemaIssues = validateValue('migration_declaration.v1', document.value, document).filter(
    (i) => !secretPointers.has(i.pointer),
  );
  const issues = [...secrets, ...schemaIssues];
  if (issues.length > 0) return { ok: false, issues: dedupe(issues) };
  issues.push(...overlapIssues(value, document));
  const forward: string[] = [];
  const rollback: string[] = [];
  const artifacts = value.artifacts;
  const check = async (rel: string, pointer: string, requireExisting: boolean, into?: string[]) => {
    const resolved = await resolveInBundle(bundleDir, rel);
    if (!resolved.ok) {
      issues.push({ ...resolved.issue, file, pointer, ...document.locate(pointer) });
      return;
    }
    if (requireExisting && !resolved.exists) {
      const code = pointer.startsWith('/artifacts/rollback')
        ? 'ROLLBACK_ARTIFACT_MISSING'
        : pointer.startsWith('/artifacts/notes')
          ? 'IRREVERSIBLE_WITHOUT_NOTES'
          : 'ARTIFACT_MISSING';
      issues.push({
        code,
        file,
        pointer,
        ...document.locate(pointer),
        message: `${rel} is not in the bundle`,
        expected: `a file at ${rel}`,
        found: 'nothing',
      });
      return;
    }
    into?.push(resolved.path);
  };
  for (const [i, rel] of artifacts.forward.entries()) await check(rel, `/artifacts/forward/${i}`, true, forward);
  for (const [i, rel] of (artifacts.rollback ?? []).entries())
    await check(rel, `/artifacts/rollback/${i}`, value.requires_rollback, rollback);
  for (const [k, rel] of Object.entries(artifacts.baselines ?? {}))
    await check(rel, `/artifacts/baselines/${k}`, false);
  for (const [k, rel] of Object.entries(artifacts.diffs ?? {})) await check(rel, `/artifacts/diffs/${k}`, false);
  if (value.requires_rollback === false) await check(artifacts.notes ?? 'notes.md', '/artifacts/notes', true);
  else if (artifacts.notes) await check(artifacts.notes, '/artifacts/notes', false);
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    issues: [],
    declaration: value,
    bundleDir,
    file,
    forward,
    rollback,
    locate: (pointer) => document.locate(pointer),
  };
}

/** Loads a JSON artifact (receipt, baseline, summary, registry, policy) and validates it. */
export async function loadArtifact<T>(
  file: string,
  schema: SchemaName,
  maxBytes = 1024 * 1024 * 1024,
): Promise<{ ok: true; value: T; issues: [] } | { ok: false; issues: Issue[] }> {
  const parsed = await parseFile(file, maxBytes);
  if (!parsed.ok) return parsed;
  const issues = validateValue(schema, parsed.document.value, parsed.document);
  return issues.length > 0 ? { ok: false, issues } : { ok: true, value: parsed.document.value as T, issues: [] };
}

async function parseFile(file: string, maxBytes?: number): Promise<ParseResult> {
  const read = await readBounded(file, maxBytes);
  if (!read.ok) return read;
  return /\.json$/i.test(file) ? parseJson(read.text, file) : parseYaml(read.text, file);
}

function credentialIssues(value: unknown, document: ParsedDocument): Issue[] {
  const issues: Issue[] = [];
  const report = (pointer: string, text: string, what: string) => {
    issues.push({
      code: 'SECRET_IN_DECLARATION',
      file: document.file,
      pointer,
      ...document.locate(pointer),
      message: `${what} holds a credential or connection string; list the NAME of the environment variable that holds it`,
      expected: 'an environment variable name',
      found: credentialPlaceholder(text),
    });
  };
  const walk = (node: unknown, pointer: string) => {
    if (typeof node === 'string') {
      if (looksLikeCredential(node)) report(pointer, node, 'this value');
    } else if (Array.isArray(node)) {
      for (const [i, v] of node.entries()) walk(v, `${pointer}/${i}`);
    } else if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        // A secret used as a mapping key is reported at the mapping: its own pointer would leak it.
        if (looksLikeCredential(k)) report(pointer, k, 'a key of this mapping');
        else walk(v, `${pointer}${encodePointer([k])}`);
      }
    }
  };
  walk(value, '');
  return issues;
}

function overlapIssues(value: MigrationDeclaration, document: ParsedDocument): Issue[] {
  const issues: Issue[] = [];
  const scope = (value.scope ?? {}) as Record<string, string[] | undefined>;
  for (const [key, forbidden] of Object.entries(scope)) {
    if (!key.startsWith('forbidden_') || !forbidden) continue;
    const allowed = new Set(scope[`allowed_${key.slice('forbidden_'.length)}`] ?? []);
    forbidden.forEach((name, i) => {
      if (!allowed.has(name)) return;
      const pointer = `/scope/${key}/${i}`;
      issues.push({
        code: 'SCOPE_ALLOWED_AND_FORBIDDEN',
        file: document.file,
        pointer,
        ...document.locate(pointer),
        message: `\`${name}\` is both allowed and forbidden`,
        expected: 'each name in allowed or forbidden, not both',
        found: name,
      });
    });
  }
  return issues;
}

function dedupe(issues: Issue[]): Issue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.code}|${i.pointer}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
