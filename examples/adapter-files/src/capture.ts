// The baseline of a file tree: one `file` object per regular file (digest: the raw CID of its bytes;
// scope: the file and its directory), symlinks as `symlink` objects (digest of the target text, so
// re-pointing one is a change). `.kfm/` is the adapter's own and never part of a baseline.
import fs from 'node:fs/promises';
import path from 'node:path';
import { compareText, matchesAny } from '@kfm/adapter-kit';
import type { Baseline, BaselineObject, BaselineOptions, ProtectedDomains } from '@kfm/migration-contracts';
import { cidOfBytes, cidOfJson, fingerprintOf } from '@kfm/receipts';
import { isReserved } from './manifest.js';

export const SERVER = { product: 'file tree', version: '1' };

export function directoryOf(file: string): string {
  const dir = path.posix.dirname(file);
  return dir === '.' ? '/' : dir;
}

export function fileObject(file: string, digest: string, kind: 'file' | 'symlink' = 'file'): BaselineObject {
  return { kind, name: file, scope: { files: [file], directories: [directoryOf(file)] }, digest };
}

/** Every file under `root`, relative, `/`-separated, sorted; `.kfm/` skipped. */
export async function listFiles(root: string): Promise<{ file: string; symlink: boolean }[]> {
  const entries = await fs.readdir(root, { withFileTypes: true, recursive: true });
  const files: { file: string; symlink: boolean }[] = [];
  for (const entry of entries) {
    const relative = path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
    if (isReserved(relative)) continue;
    if (entry.isFile() || entry.isSymbolicLink()) files.push({ file: relative, symlink: entry.isSymbolicLink() });
  }
  return files.sort((a, b) => compareText(a.file, b.file));
}

export function isProtectedObject(
  object: Pick<BaselineObject, 'scope'>,
  domains: ProtectedDomains | undefined,
): boolean {
  const list = (key: string) => (domains?.[key] as string[] | undefined) ?? [];
  return (
    matchesAny(list('files'), object.scope.files ?? []) ||
    matchesAny(list('directories'), object.scope.directories ?? [])
  );
}

/** A baseline from objects: counts, the schema fingerprint and the protected one (always present). */
export async function baselineOf(objects: BaselineObject[], options: BaselineOptions): Promise<Baseline> {
  const sorted = [...objects].sort((a, b) => compareText(a.kind, b.kind) || compareText(a.name, b.name));
  const domains = options.protected ?? options.declaration?.protected;
  const guarded = sorted.filter((object) => isProtectedObject(object, domains));
  return {
    kfm_baseline_version: 'v1',
    store: 'files',
    server: SERVER,
    ...(options.capturedAt ? { captured_at: options.capturedAt } : {}),
    counts: {
      files: sorted.filter((o) => o.kind === 'file').length,
      symlinks: sorted.filter((o) => o.kind === 'symlink').length,
      directories: new Set(sorted.map((o) => o.scope.directories?.[0])).size,
    },
    objects: sorted,
    fingerprints: { schema: await fingerprintOf(sorted), protected: await fingerprintOf(guarded) },
    protected: { objects: guarded.map((object) => `${object.kind}:${object.name}`) },
  } as Baseline;
}

export async function captureFiles(root: string, options: BaselineOptions): Promise<Baseline> {
  const objects: BaselineObject[] = [];
  const files = await listFiles(root);
  let done = 0;
  for (const { file, symlink } of files) {
    const absolute = path.join(root, file);
    objects.push(
      symlink
        ? fileObject(file, await cidOfJson({ target: await fs.readlink(absolute) }), 'symlink')
        : fileObject(file, await cidOfBytes(await fs.readFile(absolute))),
    );
    if (++done % 500 === 0)
      options.progress?.('baseline: files digested', { done, total: files.length, unit: 'files' });
  }
  options.progress?.(`baseline: ${files.length} file(s)`);
  return baselineOf(objects, options);
}
