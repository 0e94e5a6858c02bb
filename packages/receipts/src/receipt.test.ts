import { describe, expect, it } from 'vitest';
import { DIGEST_ALGORITHM, cidOfJson } from './digest.js';
import { buildReceiptRef, validateReceiptRef } from './receipt-ref.js';
import {
  buildRunReceipt,
  digestOfReceipt,
  runDirectoryName,
  validateRunReceipt,
  type BuildRunReceiptInput,
} from './receipt.js';

const CID_A = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';
const CID_B = 'bagaaierasords4njcts6vs7qvdjfcvgnume4hqohf65zsfguprqphs3icwea';

function input(overrides: Partial<BuildRunReceiptInput> = {}): BuildRunReceiptInput {
  return {
    migrationId: 'PG-MIG-2026-03-01-01',
    operation: 'apply',
    store: 'postgis',
    actor: { principal: 'svc:migrations-runner', role: 'pipeline' },
    environment: { name: 'stage', git_commit: '0123456789abcdef0123456789abcdef01234567', runner_version: '0.1.0' },
    params: { env: 'stage', dry_run: false, declaration: CID_A },
    inputs: [
      { path: 'rollback.sql', digest: CID_A, bytes: 40 },
      { path: 'forward.sql', digest: CID_A, bytes: 120 },
      { path: 'migration.yml', digest: CID_A },
    ],
    outputs: [
      { path: 'diffs/summary.json', digest: CID_B },
      { path: 'baselines/pre.json', digest: CID_B },
      { path: 'baselines/post.json', digest: CID_B },
    ],
    checks: [
      { name: 'scope_enforcement', status: 'pass', rule: 'scope' },
      { name: 'limit:max_table_count_touched', status: 'pass', rule: 'limit', declared: 1, observed: 1 },
    ],
    outcome: { status: 'committed', exit_code: 0 },
    fingerprints: { pre: CID_B, post: CID_B },
    policy: { policy_label: 'public', approval_ref: 'ADR-0042' },
    previousReceipt: null,
    startedAt: '2026-03-01T18:30:00Z',
    finishedAt: '2026-03-01T18:31:12Z',
    ...overrides,
  };
}

describe('buildRunReceipt', () => {
  it('builds a schema-valid receipt with every field, inputs and outputs sorted by path', async () => {
    const receipt = buildRunReceipt(input());
    expect(validateRunReceipt(receipt)).toEqual([]);
    expect(receipt.inputs.map((file) => file.path)).toEqual(['forward.sql', 'migration.yml', 'rollback.sql']);
    expect(receipt.outputs.map((file) => file.path)).toEqual([
      'baselines/post.json',
      'baselines/pre.json',
      'diffs/summary.json',
    ]);
    expect(receipt.environment.params_digest).toBe(
      await cidOfJson({ declaration: CID_A, dry_run: false, env: 'stage' }),
    );
    expect(receipt.digest_algorithm).toBe(DIGEST_ALGORITHM);
    expect(receipt.previous_receipt).toBeNull();
    expect(receipt.validation.status).toBe('pass');
    expect(receipt.outcome).toEqual({ status: 'committed', exit_code: 0 });
    expect(receipt.policy).toEqual({ policy_label: 'public', approval_ref: 'ADR-0042' });
    expect(receipt.run_id).toMatch(/^kfm:\/\/run\/2026-03-01T18:30:00Z\.migration\.PG-MIG-2026-03-01-01\.[0-9a-f]{8}$/);
  });

  it('is deterministic: same inputs and time give the same receipt and run id; other inputs or time do not', async () => {
    const a = buildRunReceipt(input());
    const b = buildRunReceipt(input({ inputs: [...input().inputs].reverse() }));
    expect(digestOfReceipt(a)).toBe(digestOfReceipt(b));
    const later = buildRunReceipt(input({ startedAt: '2026-03-01T18:40:00Z' }));
    const otherParams = buildRunReceipt(input({ params: { env: 'prod' } }));
    const otherScript = buildRunReceipt(input({ inputs: [{ path: 'forward.sql', digest: CID_B }] }));
    const ids = new Set([a.run_id, later.run_id, otherParams.run_id, otherScript.run_id]);
    expect(ids.size).toBe(4);
  });

  it('derives a failing validation status from a failed check and records the failure outcome', async () => {
    const receipt = buildRunReceipt(
      input({
        checks: [
          {
            name: 'scope_enforcement',
            status: 'fail',
            rule: 'scope',
            code: 'SCOPE_FORBIDDEN',
            pointer: '/scope/forbidden_tables/0',
          },
        ],
        outcome: { status: 'rolled_back', exit_code: 1, code: 'SCOPE_FORBIDDEN', message: 'forbidden table touched' },
        fingerprints: { pre: CID_B, post: CID_A, after_rollback: CID_B },
        previousReceipt: CID_B,
      }),
    );
    expect(validateRunReceipt(receipt)).toEqual([]);
    expect(receipt.validation.status).toBe('fail');
    expect(receipt.fingerprints).toEqual({ pre: CID_B, post: CID_A, after_rollback: CID_B });
    expect(receipt.previous_receipt).toBe(CID_B);
  });

  it('names per-run directories without characters file systems reject', async () => {
    const receipt = buildRunReceipt(input());
    const dir = runDirectoryName(receipt.run_id);
    expect(dir).toMatch(/^2026-03-01T18-30-00Z\.migration\.PG-MIG-2026-03-01-01\.[0-9a-f]{8}$/);
    expect(dir).not.toMatch(/[:/\\]/);
  });
});

