// The only way artifacts reach disk: every file is serialized (objects as RFC 8785 canonical JSON) and
// scanned first, and nothing at all is written if any file has a policy hit or an unsafe path. Each file
// is written atomically (temp file + rename), so a reader never sees half an artifact.
import fs from 'node:fs/promises';
import path from 'node:path';
import { resolveInBundle, type Issue } from '@kfm/migration-contracts';
import { canonicalJson } from './digest.js';
import { digestOutputBytes } from './file-digest.js';
import { assertPolicySafe, policyFindingToIssue, type PolicyFinding } from './policy-scan.js';

export interface ArtifactFile {
  /** Path relative to the bundle directory, `/`-separated. */
  path: string;
  /** Text is written as is; anything else is written as canonical JSON (no trailing newline). */
  content: string | object;
}

export interface WrittenArtifact {
  path: string;
  digest: string;
  bytes: number;
}

export type WriteArtifactsResult =
  | { ok: true; written: WrittenArtifact[] }
  | { ok: false; findings: PolicyFinding[]; issues: Issue[] };

/** The exact text an artifact is written as. */
export function serializeArtifact(content: string | object): string {
  return typeof content === 'string' ? content : canonicalJson(content);
}

let tempCounter = 0;

export async function writeArtifacts(bundleDir: string, files: readonly ArtifactFile[]): Promise<WriteArtifactsResult> {
  const prepared = files.map((file) => ({ path: file.path, text: serializeArtifact(file.content) }));

  const issues: Issue[] = [];
  const seen = new Set<string>();
  for (const file of prepared) {
    const key = path.posix.normalize(file.path.replace(/\\/g, '/'));
    if (seen.has(key))
      issues.push({
        code: 'ARGUMENT_INVALID',
        file: file.path,
        message: 'the same artifact path is listed twice',
        expected: 'each path once',
      });
    seen.add(key);
  }

  const scan = await assertPolicySafe(prepared.map((file) => ({ path: file.path, content: file.text })));
  issues.push(...scan.findings.map(policyFindingToIssue));
  if (issues.length > 0) return { ok: false, findings: scan.findings, issues };

  // Only now may the bundle directory itself be created: a scan hit leaves the file system untouched.
  await fs.mkdir(bundleDir, { recursive: true });
  const targets: string[] = [];
  for (const file of prepared) {
    const resolved = await resolveInBundle(bundleDir, file.path);
    if (!resolved.ok) issues.push({ ...resolved.issue, file: file.path });
    else targets.push(resolved.path);
  }
  if (issues.length > 0) return { ok: false, findings: [], issues };

  const written: WrittenArtifact[] = [];
  for (const [i, file] of prepared.entries()) {
    const target = targets[i] as string;
    const bytes = Buffer.from(file.text, 'utf8');
    await fs.mkdir(path.dirname(target), { recursive: true });
    // The temp file sits beside the target so the rename stays on one file system (and is atomic).
    const temp = path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${++tempCounter}`);
    try {
      await fs.writeFile(temp, bytes, { flag: 'wx' });
      await fs.rename(temp, target);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
    written.push({ path: file.path, digest: await digestOutputBytes(file.path, bytes), bytes: bytes.length });
  }
  written.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { ok: true, written };
}
