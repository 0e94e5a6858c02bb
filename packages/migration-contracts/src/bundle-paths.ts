// Confines artifact paths to their bundle: no absolute paths, no `..`, no symlink escaping.
// Symlinks are followed one path component at a time, the way the kernel does, so a link that
// leaves the bundle is refused even when its target does not exist (yet).
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Issue } from './errors.js';

export type ResolveResult = { ok: true; path: string; exists: boolean } | { ok: false; issue: Issue };

/** Linux's own limit on symlinks followed while resolving one path (ELOOP). */
const MAX_SYMLINK_HOPS = 40;
/** A backslash is an ordinary file-name character on POSIX, a separator on Windows. */
const SEPARATORS = path.sep === '\\' ? /[\\/]/ : /\//;

/** Resolves `relative` inside `bundleDir`, refusing anything that could leave the bundle. */
export async function resolveInBundle(bundleDir: string, relative: string): Promise<ResolveResult> {
  if (path.isAbsolute(relative) || /^[a-zA-Z]:[\\/]/.test(relative) || relative.startsWith('\\')) {
    return {
      ok: false,
      issue: {
        code: 'ARTIFACT_PATH_ABSOLUTE',
        message: 'artifact paths must be relative to the bundle',
        expected: 'a relative path',
        found: 'an absolute path',
      },
    };
  }
  if (relative.split(/[\\/]/).includes('..')) {
    return {
      ok: false,
      issue: {
        code: 'ARTIFACT_PATH_TRAVERSAL',
        message: 'artifact paths must stay inside the bundle',
        expected: 'a path without ..',
        found: JSON.stringify(relative),
      },
    };
  }
  const root = await fs.realpath(bundleDir);
  const resolved = await follow(root, relative);
  if (resolved.loop || !isInside(root, resolved.path)) {
    return {
      ok: false,
      issue: {
        code: 'ARTIFACT_PATH_SYMLINK_ESCAPE',
        message: resolved.loop
          ? 'the artifact path is a symlink loop'
          : resolved.exists
            ? 'the artifact is a symlink that resolves outside the bundle'
            : 'a symlink on the artifact path leads outside the bundle',
        expected: 'a path inside the bundle',
        found: JSON.stringify(relative),
      },
    };
  }
  return { ok: true, path: resolved.path, exists: resolved.exists };
}

/**
 * Walks `relative` from `root`, replacing each symlink by its target. When a component is missing
 * the rest is appended as is: that is where a read or write of the path would land.
 */
async function follow(root: string, relative: string): Promise<{ path: string; exists: boolean; loop: boolean }> {
  const pending = relative.split(SEPARATORS).filter((s) => s !== '' && s !== '.');
  let current = root;
  let hops = 0;
  while (pending.length > 0) {
    const segment = pending.shift() as string;
    if (segment === '..') {
      // Only link targets can bring `..` here; it applies to the already-resolved directory.
      current = path.dirname(current);
      continue;
    }
    const candidate = path.join(current, segment);
    let isLink: boolean;
    try {
      isLink = (await fs.lstat(candidate)).isSymbolicLink();
    } catch {
      return { path: path.join(candidate, ...pending), exists: false, loop: false };
    }
    if (!isLink) {
      current = candidate;
      continue;
    }
    if (++hops > MAX_SYMLINK_HOPS) return { path: candidate, exists: false, loop: true };
    const target = await fs.readlink(candidate);
    if (path.isAbsolute(target)) current = path.parse(target).root;
    pending.unshift(...target.split(SEPARATORS).filter((s) => s !== '' && s !== '.'));
  }
  return { path: current, exists: true, loop: false };
}

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
