// The store-free commands: validate, diff, verify, baseline, status. Each returns a value the
// CLI prints as-is with --json.
import fs from 'node:fs/promises';
import path from 'node:path';
import { diffBaselines, evaluate } from '@kfm/diff';
import { ExitCode, exitCodeFor, loadArtifact, loadDeclaration, parseJson, type Baseline, type Issue, type SchemaName } from '@kfm/migration-contracts';
import { canonicalJson, verifyBundle, verifyReceiptFile, type VerifyOptions } from '@kfm/receipts';
import { adapterFor } from './adapters.js';
import { findMigrationsRoot, loadRegistry } from './migrations-registry.js';
import { faultIssue } from './run-context.js';

export interface ValidateResult {
  status: 'passed' | 'failed';
  exit_code: ExitCode;
  results: { path: string; kind: string; ok: boolean; issues: Issue[] }[];
}

const VERSION_KEYS: Record<string, SchemaName> = {
  kfm_run_receipt_version: 'run_receipt.v1',
  kfm_baseline_version: 'baseline.v1',
  kfm_diff_summary_version: 'diff_summary.v1',
  kfm_receipt_ref_version: 'receipt_ref.v1',
  kfm_plan_version: 'plan.v1',
  kfm_migrations_registry_version: 'migrations_registry.v1',
  kfm_policy_version: 'policy.v1',
};

/** Validates bundles, declarations and JSON artifacts (the schema is chosen by the artifact's version key). */
export async function validatePaths(paths: string[]): Promise<ValidateResult> {
  const results: ValidateResult['results'] = [];
  for (const target of paths) {
    const stat = await fs.stat(target).catch(() => undefined);
    if (!stat) {
      results.push({ path: target, kind: 'unknown', ok: false, issues: [{ code: 'FILE_NOT_FOUND', file: target, message: 'no such file or directory' }] });
    } else if (stat.isDirectory() || /\.ya?ml$/i.test(target)) {
      const loaded = await loadDeclaration(target);
      results.push({ path: target, kind: 'declaration', ok: loaded.ok, issues: loaded.issues });
    } else {
      const parsed = parseJson(await fs.readFile(target, 'utf8'), target);
      const schema = parsed.ok ? Object.entries(VERSION_KEYS).find(([key]) => typeof parsed.document.value === 'object' && parsed.document.value !== null && key in parsed.document.value)?.[1] : undefined;
      if (!parsed.ok) results.push({ path: target, kind: 'json', ok: false, issues: parsed.issues });
      else if (!schema) results.push({ path: target, kind: 'json', ok: false, issues: [{ code: 'SCHEMA_REQUIRED', file: target, pointer: '', message: 'not a KFM artifact: no kfm_*_version field', expected: `one of ${Object.keys(VERSION_KEYS).join(', ')}` }] });
      else {
        const loaded = await loadArtifact(target, schema);
        results.push({ path: target, kind: schema, ok: loaded.ok, issues: loaded.issues });
      }
    }
  }
  const issues = results.flatMap((r) => r.issues);
  return { status: issues.length ? 'failed' : 'passed', exit_code: exitCodeFor(issues), results };
}

/** Every bundle directory under <root>/migrations/<store>/. */
export async function discoverBundles(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const store of ['postgis', 'search', 'graph', 'other']) {
    const dir = path.join(root, 'migrations', store);
    const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) if (entry.isDirectory()) out.push(path.join(dir, entry.name));
  }
  return out.sort();
}

export async function diffFiles(preFile: string, postFile: string, declarationPath?: string) {
  const pre = await loadArtifact<Baseline>(preFile, 'baseline.v1');
  const post = await loadArtifact<Baseline>(postFile, 'baseline.v1');
  const issues = [...pre.issues, ...post.issues];
  if (!pre.ok || !post.ok) return { status: 'failed' as const, exit_code: exitCodeFor(issues), issues };
  if (!declarationPath) {
    const diff = diffBaselines(pre.value, post.value);
    return { status: 'passed' as const, exit_code: ExitCode.Passed, issues: [], diff };
  }
  const loaded = await loadDeclaration(declarationPath);
  if (!loaded.ok) return { status: 'failed' as const, exit_code: ExitCode.InvalidInput, issues: loaded.issues };
  const summary = evaluate(loaded.declaration, { pre: pre.value, post: post.value, protected: loaded.declaration.protected ?? {} });
  return { status: summary.status === 'pass' ? ('passed' as const) : ('failed' as const), exit_code: summary.status === 'pass' ? ExitCode.Passed : ExitCode.CheckFailed, issues: [], summary };
}

