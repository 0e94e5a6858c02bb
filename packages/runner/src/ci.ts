// `kfm-migrate ci`: the blocking gates of the source README over a migrations/ tree —
// declaration schema, policy-safe scan of every committed file, scope + limits of committed
// diffs, rollback posture, receipt schema + digests, and registry consistency.
import fs from 'node:fs/promises';
import path from 'node:path';
import { evaluate } from '@kfm/diff';
import { exitCodeFor, loadArtifact, loadDeclaration, type Baseline, type DiffSummary, type ExitCode, type Issue, type RunReceipt } from '@kfm/migration-contracts';
import { scanArtifact, verifyBundle } from '@kfm/receipts';
import { loadRegistry, REGISTRY_FILE } from './migrations-registry.js';
import { effectiveProtected, loadPolicy } from './policy.js';

export interface CiFinding extends Issue {
  gate: 'schema' | 'secrets' | 'scope' | 'rollback' | 'receipts' | 'registry' | 'policy' | 'rehearsal';
}

export interface CiResult {
  status: 'passed' | 'failed';
  exit_code: ExitCode;
  bundles: string[];
  findings: CiFinding[];
}

const STORE_DIRS = ['postgis', 'search', 'graph', 'other'];
const TEXT_FILE = /\.(ya?ml|json|jsonld|sql|cypher|md|csv|txt)$/i;

