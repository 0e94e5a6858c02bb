// The receipt chain of a store: every receipt the runner recorded in a store's ledger names the digest
// of the one recorded before it in `previous_receipt`, so removing or editing a receipt breaks the next
// link. verifyChain walks a directory of receipts, orders each store's chain and reports its first break.
//
// Chain members are receipts that carry `previous_receipt` (null for the first of a store). Receipts
// without the field — runs stopped before they held the store lock, rehearsals on a scratch copy, stores
// whose adapter cannot record receipts — were never recorded in a ledger and are not links.
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseJson, validateValue, type Issue, type RunReceipt } from '@kfm/migration-contracts';
import { RECEIPT_FILE } from './bundle-layout.js';
import { digestAlgorithmOf } from './digest-algorithms.js';

export interface ChainLink {
  /** Paths (relative to the walked directory) holding this receipt; the latest copy and the run's own. */
  files: string[];
  digest: string;
  run_id: string;
  migration_id: string;
  operation?: string;
  finished_at: string;
  previous_receipt: string | null;
}

export interface ChainBreak {
  chain: string;
  /** The receipt whose `previous_receipt` does not name its predecessor. */
  file: string;
  run_id: string;
  /** Digest of the predecessor found in the directory (null: none, this is the first). */
  expected: string | null;
  /** What the receipt names. */
  found: string | null;
  /** The predecessor's file, when there is one. */
  after?: string;
}

export interface Chain {
  /** `<store>/<environment>`: one ledger per store type and environment. */
  chain: string;
  links: ChainLink[];
  /** The digest of the newest receipt: compare with the store ledger's last receipt digest. */
  head: string;
  /** The first receipt's `previous_receipt` when it is not null: the directory starts mid-history. */
  starts_after?: string;
}

export interface ChainResult {
  ok: boolean;
  chains: Chain[];
  /** The first break of each broken chain, in chain order. */
  breaks: ChainBreak[];
  /** Receipts found that are not chain members (no previous_receipt), by file. */
  unchained: string[];
  issues: Issue[];
}

/** Finds every run_receipt.json under `dir`, groups chain members by store and checks each chain. */
export async function verifyChain(dir: string): Promise<ChainResult> {
  const root = path.resolve(dir);
  const issues: Issue[] = [];
  const unchained: string[] = [];
  const byDigest = new Map<string, ChainLink & { chain: string }>();
  for (const file of await receiptFiles(root)) {
    const name = path.relative(root, file).split(path.sep).join('/');
    const parsed = parseJson(await fs.readFile(file, 'utf8'), name);
    if (!parsed.ok) {
      issues.push(...parsed.issues);
      continue;
    }
    const schemaIssues = validateValue('run_receipt.v1', parsed.document.value, parsed.document);
    if (schemaIssues.length) {
      issues.push(...schemaIssues);
      continue;
    }
    const receipt = parsed.document.value as RunReceipt;
    const algorithm = digestAlgorithmOf(receipt, name);
    if (!algorithm.ok) {
      issues.push(algorithm.issue);
      continue;
    }
    if (!('previous_receipt' in receipt) || receipt.previous_receipt === undefined) {
      unchained.push(name);
      continue;
    }
    const digest = algorithm.algorithm.receipt(receipt);
    const known = byDigest.get(digest);
    if (known) {
      known.files.push(name);
      continue;
    }
    byDigest.set(digest, {
      chain: `${receipt.store ?? 'unknown'}/${receipt.environment.name}`,
      files: [name],
      digest,
      run_id: receipt.run_id,
      migration_id: receipt.migration_id ?? receipt.subject ?? receipt.operation ?? 'admin',
      ...(receipt.operation ? { operation: receipt.operation } : {}),
      finished_at: receipt.finished_at,
      previous_receipt: receipt.previous_receipt ?? null,
    });
  }

  const groups = new Map<string, ChainLink[]>();
  for (const { chain, ...link } of byDigest.values()) {
    link.files.sort(preferRunCopy);
    groups.set(chain, [...(groups.get(chain) ?? []), link]);
  }
  const chains: Chain[] = [];
  const breaks: ChainBreak[] = [];
  for (const [chain, links] of [...groups.entries()].sort(([a], [b]) => compare(a, b))) {
    // finished_at is stamped while the run holds the store lock, so it follows the order the ledger
    // recorded the receipts; started_at is taken before the lock and may interleave.
    links.sort((a, b) => compare(a.finished_at, b.finished_at) || compare(a.digest, b.digest));
    const first = links[0] as ChainLink;
    chains.push({
      chain,
      links,
      head: (links[links.length - 1] as ChainLink).digest,
      ...(first.previous_receipt ? { starts_after: first.previous_receipt } : {}),
    });
    for (let i = 1; i < links.length; i++) {
      const before = links[i - 1] as ChainLink;
      const link = links[i] as ChainLink;
      if (link.previous_receipt === before.digest) continue;
      const found: ChainBreak = {
        chain,
        file: link.files[0] as string,
        run_id: link.run_id,
        expected: before.digest,
        found: link.previous_receipt,
        after: before.files[0] as string,
      };
      breaks.push(found);
      issues.push({
        code: 'RECEIPT_DIGEST_MISMATCH',
        file: found.file,
        pointer: '/previous_receipt',
        message: `receipt chain ${chain} breaks here: previous_receipt does not name ${found.after} (a receipt between them was removed, or that one was edited)`,
        expected: before.digest,
        found: link.previous_receipt ?? 'null',
      });
      break;
    }
  }
  return { ok: issues.length === 0, chains, breaks, unchained: unchained.sort(), issues };
}

async function receiptFiles(root: string): Promise<string[]> {
  const entries = await fs.readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name === RECEIPT_FILE)
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

/** The run's own copy (receipts/runs/…) names the receipt better than the latest copy. */
function preferRunCopy(a: string, b: string): number {
  return Number(!a.includes('/runs/')) - Number(!b.includes('/runs/')) || compare(a, b);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
