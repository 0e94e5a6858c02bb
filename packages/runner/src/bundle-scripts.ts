// Reads a bundle's scripts once, with their digests; the same bytes go to preflight, apply and the receipt.
import fs from 'node:fs/promises';
import path from 'node:path';
import { cidOfScript } from '@kfm/receipts';
import type { LoadedDeclaration, ScriptFile } from '@kfm/migration-contracts';

export async function readScripts(loaded: LoadedDeclaration, which: 'forward' | 'rollback'): Promise<ScriptFile[]> {
  const files = which === 'forward' ? loaded.forward : loaded.rollback;
  return Promise.all(files.map(async (file) => {
    const text = await fs.readFile(file, 'utf8');
    return { path: path.relative(loaded.bundleDir, file).split(path.sep).join('/'), text, digest: await cidOfScript(text) };
  }));
}

/** One digest for the whole forward change: the bundle's identity in the ledger. */
export async function forwardDigest(scripts: ScriptFile[]): Promise<string> {
  if (scripts.length === 1 && scripts[0]) return scripts[0].digest;
  return cidOfScript(scripts.map((s) => `${s.path}\n${s.digest}`).join('\n'));
}