describe('validateRunReceipt', () => {
  it('accepts the source README example once its placeholders hold real-looking values', () => {
    // The example from migrations-README.source.md, verbatim but for the <...> placeholders.
    const example = JSON.parse(`{
      "kfm_run_receipt_version": "v1",
      "run_id": "kfm://run/2026-03-01T18:30:00Z.migration.PG-MIG-2026-03-01-01.abcd1234",
      "run_type": "migration",
      "migration_id": "PG-MIG-2026-03-01-01",
      "actor": { "principal": "svc:migrations-runner", "role": "pipeline" },
      "environment": {
        "name": "stage",
        "git_commit": "9f2c1e4b7a6d5c3e2f1a0b9c8d7e6f5a4b3c2d1e",
        "container_digest": "sha256:4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b",
        "params_digest": "sha256:0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c"
      },
      "inputs": [
        { "path": "forward.sql", "digest": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
        { "path": "rollback.sql", "digest": "sha256:d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592" }
      ],
      "outputs": [
        { "path": "baselines/pre.json", "digest": "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae" },
        { "path": "baselines/post.json", "digest": "sha256:fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9" },
        { "path": "diffs/summary.json", "digest": "sha256:baa5a0964d3320fbc0c6a922140453c8513ea24ab8fd0577034804a967248096" }
      ],
      "validation": {
        "status": "pass",
        "checks": [
          { "name": "scope_enforcement", "status": "pass" },
          { "name": "protected_domain_fingerprint", "status": "pass" }
        ]
      },
      "policy": { "decision_id": "kfm://policy_decision/2026-03-01-0007", "policy_label": "public" },
      "started_at": "2026-03-01T18:30:00Z",
      "finished_at": "2026-03-01T18:31:12Z"
    }`);
    expect(validateRunReceipt(example)).toEqual([]);
  });

  it('reports a stable code and pointer for what is wrong', async () => {
    const receipt = { ...buildRunReceipt(input()), run_id: 'run-1', extra: true } as unknown;
    const codes = validateRunReceipt(receipt).map((issue) => `${issue.code} ${issue.pointer}`);
    expect(codes).toContain('SCHEMA_PATTERN /run_id');
    expect(codes).toContain('SCHEMA_UNKNOWN_FIELD /extra');
  });
});

describe('buildReceiptRef', () => {
  it('points at a receipt by digest and validates', async () => {
    const receipt = buildRunReceipt(input());
    const receiptDigest = digestOfReceipt(receipt);
    const ref = buildReceiptRef({
      receipt,
      receiptDigest,
      location: 's3://kfm-receipts/pg/run_receipt.json',
      bytes: 1234,
      storedAt: '2026-03-01T18:31:20Z',
    });
    expect(validateReceiptRef(ref)).toEqual([]);
    expect(ref).toEqual({
      kfm_receipt_ref_version: 'v1',
      run_id: receipt.run_id,
      migration_id: 'PG-MIG-2026-03-01-01',
      receipt_digest: receiptDigest,
      location: 's3://kfm-receipts/pg/run_receipt.json',
      media_type: 'application/json',
      bytes: 1234,
      stored_at: '2026-03-01T18:31:20Z',
    });
    expect(validateReceiptRef({ ...ref, receipt_digest: 'md5:abc' }).map((issue) => issue.code)).toEqual([
      'SCHEMA_PATTERN',
    ]);
  });
});