export async function verifyTarget(target: string, options: VerifyOptions = {}) {
  const stat = await fs.stat(target).catch(() => undefined);
  if (!stat) return { status: 'failed' as const, exit_code: ExitCode.InvalidInput, issues: [{ code: 'FILE_NOT_FOUND', file: target, message: 'no such bundle or receipt' } as Issue] };
  const result = stat.isDirectory() ? await verifyBundle(target, options) : await verifyReceiptFile(target, await bundleOf(target), options);
  return { ...result, status: result.ok ? ('passed' as const) : ('failed' as const), exit_code: result.ok ? ExitCode.Passed : exitCodeFor(result.issues) || ExitCode.CheckFailed };
}

async function bundleOf(receiptFile: string): Promise<string> {
  let dir = path.dirname(path.resolve(receiptFile));
  while (dir !== path.dirname(dir)) {
    if (await fs.access(path.join(dir, 'migration.yml')).then(() => true, () => false)) return dir;
    dir = path.dirname(dir);
  }
  return path.dirname(path.resolve(receiptFile));
}

export async function captureStoreBaseline(type: string, env: Readonly<Record<string, string | undefined>>, capturedAt: string) {
  const adapter = adapterFor(type);
  if (!adapter) return { status: 'failed' as const, exit_code: ExitCode.InvalidInput, issues: [{ code: 'ARGUMENT_INVALID', message: `unknown store ${type}` } as Issue] };
  const values: Record<string, string> = {};
  for (const [role, variable] of Object.entries(adapter.connection)) {
    const value = env[variable];
    if (value === undefined) return { status: 'failed' as const, exit_code: ExitCode.Unreachable, issues: [{ code: 'ENV_MISSING', message: `environment variable ${variable} (${role}) is not set` } as Issue] };
    values[role] = value;
  }
  try {
    const session = await adapter.connect(values, { applicationName: 'kfm-migrate baseline' });
    try {
      const baseline = await session.captureBaseline({ capturedAt });
      return { status: 'passed' as const, exit_code: ExitCode.Passed, issues: [], baseline, text: canonicalJson(baseline) };
    } finally {
      await session.close();
    }
  } catch (error) {
    const issues = [faultIssue(error)];
    return { status: 'failed' as const, exit_code: exitCodeFor(issues), issues };
  }
}

/** Registry view plus, for stores whose connection variables are set, the ledger state of each id. */
export async function storeStatus(root: string, env: Readonly<Record<string, string | undefined>>) {
  const migrationsRoot = (await findMigrationsRoot(path.join(root, 'migrations'))) ?? path.join(root, 'migrations');
  const loaded = await loadRegistry(migrationsRoot);
  if (!loaded.ok) return { status: 'failed' as const, exit_code: exitCodeFor(loaded.issues), issues: loaded.issues, migrations: [] };
  const migrations = [];
  const sessions = new Map<string, Awaited<ReturnType<NonNullable<ReturnType<typeof adapterFor>>['connect']>> | null>();
  for (const entry of loaded.registry.migrations) {
    let ledger: string | undefined;
    const adapter = adapterFor(entry.type);
    if (adapter && !sessions.has(entry.type)) {
      const values = Object.fromEntries(Object.entries(adapter.connection).map(([role, variable]) => [role, env[variable]]));
      sessions.set(entry.type, Object.values(values).every((v) => v !== undefined) ? await adapter.connect(values as Record<string, string>, { applicationName: 'kfm-migrate status' }).catch(() => null) : null);
    }
    const session = sessions.get(entry.type);
    if (session) ledger = (await session.ledgerState(entry.migration_id).catch(() => undefined))?.state;
    migrations.push({ migration_id: entry.migration_id, type: entry.type, status: entry.status, path: entry.path, ledger: ledger ?? 'unknown' });
  }
  for (const session of sessions.values()) await session?.close().catch(() => undefined);
  return { status: 'passed' as const, exit_code: ExitCode.Passed, issues: [], migrations };
}
