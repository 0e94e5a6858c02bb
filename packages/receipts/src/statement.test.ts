import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { validateValue, type RunReceipt } from '@kfm/migration-contracts';
import { canonicalJson, cidOfScript, inspectCid } from './digest.js';
import { digestInputBytes } from './file-digest.js';
import { buildRunReceipt } from './receipt.js';
import { buildStatement, bundleDigest, RUN_RECEIPT_PREDICATE_TYPE, STATEMENT_TYPE } from './statement.js';

const SCRIPT = 'ALTER TABLE public.parcels ADD COLUMN note text;\n-- é ünïcode\nSELECT 1;\n';
const encode = (text: string) => new TextEncoder().encode(text);

async function inputsFor(forward: Uint8Array) {
  return [
    { path: 'migration.yml', digest: await digestInputBytes(encode('migration_id: PG-MIG-2026-03-01-01\n')) },
    { path: 'forward.sql', digest: await digestInputBytes(forward) },
    { path: 'rollback.sql', digest: await digestInputBytes(encode('ALTER TABLE public.parcels DROP COLUMN note;\n')) },
  ];
}

function receipt(inputs: { path: string; digest: string }[], outputs: { path: string; digest: string }[]): RunReceipt {
  return buildRunReceipt({
    migrationId: 'PG-MIG-2026-03-01-01',
    operation: 'apply',
    store: 'postgis',
    actor: { principal: 'svc:ci' },
    environment: { name: 'dev' },
    params: {},
    inputs,
    outputs,
    checks: [],
    outcome: { status: 'committed', exit_code: 0 },
    policy: {},
    previousReceipt: null,
    startedAt: '2026-03-01T18:30:00Z',
    finishedAt: '2026-03-01T18:31:12Z',
  });
}

describe('bundleDigest', () => {
  it('does not change with CRLF, CR or a UTF-8 BOM in a script, and changes with its content', async () => {
    const lf = bundleDigest(await inputsFor(encode(SCRIPT)));
    const crlf = bundleDigest(await inputsFor(encode(SCRIPT.replace(/\n/g, '\r\n'))));
    const cr = bundleDigest(await inputsFor(encode(SCRIPT.replace(/\n/g, '\r'))));
    const bom = bundleDigest(
      await inputsFor(new Uint8Array([0xef, 0xbb, 0xbf, ...encode(SCRIPT.replace(/\n/g, '\r\n'))])),
    );
    expect(new Set([lf, crlf, cr, bom]).size).toBe(1);
    expect(await cidOfScript(SCRIPT.replace(/\n/g, '\r\n'))).toBe(await cidOfScript(`\uFEFF${SCRIPT}`));
    expect(bundleDigest(await inputsFor(encode(SCRIPT.replace('note', 'notes'))))).not.toBe(lf);
    expect(lf).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is order independent and equals sha256 of the jq one-liner the docs give', async () => {
    const inputs = await inputsFor(encode(SCRIPT));
    expect(bundleDigest([...inputs].reverse())).toBe(bundleDigest(inputs));
    // jq -cj '[.inputs[] | {digest, path}] | sort_by(.path)': compact JSON, keys as listed (d < p).
    const jqText = JSON.stringify(
      [...inputs].sort((a, b) => a.path.localeCompare(b.path)).map((i) => ({ digest: i.digest, path: i.path })),
    );
    expect(createHash('sha256').update(jqText).digest('hex')).toBe(bundleDigest(inputs));
  });
});

describe('buildStatement', () => {
  it('names the bundle as subject, PRE as resolved dependency and the rest plus PROV as byproducts', async () => {
    const inputs = await inputsFor(encode(SCRIPT));
    const outputs = [
      {
        path: 'receipts/runs/r/baselines/pre.json',
        digest: 'bagaaierasords4njcts6vs7qvdjfcvgnume4hqohf65zsfguprqphs3icwea',
      },
      {
        path: 'receipts/runs/r/baselines/post.json',
        digest: 'bagaaieraxfasttvzkxdhljabl5ywq3ezyhn6fhbvp7qe4pxuavizhxzf3l3q',
      },
      {
        path: 'receipts/runs/r/diffs/touched.csv',
        digest: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy',
      },
    ];
    const r = receipt(inputs, outputs);
    const prov = 'bagaaierau2qpdkc55olrmvbzmtpeshdgzjg7j3qnxgbhcjpjsqzeukyt2xkq';
    const statement = buildStatement({ receipt: r, bundleDigest: bundleDigest(inputs), provDigest: prov });
    expect(statement._type).toBe(STATEMENT_TYPE);
    expect(statement.predicateType).toBe(RUN_RECEIPT_PREDICATE_TYPE);
    expect(statement.subject).toEqual([{ name: 'PG-MIG-2026-03-01-01', digest: { sha256: bundleDigest(inputs) } }]);
    expect(statement.predicate.receipt).toBe(r);
    expect(statement.predicate.resolvedDependencies.map((d) => d.name)).toEqual(['receipts/runs/r/baselines/pre.json']);
    expect(statement.predicate.resolvedDependencies[0]?.digest.sha256).toBe(inspectCid(outputs[0]!.digest).sha256Hex);
    const runDir = 'receipts/runs/2026-03-01T18-30-00Z.migration.PG-MIG-2026-03-01-01.' + r.run_id.slice(-8);
    expect(statement.predicate.byproducts.map((d) => `${d.name} ${d.mediaType}`)).toEqual([
      `${runDir}/prov.jsonld application/ld+json`,
      'receipts/runs/r/baselines/post.json application/json',
      'receipts/runs/r/diffs/touched.csv text/csv',
    ]);
    expect(validateValue('run_receipt_statement.v1', statement)).toEqual([]);
    expect(canonicalJson(buildStatement({ receipt: r, bundleDigest: bundleDigest(inputs), provDigest: prov }))).toBe(
      canonicalJson(statement),
    );
  });
});
