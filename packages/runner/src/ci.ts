// `kfm-migrate ci`: the whole gate over a migrations/ tree, the same checks as `verify` and more —
// declaration schema and vocabulary, timeout bounds, the policy-safe scan of every committed file, each
// bundle's evidence verified (receipts, statements, reviewer-facing files bound to the latest run,
// signatures when the policy requires them), committed diffs re-evaluated, executed bundles holding
// evidence at all, every store's receipt chain whole, and the registry naming each bundle's latest run.
import fs from 'node:fs/promises';
import path from 'node:path';
import { evaluate } from '@kfm/diff';
import type { KeyObject } from 'node:crypto';
import {
  exitCodeFor,
  loadArtifact,
  loadDeclaration,
  vocabularyIssues,
  type Baseline,
  type DiffSummary,
  type ExitCode,
  type Issue,
  type MigrationDeclaration,
  type PreflightOptions,
  type ProtectedDomains,
  type RunReceipt,
  type ScriptLanguage,
} from '@kfm/migration-contracts';
import { LATEST_RECEIPT, evidencePaths, scanArtifact, verifyChain } from '@kfm/receipts';
import { mergeProtected } from '@kfm/diff';
import { loadAdapter } from './adapters.js';
import { loadRegistry, REGISTRY_FILE } from './migrations-registry.js';
import { allowedRules, loadRepositoryPolicy, timeoutIssues } from './policy.js';
import { readScripts } from './bundle.js';
import { verifyTarget } from './verify.js';

export interface CiFinding extends Issue {
  gate: 'schema' | 'secrets' | 'scope' | 'rollback' | 'receipts' | 'registry' | 'policy' | 'rehearsal' | 'chain';
}

export interface CiResult {
  status: 'passed' | 'failed';
  exit_code: ExitCode;
  bundles: string[];
  findings: CiFinding[];
}

const EXECUTED = new Set(['executed_dev', 'executed_stage', 'executed_prod', 'rolled_back']);

/** Every bundle directory under `<migrationsRoot>/<group>/<bundle>` (a directory holding migration.yml). */
export async function bundleDirectories(migrationsRoot: string): Promise<string[]> {
  const out: string[] = [];
  for (const group of await fs.readdir(migrationsRoot, { withFileTypes: true }).catch(() => [])) {
    if (!group.isDirectory() || group.name === 'registry') continue;
    for (const entry of await fs
      .readdir(path.join(migrationsRoot, group.name), { withFileTypes: true })
      .catch(() => [])) {
      if (entry.isDirectory() && (await exists(path.join(migrationsRoot, group.name, entry.name, 'migration.yml'))))
        out.push(`${group.name}/${entry.name}`);
    }
  }
  return out.sort();
}

