// The proof, through the CLI as a user runs it: a fourth store loaded with --adapter runs validate, plan,
// apply, verify, rollback, ci and report with no edit to contracts, diff, receipts or runner. The tree is
// read back with the file system (bytes and sha256), never only through our fingerprint.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const cli = path.join(repo, 'packages/runner/dist/cli.js');
const adapterModule = path.join(here, '../dist/index.js');

let tree = '';
let root = '';

function kfm(args: string[]): Promise<{ code: number | null; json: any; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, '--adapter', adapterModule, ...args], {
      env: { ...process.env, KFM_FILES_ROOT: tree },
      cwd: root,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      let json: any = {};
      try {
        json = JSON.parse(stdout);
      } catch {
        json = {};
      }
      resolve({ code, json, stderr, stdout });
    });
  });
}

/** The tree as `find … | sha256sum` would show it: every file outside .kfm/ with the sha256 of its bytes. */
async function treeState(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await fs.readdir(tree, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const relative = path.relative(tree, path.join(entry.parentPath, entry.name));
    if (relative.startsWith('.kfm')) continue;
    out[relative] = createHash('sha256')
      .update(await fs.readFile(path.join(tree, relative)))
      .digest('hex');
  }
  return out;
}

async function bundle(id: string, forward: unknown[], rollback: unknown[], extra = ''): Promise<string> {
  const dir = path.join(root, 'migrations/files', id);
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(
    path.join(dir, 'migration.yml'),
    [
      `migration_id: ${id}`,
      'type: files',
      'intent: "Publish zoom level 12 tiles and retire the old index"',
      'scope:',
      '  allowed_directories: ["tiles/*", "/"]',
      '  allowed_files: ["tiles/*", "index.json"]',
      '  forbidden_directories: [licenses]',
      'limits:',
      '  max_files_touched: 3',
      '  max_file_count_delta: 2',
      '  max_bytes_written: 1000',
      'requires_rollback: true',
      'approvals:',
      '  required_reviewers: [kfm-tiles]',
      'runner:',
      '  tool: kfm-migrate',
      '  environment: [KFM_FILES_ROOT]',
      'connection:',
      '  root: KFM_FILES_ROOT',
      'protected:',
      '  files: ["licenses/*"]',
      'artifacts:',
      '  forward: [forward.json]',
      '  rollback: [rollback.json]',
      extra,
    ].join('\n'),
  );
  await fs.writeFile(path.join(dir, 'forward.json'), JSON.stringify({ operations: forward }, null, 2));
  await fs.writeFile(path.join(dir, 'rollback.json'), JSON.stringify({ operations: rollback }, null, 2));
  const registry = path.join(root, 'migrations/registry/migrations.v1.json');
  await fs.mkdir(path.dirname(registry), { recursive: true });
  const current = JSON.parse(
    await fs.readFile(registry, 'utf8').catch(() => '{"kfm_migrations_registry_version":"v1","migrations":[]}'),
  );
  current.migrations.push({
    migration_id: id,
    type: 'files',
    path: `files/${id}`,
    status: 'draft',
    history: [{ status: 'draft', at: '2026-12-01T00:00:00Z' }],
  });
  await fs.writeFile(registry, JSON.stringify(current, null, 2));
  return dir;
}

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-files-repo-'));
  tree = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-files-tree-'));
  await fs.mkdir(path.join(tree, 'tiles/11'), { recursive: true });
  await fs.mkdir(path.join(tree, 'licenses'), { recursive: true });
  await fs.writeFile(path.join(tree, 'tiles/11/0.pbf'), 'tile 11/0');
  await fs.writeFile(path.join(tree, 'index.json'), '{"zoom":[11]}');
  await fs.writeFile(path.join(tree, 'licenses/ODbL.txt'), 'license text');
});

