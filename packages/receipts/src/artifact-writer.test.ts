import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson } from './digest.js';
import { digestOutput } from './file-digest.js';
import { writeArtifacts } from './artifact-writer.js';

let root: string;
beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-writer-'));
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function listFiles(dir: string): Promise<string[]> {
  try {
    const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
    return entries
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
      .sort();
  } catch {
    return [];
  }
}

describe('writeArtifacts', () => {
  it('writes objects as canonical JSON and text as is, creating directories, and returns their digests', async () => {
    const bundle = path.join(root, 'bundle');
    const baseline = { store: 'postgis', counts: { tables: 2 }, kfm_baseline_version: 'v1' };
    const result = await writeArtifacts(bundle, [
      { path: 'diffs/touched.csv', content: 'kind,name,change\ntable,public.parcels,modified\n' },
      { path: 'baselines/pre.json', content: baseline },
      { path: 'notes.md', content: '# Notes\n' },
    ]);
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    expect(result.written.map((file) => file.path)).toEqual(['baselines/pre.json', 'diffs/touched.csv', 'notes.md']);
    const pre = await fs.readFile(path.join(bundle, 'baselines/pre.json'), 'utf8');
    expect(pre).toBe(canonicalJson(baseline));
    expect(pre.endsWith('\n')).toBe(false);
    for (const file of result.written) {
      const absolute = path.join(bundle, file.path);
      expect(file.digest).toBe(await digestOutput(absolute));
      expect(file.bytes).toBe((await fs.stat(absolute)).size);
    }
    // Atomic writes leave no temp files behind.
    expect(await listFiles(bundle)).toEqual(['baselines/pre.json', 'diffs/touched.csv', 'notes.md']);
  });

  it('replaces an existing artifact', async () => {
    await writeArtifacts(root, [{ path: 'a.json', content: { v: 1 } }]);
    const result = await writeArtifacts(root, [{ path: 'a.json', content: { v: 2 } }]);
    expect(result.ok).toBe(true);
    expect(await fs.readFile(path.join(root, 'a.json'), 'utf8')).toBe('{"v":2}');
  });

  it('writes nothing at all when one file has a policy hit, and does not echo the secret', async () => {
    const bundle = path.join(root, 'bundle');
    const secret = 'postgres://kfm:Sup3rS3cret@db.internal:5432/kfm';
    const result = await writeArtifacts(bundle, [
      { path: 'baselines/pre.json', content: { store: 'postgis', counts: { tables: 1 } } },
      {
        path: 'diffs/summary.json',
        content: { migration_id: 'PG-MIG-2026-03-01-01', note: `connected with ${secret}` },
      },
      { path: 'notes.md', content: 'all good\n' },
    ]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.findings.map((finding) => `${finding.file} ${finding.rule}`)).toContain(
      'diffs/summary.json kfm/dsn-with-credentials',
    );
    expect(result.issues.every((issue) => issue.code === 'POLICY_SCAN_HIT')).toBe(true);
    expect(JSON.stringify(result)).not.toContain('Sup3rS3cret');
    expect(await listFiles(root)).toEqual([]);
    await expect(fs.stat(bundle)).rejects.toThrow();
  });

  it('refuses paths that leave the bundle, writing nothing', async () => {
    const bundle = path.join(root, 'bundle');
    await fs.mkdir(bundle);
    const result = await writeArtifacts(bundle, [
      { path: 'ok.json', content: {} },
      { path: '../escape.json', content: {} },
      { path: path.join(root, 'absolute.json'), content: {} },
    ]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((issue) => issue.code).sort()).toEqual([
      'ARTIFACT_PATH_ABSOLUTE',
      'ARTIFACT_PATH_TRAVERSAL',
    ]);
    expect(await listFiles(root)).toEqual([]);
  });

  it('refuses a directory symlink that leads out of the bundle', async () => {
    const bundle = path.join(root, 'bundle');
    const outside = path.join(root, 'outside');
    await fs.mkdir(bundle);
    await fs.mkdir(outside);
    await fs.symlink(outside, path.join(bundle, 'receipts'), 'dir');
    const result = await writeArtifacts(bundle, [{ path: 'receipts/run_receipt.json', content: { a: 1 } }]);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((issue) => issue.code)).toEqual(['ARTIFACT_PATH_SYMLINK_ESCAPE']);
    expect(await listFiles(outside)).toEqual([]);
  });

  it('refuses the same path twice', async () => {
    const result = await writeArtifacts(root, [
      { path: 'a.json', content: { v: 1 } },
      { path: './a.json', content: { v: 2 } },
    ]);
    expect(result.ok).toBe(false);
    expect(await listFiles(root)).toEqual([]);
  });
});