export async function runCi(root: string, options: { publicKeys?: readonly KeyObject[] } = {}): Promise<CiResult> {
  const migrationsRoot = path.resolve(root, 'migrations');
  const findings: CiFinding[] = [];
  const add = (gate: CiFinding['gate'], issues: Issue[]) =>
    findings.push(
      ...issues.map((i) => ({
        gate,
        ...i,
        ...(i.file ? { file: path.relative(root, path.resolve(migrationsRoot, i.file)) || i.file } : {}),
      })),
    );
  const addIn = (gate: CiFinding['gate'], dir: string, issues: Issue[]) =>
    add(
      gate,
      issues.map((i) => ({ ...i, ...(i.file ? { file: path.resolve(dir, i.file) } : {}) })),
    );

  const policy = await loadRepositoryPolicy(migrationsRoot);
  if (!policy.ok) add('policy', policy.issues);
  const repositoryPolicy = policy.ok ? policy.loaded?.policy : undefined;
  const bundles = await bundleDirectories(migrationsRoot);
  const registry = await loadRegistry(migrationsRoot).catch(() => undefined);

  for (const bundle of bundles) {
    const dir = path.join(migrationsRoot, bundle);
    const loaded = await loadDeclaration(dir);
    if (!loaded.ok)
      add(
        loaded.issues.some((i) => i.code.startsWith('ROLLBACK') || i.code.startsWith('IRREVERSIBLE'))
          ? 'rollback'
          : 'schema',
        loaded.issues,
      );
    if (path.basename(dir) !== (loaded.ok ? loaded.declaration.migration_id : path.basename(dir))) {
      add('registry', [
        {
          code: 'REGISTRY_MISMATCH',
          file: path.join(dir, 'migration.yml'),
          pointer: '/migration_id',
          message: 'the bundle directory is not named after its migration_id',
        },
      ]);
    }
    add('secrets', await scanBundleFiles(dir));
    if (!loaded.ok) continue;
    const adapter = await loadAdapter(loaded.declaration.type);
    if (!adapter)
      add('schema', [
        {
          code: 'ARGUMENT_INVALID',
          file: loaded.file,
          pointer: '/type',
          message: `no store adapter registered for type ${loaded.declaration.type}`,
        },
      ]);
    else add('schema', vocabularyIssues(loaded.declaration, adapter, loaded.file, loaded.locate));
    add(
      'policy',
      timeoutIssues(loaded.declaration, repositoryPolicy ?? { kfm_policy_version: 'v1' }, loaded.file, loaded.locate),
    );

    const entry = registry?.ok
      ? registry.registry.migrations.find((m) => m.migration_id === loaded.declaration.migration_id)
      : undefined;
    const hasReceipts =
      (await exists(path.join(dir, 'receipts', 'run_receipt.json'))) ||
      (await exists(path.join(dir, 'receipts', 'runs')));
    if (!hasReceipts) {
      if (entry && EXECUTED.has(entry.status))
        add('receipts', [
          {
            code: 'EVIDENCE_MISSING',
            file: path.join(dir, 'receipts'),
            message: `the registry says ${entry.migration_id} is ${entry.status}, but the bundle holds no receipts`,
          },
        ]);
      // Not run yet: what a store-free preflight can tell a reviewer now, not at apply time.
      if (adapter?.language.preflight)
        add(
          'scope',
          await staticPreflight(dir, loaded, adapter.language.preflight, {
            protected: mergeProtected(repositoryPolicy?.protected, loaded.declaration.protected),
            allowedRules: allowedRules(
              repositoryPolicy ?? { kfm_policy_version: 'v1' },
              loaded.declaration.migration_id,
            ).rules,
          }),
        );
      // Evidence without any receipt is planted, not produced.
      for (const { latest } of evidencePaths(loaded.declaration.artifacts)) {
        if (await exists(path.join(dir, latest)))
          add('receipts', [
            {
              code: 'EVIDENCE_STALE',
              file: path.join(dir, latest),
              message: `${latest} exists but no run of this bundle produced it`,
            },
          ]);
      }
      continue;
    }
    const verified = await verifyTarget(dir, options.publicKeys ? { publicKeys: options.publicKeys } : {});
    addIn('receipts', dir, verified.issues);
    if (adapter)
      add(
        'scope',
        await checkCommittedDiff(
          dir,
          loaded.declaration,
          mergeProtected(repositoryPolicy?.protected),
          adapter.vocabulary,
        ),
      );
    if (entry) add('registry', await registryNamesLatest(dir, entry.history));
  }
  add('registry', await checkRegistry(migrationsRoot, bundles));
  const chain = await verifyChain(migrationsRoot);
  add(
    'chain',
    chain.breaks.map((b) => ({
      code: 'CHAIN_BROKEN' as const,
      file: b.file,
      pointer: '/previous_receipt',
      message: `receipt chain ${b.chain} breaks here: previous_receipt does not name ${b.after ?? 'its predecessor'} (a receipt between them was removed, or that one was edited)`,
      expected: b.expected ?? 'null',
      found: b.found ?? 'null',
    })),
  );
  add(
    'chain',
    chain.issues.filter((issue) => issue.code !== 'RECEIPT_DIGEST_MISMATCH' || issue.pointer !== '/previous_receipt'),
  );
  const exit = exitCodeFor(findings);
  return {
    status: findings.length ? 'failed' : 'passed',
    exit_code: findings.length && exit === 0 ? 1 : exit,
    bundles,
    findings,
  };
}

/** The registry's newest run for a bundle must be the run its latest receipt names. */
/**
 * The forward script's preflight failures and the rollback script's scope refusals (a rollback runs when
 * something went wrong, often without a commit point), as findings naming file:line.
 */
