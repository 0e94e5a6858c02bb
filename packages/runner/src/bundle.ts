// Preparing a bundle for any command, before a store is touched: the declaration (schema, then the
// adapter's vocabulary), the scripts read as strict UTF-8 with the BOM dropped, parsed with the store's
// real grammar (forward AND rollback; an empty forward is refused), the policy-safe scan over the
// declaration and every script, the bundle's one identity, the registry entry and the repository policy
// with its timeout bounds. Anything wrong is an input issue (exit 2) and nothing connects.
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  decodeText,
  loadDeclaration,
  vocabularyIssues,
  type FileDigest,
  type Issue,
  type LoadedDeclaration,
  type ScriptFile,
  type StoreAdapter,
} from '@kfm/migration-contracts';
import { bundleId, cidOfScript, digestInput, scanArtifact } from '@kfm/receipts';
import { loadAdapter, registeredTypes } from './adapters.js';
import { findMigrationsRoot, loadRegistry, type RegistryEntry } from './migrations-registry.js';
import { loadRepositoryPolicy, timeoutIssues, type LoadedPolicy } from './policy.js';

export interface PreparedBundle {
  loaded: LoadedDeclaration;
  adapter: StoreAdapter;
  forward: ScriptFile[];
  rollback: ScriptFile[];
  /** Digests of the declaration and every script (normalized), as receipts record them. */
  inputs: FileDigest[];
  /** `sha256:<hex>`: the bundle's one identity (approvals, ledger, in-toto subject). */
  bundleDigest: string;
  migrationsRoot: string | undefined;
  /** The bundle's path relative to the migrations root (its registry path). */
  registryPath: string | undefined;
  entry: RegistryEntry | undefined;
  repositoryPolicy: LoadedPolicy | undefined;
}

export type Prepared = { ok: true; bundle: PreparedBundle } | { ok: false; issues: Issue[] };

function relative(bundleDir: string, file: string): string {
  return path.relative(bundleDir, file).split(path.sep).join('/');
}

/** Reads scripts as strict UTF-8 (BOM dropped); their digest is over the normalized text. */
export async function readScripts(bundleDir: string, files: readonly string[], issues: Issue[]): Promise<ScriptFile[]> {
  const scripts: ScriptFile[] = [];
  for (const file of files) {
    const decoded = decodeText(await fs.readFile(file), relative(bundleDir, file));
    if (!decoded.ok) {
      issues.push(...decoded.issues);
      continue;
    }
    scripts.push({ path: relative(bundleDir, file), text: decoded.text, digest: await cidOfScript(decoded.text) });
  }
  return scripts;
}

/** The policy-safe scan over the declaration and every script: a hit names file:line and the rule, never the match. */
async function scanInputs(loaded: LoadedDeclaration, scripts: readonly ScriptFile[]): Promise<Issue[]> {
  const declaration = decodeText(await fs.readFile(loaded.file), relative(loaded.bundleDir, loaded.file));
  const files = [
    ...(declaration.ok ? [{ path: relative(loaded.bundleDir, loaded.file), text: declaration.text }] : []),
    ...scripts,
  ];
  const issues: Issue[] = [];
  for (const file of files) {
    const result = await scanArtifact(file.path, file.text);
    for (const finding of result.findings)
      issues.push({
        code: 'SECRET_IN_INPUT',
        file: finding.file,
        line: finding.line,
        message: `${finding.rule}: ${finding.message}`,
        expected: 'no secret, credential or restricted coordinate in a bundle input',
      });
  }
  return issues;
}

/** Everything about a bundle that needs no store. `requireRollback`: the command runs the rollback script. */
export async function prepareBundle(target: string, options: { requireRollback?: boolean } = {}): Promise<Prepared> {
  const loaded = await loadDeclaration(target);
  if (!loaded.ok) return { ok: false, issues: loaded.issues };
  const { declaration } = loaded;
  const adapter = await loadAdapter(declaration.type);
  if (!adapter) {
    return {
      ok: false,
      issues: [
        {
          code: 'ARGUMENT_INVALID',
          file: loaded.file,
          pointer: '/type',
          ...loaded.locate('/type'),
          message: `no store adapter registered for type ${declaration.type}`,
          expected: `one of ${registeredTypes().join(', ')}`,
          found: declaration.type,
        },
      ],
    };
  }
  const issues: Issue[] = vocabularyIssues(declaration, adapter, loaded.file, loaded.locate);
  const forward = await readScripts(loaded.bundleDir, loaded.forward, issues);
  const rollback = await readScripts(loaded.bundleDir, loaded.rollback, issues);
  if (issues.length) return { ok: false, issues };

  // Independent checks, started together: the parser may compile WebAssembly off the main thread while
  // the scanner's modules load on it (a third of validate's wall time was that wait). Issues keep their order.
  const [forwardParse, rollbackParse, scanIssues] = await Promise.all([
    adapter.language.parse(forward),
    adapter.language.parse(rollback),
    scanInputs(loaded, [...forward, ...rollback]),
  ]);
  issues.push(...forwardParse.issues);
  if (forwardParse.issues.length === 0 && forwardParse.statements === 0) {
    issues.push({
      code: 'SCRIPT_EMPTY',
      file: forward.map((script) => script.path).join(', '),
      message: 'the forward script holds no statement (empty or comments only): there is nothing to migrate',
      expected: 'at least one statement',
    });
  }
  issues.push(...rollbackParse.issues);
  if (options.requireRollback && rollback.length === 0) {
    issues.push({
      code: 'ROLLBACK_ARTIFACT_MISSING',
      file: loaded.file,
      pointer: '/artifacts/rollback',
      ...loaded.locate('/artifacts/rollback'),
      message: 'this migration declares no rollback script',
    });
  }
  issues.push(...scanIssues);

  const migrationsRoot = await findMigrationsRoot(loaded.bundleDir);
  const policy = await loadRepositoryPolicy(migrationsRoot);
  if (!policy.ok) issues.push(...policy.issues);
  else
    issues.push(
      ...timeoutIssues(declaration, policy.loaded?.policy ?? { kfm_policy_version: 'v1' }, loaded.file, loaded.locate),
    );
  let entry: RegistryEntry | undefined;
  let registryPath: string | undefined;
  if (migrationsRoot) {
    registryPath = relative(migrationsRoot, loaded.bundleDir);
    const registry = await loadRegistry(migrationsRoot);
    if (!registry.ok) issues.push(...registry.issues);
    else entry = registry.registry.migrations.find((m) => m.migration_id === declaration.migration_id);
  }
  if (issues.length) return { ok: false, issues };

  const inputs: FileDigest[] = [];
  for (const file of [loaded.file, ...loaded.forward, ...loaded.rollback])
    inputs.push({ path: relative(loaded.bundleDir, file), digest: await digestInput(file) });
  return {
    ok: true,
    bundle: {
      loaded,
      adapter,
      forward,
      rollback,
      inputs,
      bundleDigest: bundleId(inputs),
      migrationsRoot,
      registryPath,
      entry,
      repositoryPolicy: policy.ok ? policy.loaded : undefined,
    },
  };
}