describe('a fourth store through the unchanged runner', () => {
  const forward = [
    { op: 'write', path: 'tiles/12/0.pbf', content: 'tile 12/0' },
    { op: 'write', path: 'index.json', content: '{"zoom":[11,12]}' },
  ];
  const rollback = [
    { op: 'delete', path: 'tiles/12/0.pbf' },
    { op: 'write', path: 'index.json', content: '{"zoom":[11]}' },
  ];

  it('validates, plans, applies, verifies, reports, rolls back to PRE and passes ci', async () => {
    const dir = await bundle('FILES-MIG-2026-12-01-01', forward, rollback);
    const before = await treeState();
    expect((await kfm(['validate', dir, '--json'])).code).toBe(0);
    const plan = await kfm(['plan', dir, '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(await treeState()).toEqual(before);

    const applied = await kfm(['apply', dir, '--json']);
    expect(applied.code, applied.stderr.slice(-2000)).toBe(0);
    const after = await treeState();
    expect(after['tiles/12/0.pbf']).toBe(createHash('sha256').update('tile 12/0').digest('hex'));
    expect(after['licenses/ODbL.txt']).toBe(before['licenses/ODbL.txt']);
    expect(applied.json.touched.files).toEqual(['index.json', 'tiles/12/0.pbf']);

    expect((await kfm(['verify', dir, '--json'])).code).toBe(0);
    const report = await kfm(['report', dir]);
    expect(report.stdout).toContain('limits.max_bytes_written');
    expect(report.stdout).toMatch(/\| added \| file \| tiles\/12\/0\.pbf \|/);
    expect((await kfm(['apply', dir, '--json'])).code).toBe(1);

    const rolledBack = await kfm(['rollback', dir, '--json']);
    expect(rolledBack.code, rolledBack.stderr.slice(-2000)).toBe(0);
    expect(await treeState()).toEqual(before);
    const ci = await kfm(['ci', '--root', root, '--json']);
    expect(ci.code, JSON.stringify(ci.json.findings ?? ci.json, null, 1).slice(0, 2000)).toBe(0);
  });

  it('fails closed on a limit or a protected file, with the tree unchanged', async () => {
    const big = await bundle(
      'FILES-MIG-2026-12-01-02',
      [{ op: 'write', path: 'tiles/12/1.pbf', content: 'x'.repeat(2000) }],
      [{ op: 'delete', path: 'tiles/12/1.pbf' }],
    );
    const before = await treeState();
    const refused = await kfm(['apply', big, '--json']);
    expect(refused.code).toBe(1);
    expect(
      refused.json.checks.find((check: { name: string }) => check.name === 'limits.max_bytes_written'),
    ).toMatchObject({ status: 'fail', observed: 2000 });
    expect(await treeState()).toEqual(before);

    const license = await bundle(
      'FILES-MIG-2026-12-01-03',
      [{ op: 'delete', path: 'licenses/ODbL.txt' }],
      [{ op: 'write', path: 'licenses/ODbL.txt', content: 'license text' }],
    );
    const forbidden = await kfm(['apply', license, '--json']);
    expect(forbidden.code).toBe(1);
    expect(
      forbidden.json.checks
        .filter((check: { status: string }) => check.status === 'fail')
        .map((check: { code: string }) => check.code),
    ).toContain('PREFLIGHT_FORBIDDEN');
    expect(await treeState()).toEqual(before);
  });

  it('refuses a bad manifest with file, line and pointer before touching the tree (exit 2)', async () => {
    const dir = await bundle('FILES-MIG-2026-12-01-04', [{ op: 'write', path: '../escape.txt', content: 'x' }], []);
    const run = await kfm(['apply', dir, '--json']);
    expect(run.code).toBe(2);
    expect(run.json.issues[0]).toMatchObject({
      code: 'SCRIPT_PARSE',
      file: 'forward.json',
      line: 4,
      pointer: '/operations/0',
    });
    await expect(fs.stat(path.join(tree, '../escape.txt'))).rejects.toThrow();
  });
});