async function staticPreflight(
  dir: string,
  loaded: Extract<Awaited<ReturnType<typeof loadDeclaration>>, { ok: true }>,
  preflight: NonNullable<ScriptLanguage['preflight']>,
  options: PreflightOptions,
): Promise<Issue[]> {
  const issues: Issue[] = [];
  const forward = await readScripts(dir, loaded.forward, issues);
  const rollback = await readScripts(dir, loaded.rollback, issues);
  if (issues.length > 0) return issues;
  const found = (await preflight(forward, loaded.declaration, options)).checks.filter(
    (check) => check.status === 'fail',
  );
  if (rollback.length > 0)
    found.push(
      ...(await preflight(rollback, { ...loaded.declaration, transactional: false }, options)).checks.filter(
        (check) =>
          check.status === 'fail' && (check.code === 'PREFLIGHT_FORBIDDEN' || check.code === 'PREFLIGHT_PARSE'),
      ),
    );
  return found.map((check) => ({
    code: (check.code ?? 'PREFLIGHT_FORBIDDEN') as Issue['code'],
    file: loaded.file,
    ...(check.pointer !== undefined ? { pointer: check.pointer } : {}),
    message: `preflight without a store: ${check.message}`,
  }));
}

async function registryNamesLatest(dir: string, history: { run_id?: string; status: string }[]): Promise<Issue[]> {
  const latest = await loadArtifact<RunReceipt>(path.join(dir, LATEST_RECEIPT), 'run_receipt.v1');
  const registered = [...history].reverse().find((h) => h.run_id)?.run_id;
  if (!latest.ok || !registered) return [];
  // The registry records committed applies and completed rollbacks; a later failed run has a receipt but no entry.
  const byRun = new Map<string, string>();
  for (const run of await fs.readdir(path.join(dir, 'receipts', 'runs')).catch(() => [] as string[])) {
    const receipt = await loadArtifact<RunReceipt>(
      path.join(dir, 'receipts', 'runs', run, 'run_receipt.json'),
      'run_receipt.v1',
    );
    if (receipt.ok) byRun.set(receipt.value.run_id, receipt.value.finished_at);
  }
  const newestRegistered = byRun.get(registered);
  if (!newestRegistered)
    return [
      {
        code: 'REGISTRY_MISMATCH',
        file: path.join(dir, 'receipts'),
        message: `the registry's newest run for this bundle, ${registered}, has no receipt in the bundle (truncated evidence?)`,
        expected: registered,
        found: 'no such run',
      },
    ];
  if (latest.value.finished_at < newestRegistered)
    return [
      {
        code: 'REGISTRY_MISMATCH',
        file: path.join(dir, LATEST_RECEIPT),
        message: `the latest receipt names ${latest.value.run_id}, older than the registry's newest run ${registered} (the latest run's evidence was removed)`,
        expected: registered,
        found: latest.value.run_id,
      },
    ];
  return [];
}

async function scanBundleFiles(dir: string): Promise<Issue[]> {
  const issues: Issue[] = [];
  for (const file of await listFiles(dir)) {
    // Every file is scanned, whatever the store's script language; invalid UTF-8 is decoded leniently
    // here, so a secret beside a stray byte is still found.
    const text = new TextDecoder('utf-8').decode(await fs.readFile(file));
    const result = await scanArtifact(path.relative(dir, file), text);
    for (const f of result.findings)
      issues.push({ code: 'POLICY_SCAN_HIT', file, line: f.line, message: `${f.rule}: ${f.message}` });
  }
  return issues;
}

