// The commands that change no store: validate (a bundle exactly as a run would prepare it: schema,
// vocabulary, encoding, scripts parsed, policy-safe scan, timeout bounds), diff, baseline, discovery.
// Each returns a value the CLI prints as-is with --json. What only one command needs (the diff, the CI
// gates' bundle discovery) is imported when that command runs, so validate starts without it.
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  ExitCode,
  decodeText,
  exitCodeFor,
  loadArtifact,
  loadDeclaration,
  parseJson,
  type Baseline,
  type Issue,
  type SchemaName,
} from '@kfm/migration-contracts';
import { canonicalJson } from '@kfm/receipts';
import { loadAdapter, registeredTypes } from './adapters.js';
import { prepareBundle } from './bundle.js';
import { resolveConnection } from './connection.js';
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
      results.push({
        path: target,
        kind: 'unknown',
        ok: false,
        issues: [{ code: 'FILE_NOT_FOUND', file: target, message: 'no such file or directory' }],
      });
    } else if (stat.isDirectory() || /\.ya?ml$/i.test(target)) {
      const prepared = await prepareBundle(target);
      results.push({ path: target, kind: 'bundle', ok: prepared.ok, issues: prepared.ok ? [] : prepared.issues });
    } else {
      const decoded = decodeText(await fs.readFile(target), target);
      const parsed = decoded.ok ? parseJson(decoded.text, target) : decoded;
      const value = parsed.ok ? parsed.document.value : undefined;
      const schema =
        typeof value === 'object' && value !== null
          ? Object.entries(VERSION_KEYS).find(([key]) => key in value)?.[1]
          : undefined;
      if (!parsed.ok) results.push({ path: target, kind: 'json', ok: false, issues: parsed.issues });
      else if (!schema)
        results.push({
          path: target,
          kind: 'json',
          ok: false,
          issues: [
            {
              code: 'SCHEMA_REQUIRED',
              file: target,
              pointer: '',
              message: 'not a KFM artifact: no kfm_*_version field',
              expected: `one of ${Object.keys(VERSION_KEYS).join(', ')}`,
            },
          ],
        });
      else {
        const loaded = await loadArtifact(target, schema);
        results.push({ path: target, kind: schema, ok: loaded.ok, issues: loaded.issues });
      }
    }
  }
  const issues = results.flatMap((r) => r.issues);
  return { status: issues.length ? 'failed' : 'passed', exit_code: exitCodeFor(issues), results };
}

/** Every bundle directory under <root>/migrations/. */
export async function discoverBundles(root: string): Promise<string[]> {
  const migrationsRoot = path.join(root, 'migrations');
  const { bundleDirectories } = await import('./ci.js');
  return (await bundleDirectories(migrationsRoot)).map((bundle) => path.join(migrationsRoot, bundle));
}

export async function diffFiles(preFile: string, postFile: string, declarationPath?: string) {
  const pre = await loadArtifact<Baseline>(preFile, 'baseline.v1');
  const post = await loadArtifact<Baseline>(postFile, 'baseline.v1');
  const issues = [...pre.issues, ...post.issues];
  if (!pre.ok || !post.ok) return { status: 'failed' as const, exit_code: exitCodeFor(issues), issues };
  const { diffBaselines, evaluate } = await import('@kfm/diff');
  if (!declarationPath) {
    const diff = diffBaselines(pre.value, post.value);
    return { status: 'passed' as const, exit_code: ExitCode.Passed, issues: [], diff };
  }
  const loaded = await loadDeclaration(declarationPath);
  if (!loaded.ok) return { status: 'failed' as const, exit_code: ExitCode.InvalidInput, issues: loaded.issues };
  const adapter = await loadAdapter(loaded.declaration.type);
  if (!adapter)
    return {
      status: 'failed' as const,
      exit_code: ExitCode.InvalidInput,
      issues: [
        {
          code: 'ARGUMENT_INVALID',
          file: loaded.file,
          pointer: '/type',
          message: `no store adapter registered for type ${loaded.declaration.type}`,
        } as Issue,
      ],
    };
  const summary = evaluate(
    loaded.declaration,
    { pre: pre.value, post: post.value, protected: loaded.declaration.protected ?? {} },
    adapter.vocabulary,
  );
  return {
    status: summary.status === 'pass' ? ('passed' as const) : ('failed' as const),
    exit_code: summary.status === 'pass' ? ExitCode.Passed : ExitCode.CheckFailed,
    issues: [],
    summary,
  };
}

export async function captureStoreBaseline(
  type: string,
  env: Readonly<Record<string, string | undefined>>,
  capturedAt: string,
  options: { full?: boolean } = {},
) {
  const adapter = await loadAdapter(type);
  if (!adapter)
    return {
      status: 'failed' as const,
      exit_code: ExitCode.InvalidInput,
      issues: [
        {
          code: 'ARGUMENT_INVALID',
          message: `unknown store ${type}`,
          expected: `one of ${registeredTypes().join(', ')}`,
        } as Issue,
      ],
    };
  const connection = resolveConnection(adapter, undefined, env);
  if (!connection.ok)
    return { status: 'failed' as const, exit_code: exitCodeFor(connection.issues), issues: connection.issues };
  try {
    const session = await adapter.connect(connection.values, { applicationName: 'kfm-migrate baseline' });
    try {
      const baseline = await session.captureBaseline({
        capturedAt,
        once: true,
        ...(options.full ? { full: true } : {}),
      });
      return {
        status: 'passed' as const,
        exit_code: ExitCode.Passed,
        issues: [],
        baseline,
        text: canonicalJson(baseline),
      };
    } finally {
      await session.close();
    }
  } catch (error) {
    const issues = [faultIssue(error)];
    return { status: 'failed' as const, exit_code: exitCodeFor(issues), issues };
  }
}
