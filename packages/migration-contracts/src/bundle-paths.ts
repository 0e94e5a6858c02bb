// Confines artifact paths to their bundle: no absolute paths, no `..`, no symlink escaping.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Issue } from './errors.js';

export type ResolveResult = { ok: true; path: string; exists: boolean } | { ok: false; issue: Issue };

/** Resolves `relative` inside `bundleDir`, refusing anything that could leave the bundle. */
export async function resolveInBundle(bundleDir: string, relative: string): Promise<ResolveResult> {
  if (path.isAbsolute(relative) || /^[a-zA-Z]:[\\/]/.test(relative) || relative.startsWith('\\')) {
    return { ok: false, issue: { code: 'ARTIFACT_PATH_ABSOLUTE', message: 'artifact paths must be relative to the bundle', expected: 'a relative path', found: 'an absolute path' } };
  }
  if (relative.split(/[\\/]/).includes('..')) {
    return { ok: false, issue: { code: 'ARTIFACT_PATH_TRAVERSAL', message: 'artifact paths must stay inside the bundle', expected: 'a path without ..', found: JSON.stringify(relative) } };
  }
  const root = await fs.realpath(bundleDir);
  const target = path.join(root, relative);
  let real: string;
  try {
    real = await fs.realpath(target);
  } catch {
    // Not there yet (an output): its parent must still be inside the bundle.
    const parent = await realParent(target);
    if (parent && !isInside(root, parent)) {
      return { ok: false, issue: { code: 'ARTIFACT_PATH_SYMLINK_ESCAPE', message: 'a directory on the artifact path is a symlink leaving the bundle', expected: 'a path inside the bundle', found: JSON.stringify(relative) } };
    }
    return { ok: true, path: target, exists: false };
  }
  if (!isInside(root, real)) {
    return { ok: false, issue: { code: 'ARTIFACT_PATH_SYMLINK_ESCAPE', message: 'the artifact is a symlink that resolves outside the bundle', expected: 'a file inside the bundle', found: JSON.stringify(relative) } };
  }
  return { ok: true, path: real, exists: true };
}

async function realParent(target: string): Promise<string | undefined> {
  let dir = path.dirname(target);
  for (;;) {
    try {
      return await fs.realpath(dir);
    } catch {
      const up = path.dirname(dir);
      if (up === dir) return undefined;
      dir = up;
    }
  }
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}