/** Re-evaluates a committed diff from the committed baselines; a committed run must still pass. */
async function checkCommittedDiff(
  dir: string,
  declaration: MigrationDeclaration,
  repositoryProtected: ProtectedDomains,
  vocabulary: Parameters<typeof evaluate>[2],
): Promise<Issue[]> {
  const paths = Object.fromEntries(evidencePaths(declaration.artifacts).map((p) => [p.role, path.join(dir, p.latest)]));
  const summaryFile = paths.summary as string;
  if (!(await exists(summaryFile))) return [];
  const summary = await loadArtifact<DiffSummary>(summaryFile, 'diff_summary.v1');
  if (!summary.ok) return summary.issues;
  const issues: Issue[] = [];
  if (summary.value.migration_id !== declaration.migration_id) {
    issues.push({
      code: 'DIFF_SCOPE_MISMATCH',
      file: summaryFile,
      pointer: '/migration_id',
      message: 'summary belongs to another migration',
      expected: declaration.migration_id,
      found: summary.value.migration_id,
    });
  }
  const receipt = await loadArtifact<RunReceipt>(path.join(dir, LATEST_RECEIPT), 'run_receipt.v1');
  const committed = receipt.ok && receipt.value.operation === 'apply' && receipt.value.outcome?.status === 'committed';
  const pre = await loadArtifact<Baseline>(paths.pre as string, 'baseline.v1');
  const post = await loadArtifact<Baseline>(paths.post as string, 'baseline.v1');
  if (!pre.ok || !post.ok) return [...issues, ...(pre.ok ? [] : pre.issues), ...(post.ok ? [] : post.issues)];
  const recomputed = evaluate(
    declaration,
    {
      pre: pre.value,
      post: post.value,
      metrics: summary.value.metrics ?? {},
      ...(summary.value.data_changes ? { data: summary.value.data_changes } : {}),
      protected: repositoryProtected,
    },
    vocabulary,
  );
  const failing = recomputed.checks.filter((c) => c.status === 'fail');
  if (committed && failing.length) {
    for (const check of failing)
      issues.push({
        code: 'DIFF_SCOPE_MISMATCH',
        file: summaryFile,
        ...(check.pointer ? { pointer: check.pointer } : {}),
        message: `committed run violates its declaration: ${check.name}: ${check.message ?? ''}`,
      });
  }
  if (recomputed.status !== summary.value.status) {
    issues.push({
      code: 'DIFF_SCOPE_MISMATCH',
      file: summaryFile,
      pointer: '/status',
      message: 'committed summary status disagrees with a re-evaluation of the committed baselines',
      expected: recomputed.status,
      found: summary.value.status,
    });
  }
  return issues;
}

async function checkRegistry(migrationsRoot: string, bundles: string[]): Promise<Issue[]> {
  const file = path.join(migrationsRoot, REGISTRY_FILE);
  if (!(await exists(file)))
    return bundles.length
      ? [{ code: 'REGISTRY_MISMATCH', file, message: 'bundles exist but there is no registry' }]
      : [];
  const loaded = await loadRegistry(migrationsRoot);
  if (!loaded.ok) return loaded.issues;
  const issues: Issue[] = [];
  const seen = new Map<string, number>();
  for (const [i, entry] of loaded.registry.migrations.entries()) {
    const pointer = `/migrations/${i}`;
    if (seen.has(entry.migration_id))
      issues.push({
        code: 'REGISTRY_INVALID',
        file,
        pointer,
        message: `migration id ${entry.migration_id} is registered twice (ids are never reused)`,
      });
    seen.set(entry.migration_id, i);
    const last = entry.history[entry.history.length - 1];
    if (last && last.status !== entry.status)
      issues.push({
        code: 'REGISTRY_INVALID',
        file,
        pointer: `${pointer}/status`,
        message: 'status differs from the last history entry',
        expected: last.status,
        found: entry.status,
      });
    const adapter = await loadAdapter(entry.type);
    if (adapter && !entry.migration_id.startsWith(`${adapter.vocabulary.idPrefix}-MIG-`))
      issues.push({
        code: 'REGISTRY_INVALID',
        file,
        pointer: `${pointer}/type`,
        message: 'migration id prefix does not agree with type',
        expected: `${adapter.vocabulary.idPrefix}-MIG-…`,
        found: entry.migration_id,
      });
    if (!bundles.includes(entry.path))
      issues.push({
        code: 'REGISTRY_MISMATCH',
        file,
        pointer: `${pointer}/path`,
        message: `registered bundle ${entry.path} does not exist`,
      });
  }
  for (const bundle of bundles) {
    if (!loaded.registry.migrations.some((m) => m.path === bundle))
      issues.push({
        code: 'REGISTRY_MISMATCH',
        file: path.join(migrationsRoot, bundle),
        message: `bundle ${bundle} is not registered in ${REGISTRY_FILE}`,
      });
  }
  return issues;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out.sort();
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}
