import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunReceipt } from '@kfm/migration-contracts';
import { verifyChain } from './chain.js';
import { canonicalJson } from './digest.js';
import { buildRunReceipt, digestOfReceipt, runDirectoryName } from './receipt.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kfm-chain-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const DIGEST = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';

function receiptAt(
  minute: number,
  previous: string | null | undefined,
  options: { store?: string; id?: string } = {},
): RunReceipt {
  const at = `2026-03-01T18:${String(minute).padStart(2, '0')}:00Z`;
  return buildRunReceipt({
    migrationId: options.id ?? 'PG-MIG-2026-03-01-01',
    operation: minute % 2 ? 'rollback' : 'apply',
    store: options.store ?? 'postgis',
    actor: { principal: 'svc:ci' },
    environment: { name: 'dev' },
    params: { minute },
    inputs: [{ path: 'forward.sql', digest: DIGEST }],
    outputs: [],
    checks: [],
    outcome: { status: 'committed', exit_code: 0 },
    policy: {},
    ...(previous !== undefined ? { previousReceipt: previous } : {}),
    startedAt: at,
    finishedAt: at.replace(':00Z', ':30Z'),
  });
}

/** Writes a chain of `count` receipts into bundle directories, as the runner would, and returns them. */
async function writeChain(count: number, store = 'postgis'): Promise<{ receipts: RunReceipt[]; files: string[] }> {
  const receipts: RunReceipt[] = [];
  const files: string[] = [];
  let previous: string | null = null;
  for (let i = 0; i < count; i++) {
    const receipt = receiptAt(i, previous, { store, id: `PG-MIG-2026-03-01-0${(i % 2) + 1}` });
    const file = `${store}/${receipt.migration_id}/receipts/runs/${runDirectoryName(receipt.run_id)}/run_receipt.json`;
    await fs.mkdir(path.join(dir, path.dirname(file)), { recursive: true });
    await fs.writeFile(path.join(dir, file), canonicalJson(receipt));
    receipts.push(receipt);
    files.push(file);
    previous = digestOfReceipt(receipt);
  }
  return { receipts, files };
}

describe('verifyChain', () => {
  it('follows an intact chain across bundles and names its head', async () => {
    const { receipts, files } = await writeChain(5);
    // The latest copy of a bundle is the same receipt: one link, two files.
    await fs.writeFile(
      path.join(dir, 'postgis/PG-MIG-2026-03-01-01/receipts/run_receipt.json'),
      canonicalJson(receipts[4]),
    );
    const result = await verifyChain(dir);
    expect(result.issues).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.chains).toHaveLength(1);
    expect(result.chains[0]?.chain).toBe('postgis/dev');
    expect(result.chains[0]?.links.map((l) => l.files[0])).toEqual(files);
    expect(result.chains[0]?.links[4]?.files).toEqual([
      files[4],
      'postgis/PG-MIG-2026-03-01-01/receipts/run_receipt.json',
    ]);
    expect(result.chains[0]?.head).toBe(digestOfReceipt(receipts[4] as RunReceipt));
    expect(result.chains[0]?.starts_after).toBeUndefined();
  });

  it('reports the first break when a receipt in the middle is removed', async () => {
    const { receipts, files } = await writeChain(5);
    await fs.rm(path.join(dir, files[2] as string));
    const result = await verifyChain(dir);
    expect(result.ok).toBe(false);
    expect(result.breaks).toEqual([
      {
        chain: 'postgis/dev',
        file: files[3],
        run_id: receipts[3]?.run_id,
        expected: digestOfReceipt(receipts[1] as RunReceipt),
        found: digestOfReceipt(receipts[2] as RunReceipt),
        after: files[1],
      },
    ]);
    expect(result.issues).toEqual([
      expect.objectContaining({
        code: 'RECEIPT_DIGEST_MISMATCH',
        file: files[3],
        pointer: '/previous_receipt',
        expected: digestOfReceipt(receipts[1] as RunReceipt),
        found: digestOfReceipt(receipts[2] as RunReceipt),
      }),
    ]);
  });

  it('reports an edited receipt at the link after it, and only the first break', async () => {
    const { receipts, files } = await writeChain(6);
    const edited = { ...receipts[1], policy: { policy_label: 'restricted' } };
    await fs.writeFile(path.join(dir, files[1] as string), canonicalJson(edited));
    await fs.rm(path.join(dir, files[4] as string));
    const result = await verifyChain(dir);
    expect(result.breaks.map((b) => [b.file, b.expected, b.found])).toEqual([
      [files[2], digestOfReceipt(edited as RunReceipt), digestOfReceipt(receipts[1] as RunReceipt)],
    ]);
  });

  it('keeps one chain per store, skips receipts that were never recorded in a ledger, and notes a chain that starts mid-history', async () => {
    await writeChain(3, 'postgis');
    await writeChain(2, 'graph');
    const unchained = receiptAt(30, undefined);
    await fs.mkdir(path.join(dir, 'postgis/loose'), { recursive: true });
    await fs.writeFile(path.join(dir, 'postgis/loose/run_receipt.json'), canonicalJson(unchained));
    expect(unchained).not.toHaveProperty('previous_receipt');
    const suffix = receiptAt(40, DIGEST.replace('bafkrei', 'bagaaiera'), { store: 'search' });
    await fs.mkdir(path.join(dir, 'search'), { recursive: true });
    await fs.writeFile(path.join(dir, 'search/run_receipt.json'), canonicalJson(suffix));
    const result = await verifyChain(dir);
    expect(result.issues).toEqual([]);
    expect(result.chains.map((c) => `${c.chain}:${c.links.length}`)).toEqual([
      'graph/dev:2',
      'postgis/dev:3',
      'search/dev:1',
    ]);
    expect(result.unchained).toEqual(['postgis/loose/run_receipt.json']);
    expect(result.chains[2]?.starts_after).toBe(DIGEST.replace('bafkrei', 'bagaaiera'));
  });

  it('refuses receipts with an unknown digest algorithm or an invalid shape', async () => {
    await writeChain(2);
    await fs.writeFile(
      path.join(dir, 'run_receipt.json'),
      canonicalJson({ ...receiptAt(50, null), digest_algorithm: 'sha3-mystery' }),
    );
    await fs.mkdir(path.join(dir, 'x'));
    await fs.writeFile(path.join(dir, 'x/run_receipt.json'), '{"run_type": "migration"');
    const result = await verifyChain(dir);
    expect(result.issues.map((i) => `${i.code} ${i.file}`).sort()).toEqual(
      ['SCHEMA_ENUM run_receipt.json', 'YAML_SYNTAX x/run_receipt.json'].sort(),
    );
  });
});