export async function runCi(root: string): Promise<CiResult> {
  const migrationsRoot = path.resolve(root, 'migrations');
  const findings: CiFinding[] = [];
  const add = (gate: CiFinding['gate'], issues: Issue[]) => findings.push(...issues.map((i) => ({ gate, ...i, ...(i.file ? { file: path.relative(root, path.resolve(i.file)) || i.file } : {}) })));

  const policy = await loadPolicy(migrationsRoot);
  if (!policy.ok) add('policy', policy.issues);
  const bundles: string[] = [];
  for (const store of STORE_DIRS) {
    let entries: string[] = [];
    try {
      entries = (await fs.readdir(path.join(migrationsRoot, store), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name).sort();
    } catch {
      continue;
    }
    for (const name of entries) bundles.push(`${store}/${name}`);
  }

  for (const bundle of bundles) {
    const dir = path.join(migrationsRoot, bundle);
    const loaded = await loadDeclaration(dir);
    if (!loaded.ok) {
      add(loaded.issues.some((i) => i.code.startsWith('ROLLBACK') || i.code.startsWith('IRREVERSIBLE')) ? 'rollback' : 'schema', loaded.issues);
    }
    if (path.basename(dir) !== (loaded.ok ? loaded.declaration.migration_id : path.basename(dir))) {
      add('registry', [{ code: 'REGISTRY_MISMATCH', file: path.join(dir, 'migration.yml'), pointer: '/migration_id', message: 'the bundle directory is not named after its migration_id' }]);
    }
    add('secrets', await scanBundleFiles(dir));
    if (loaded.ok) {
      add('scope', await checkCommittedDiff(dir, loaded.declaration, policy.ok ? effectiveProtected(policy.policy, loaded.declaration) : {}));
      const hasReceipts = await exists(path.join(dir, 'receipts', 'run_receipt.json')) || await exists(path.join(dir, 'receipts', 'runs'));
      if (hasReceipts) {
        const verified = await verifyBundle(dir);
        add('receipts', verified.issues);
      }
    }
  }
  add('registry', await checkRegistry(migrationsRoot, bundles));
  const exit = exitCodeFor(findings);
  return { status: findings.length ? 'failed' : 'passed', exit_code: findings.length && exit === 0 ? 1 : exit, bundles, findings };
}

async function scanBundleFiles(dir: string): Promise<Issue[]> {
  const issues: Issue[] = [];
  for (const file of await listFiles(dir)) {
    if (!TEXT_FILE.test(file)) continue;
    const result = await scanArtifact(path.relative(dir, file), await fs.readFile(file, 'utf8'));
    for (const f of result.findings) issues.push({ code: 'POLICY_SCAN_HIT', file, line: f.line, message: `${f.rule}: ${f.message}` });
  }
  return issues;
}

/** Re-evaluates a committed diff from the committed baselines; a committed run must still pass. */
async function checkCommittedDiff(dir: string, declaration: Parameters<typeof evaluate>[0], protectedDomains: ReturnType<typeof effectiveProtected>): Promise<Issue[]> {
  const summaryFile = path.join(dir, declaration.artifacts.diffs?.summary ?? 'diffs/summary.json');
  if (!(await exists(summaryFile))) return [];
  const summary = await loadArtifact<DiffSummary>(summaryFile, 'diff_summary.v1');
  if (!summary.ok) return summary.issues;
  const issues: Issue[] = [];
  if (summary.value.migration_id !== declaration.migration_id) {
    issues.push({ code: 'DIFF_SCOPE_MISMATCH', file: summaryFile, pointer: '/migration_id', message: 'summary belongs to another migration', expected: declaration.migration_id, found: summary.value.migration_id });
  }
  const receipt = await loadArtifact<RunReceipt>(path.join(dir, 'receipts', 'run_receipt.json'), 'run_receipt.v1');
  const committed = receipt.ok && receipt.value.operation === 'apply' && receipt.value.outcome?.status === 'committed';
  const pre = await loadArtifact<Baseline>(path.join(dir, declaration.artifacts.baselines?.pre ?? 'baselines/pre.json'), 'baseline.v1');
  const post = await loadArtifact<Baseline>(path.join(dir, declaration.artifacts.baselines?.post ?? 'baselines/post.json'), 'baseline.v1');
  if (!pre.ok || !post.ok) return [...issues, ...(pre.ok ? [] : pre.issues), ...(post.ok ? [] : post.issues)];
  const recomputed = evaluate(declaration, { pre: pre.value, post: post.value, metrics: summary.value.metrics ?? {}, protected: protectedDomains });
  const failing = recomputed.checks.filter((c) => c.status === 'fail');
  if (committed && failing.length) {
    for (const check of failing) issues.push({ code: 'DIFF_SCOPE_MISMATCH', file: summaryFile, ...(check.pointer ? { pointer: check.pointer } : {}), message: `committed run violates its declaration: ${check.name}: ${check.message ?? ''}` });
  }
  if (recomputed.status !== summary.value.status) {
    issues.push({ code: 'DIFF_SCOPE_MISMATCH', file: summaryFile, pointer: '/status', message: 'committed summary status disagrees with a re-evaluation of the committed baselines', expected: recomputed.status, found: summary.value.status });
  }
  return issues;
}

async function checkRegistry(migrationsRoot: string, bundles: string[]): Promise<Issue[]> {
  const file = path.join(migrationsRoot, REGISTRY_FILE);
  if (!(await exists(file))) return bundles.length ? [{ code: 'REGISTRY_MISMATCH', file, message: 'bundles exist but there is no registry' }] : [];
  const loaded = await loadRegistry(migrationsRoot);
  if (!loaded.ok) return loaded.issues;
  const issues: Issue[] = [];
  const seen = new Map<string, number>();
  loaded.registry.migrations.forEach((entry, i) => {
    const pointer = `/migrations/${i}`;
    if (seen.has(entry.migration_id)) issues.push({ code: 'REGISTRY_INVALID', file, pointer, message: `migration id ${entry.migration_id} is registered twice (ids are never reused)` });
    seen.set(entry.migration_id, i);
    const last = entry.history[entry.history.length - 1];
    if (last && last.status !== entry.status) issues.push({ code: 'REGISTRY_INVALID', file, pointer: `${pointer}/status`, message: 'status differs from the last history entry', expected: last.status, found: entry.status });
    const prefix = { postgis: 'PG', search: 'SEARCH', graph: 'GRAPH', other: 'OTHER' }[entry.type];
    if (!entry.migration_id.startsWith(`${prefix}-MIG-`)) issues.push({ code: 'REGISTRY_INVALID', file, pointer: `${pointer}/type`, message: 'migration id prefix does not agree with type' });
    if (!bundles.includes(entry.path)) issues.push({ code: 'REGISTRY_MISMATCH', file, pointer: `${pointer}/path`, message: `registered bundle ${entry.path} does not exist` });
  });
  for (const bundle of bundles) {
    if (!loaded.registry.migrations.some((m) => m.path === bundle)) issues.push({ code: 'REGISTRY_MISMATCH', file: path.join(migrationsRoot, bundle), message: `bundle ${bundle} is not registered in ${REGISTRY_FILE}` });
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
  return fs.access(file).then(() => true, () => false);
}
