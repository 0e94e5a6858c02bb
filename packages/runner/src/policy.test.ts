import { describe, expect, it } from 'vitest';
import type { MigrationDeclaration, Policy } from '@kfm/migration-contracts';
import { combinePolicies, timeoutIssues } from './policy.js';
import { governanceGates } from './registry-gates.js';
import type { RegistryEntry } from './migrations-registry.js';

const declaration = (over: Partial<MigrationDeclaration> = {}): MigrationDeclaration => ({
  migration_id: 'PG-MIG-2026-11-24-01',
  type: 'postgis',
  intent: 'x',
  scope: {},
  limits: {},
  requires_rollback: true,
  approvals: { required_reviewers: ['kfm-platform', 'kfm-governance'] },
  runner: {},
  artifacts: { forward: ['forward.sql'], rollback: ['rollback.sql'] },
  ...over,
});
const digest = 'sha256:' + 'a'.repeat(64);
const edited = 'sha256:' + 'b'.repeat(64);
const entry = (over: Partial<RegistryEntry> = {}): RegistryEntry => ({
  migration_id: 'PG-MIG-2026-11-24-01',
  type: 'postgis',
  path: 'postgis/PG-MIG-2026-11-24-01',
  status: 'draft',
  history: [{ status: 'draft', at: '2026-11-24T00:00:00Z' }],
  ...over,
});
const approvals = (bundle: string) => [
  { reviewer: 'kfm-platform', ref: 'PR-1#review', at: '2026-11-24T01:00:00Z', bundle_digest: bundle },
  { reviewer: 'kfm-governance', ref: 'CAB-7', at: '2026-11-24T02:00:00Z', bundle_digest: bundle },
];
const none: Policy = { kfm_policy_version: 'v1' };

function gate(
  environment: 'dev' | 'stage' | 'prod',
  registry: RegistryEntry | undefined,
  options: { approval?: string; policy?: Policy; bundle?: string } = {},
) {
  return governanceGates({
    environment,
    declaration: declaration(),
    entry: registry,
    bundleDigest: options.bundle ?? digest,
    policy: combinePolicies([options.policy ?? none]),
    ...(options.approval ? { approval: options.approval } : {}),
  }).find((c) => c.name === 'environment_approval');
}

describe('combinePolicies', () => {
  it('adds protected domains up and keeps the stricter of every setting', () => {
    const repository: Policy = {
      kfm_policy_version: 'v1',
      protected: { schemas: ['governance'], labels: [{ label: 'AuthoritySite', key: 'site_id' }] },
      environments: { prod: { require_stage: false } },
      timeouts: { max_lock_timeout: '20s' },
      trusted_keys: ['sha256:1', 'sha256:2'],
    };
    const store: Policy = {
      kfm_policy_version: 'v1',
      protected: { schemas: ['audit'], tables: ['authority_sites'] },
      timeouts: { max_lock_timeout: '10s' },
      require_signatures: true,
      trusted_keys: ['sha256:2', 'sha256:3'],
    };
    const combined = combinePolicies([repository, store]);
    expect(combined.protected).toEqual({
      labels: [{ label: 'AuthoritySite', key: 'site_id' }],
      schemas: ['audit', 'governance'],
      tables: ['authority_sites'],
    });
    // The store's policy omits require_stage, so its default (required) wins over the repository's false.
    expect(combined.environments?.prod?.require_stage).toBe(true);
    expect(combined.timeouts?.max_lock_timeout).toBe('10s');
    expect(combined.require_signatures).toBe(true);
    expect(combined.trusted_keys).toEqual(['sha256:2']);
    expect(combinePolicies([repository]).environments?.prod?.require_stage).toBe(false);
  });
});

describe('timeoutIssues', () => {
  it('refuses waits above the policy maxima (defaults 30s and 60min) and accepts those within', () => {
    expect(timeoutIssues(declaration({ runner: { lock_timeout: '5s', statement_timeout: '10min' } }), none)).toEqual(
      [],
    );
    expect(timeoutIssues(declaration({ runner: { lock_timeout: '31s' } }), none)).toMatchObject([
      { code: 'POLICY_LIMIT', pointer: '/runner/lock_timeout', expected: '> 0 and <= 30s', found: '31s' },
    ]);
    expect(
      timeoutIssues(declaration({ runner: { statement_timeout: '2h' } }), {
        kfm_policy_version: 'v1',
        timeouts: { max_statement_timeout: '90min' },
      }),
    ).toMatchObject([{ pointer: '/runner/statement_timeout' }]);
  });
});

describe('environment gates', () => {
  it('lets dev run drafts unless the policy forbids it', () => {
    expect(gate('dev', entry())?.status).toBe('pass');
    expect(
      gate('dev', entry(), { policy: { kfm_policy_version: 'v1', environments: { dev: { allow_drafts: false } } } }),
    ).toMatchObject({ status: 'fail', code: 'POLICY_APPROVAL' });
  });

  it('refuses stage for a draft, and for approvals of another bundle digest (an edit voids them)', () => {
    expect(gate('stage', entry())).toMatchObject({ status: 'fail', code: 'POLICY_APPROVAL' });
    const approved = entry({ status: 'approved', approvals: approvals(digest) });
    expect(gate('stage', approved)?.status).toBe('pass');
    expect(gate('stage', approved, { bundle: edited })).toMatchObject({ status: 'fail', code: 'POLICY_APPROVAL' });
    expect(gate('stage', entry({ status: 'approved', approvals: approvals(digest).slice(0, 1) }))?.message).toMatch(
      /kfm-governance/,
    );
    expect(gate('stage', undefined)).toMatchObject({ status: 'fail' });
  });

  it('needs, for prod, a recorded approval reference and an earlier stage run', () => {
    const staged = entry({
      status: 'executed_stage',
      approvals: approvals(digest),
      history: [
        { status: 'draft', at: 'x' },
        { status: 'approved', at: 'y' },
        { status: 'executed_stage', at: 'z', bundle_digest: digest },
      ],
    });
    expect(gate('prod', staged)).toMatchObject({ status: 'fail', code: 'POLICY_APPROVAL' });
    expect(gate('prod', staged, { approval: 'whatever' })).toMatchObject({ status: 'fail' });
    expect(gate('prod', staged, { approval: 'CAB-7' })?.status).toBe('pass');
    const approvedOnly = entry({ status: 'approved', approvals: approvals(digest) });
    expect(gate('prod', approvedOnly, { approval: 'CAB-7' })?.message).toMatch(/executed_stage/);
    expect(
      gate('prod', approvedOnly, {
        approval: 'CAB-7',
        policy: { kfm_policy_version: 'v1', environments: { prod: { require_stage: false } } },
      })?.status,
    ).toBe('pass');
  });

  it('checks the rollback posture', () => {
    const posture = (d: MigrationDeclaration) =>
      governanceGates({
        environment: 'dev',
        declaration: d,
        entry: undefined,
        bundleDigest: digest,
        policy: none,
      }).find((c) => c.name === 'rollback_posture');
    expect(posture(declaration())?.status).toBe('pass');
    expect(posture(declaration({ artifacts: { forward: ['forward.sql'] } }))).toMatchObject({
      status: 'fail',
      code: 'ROLLBACK_ARTIFACT_MISSING',
    });
    expect(posture(declaration({ requires_rollback: false, artifacts: { forward: ['f.sql'] } }))).toMatchObject({
      status: 'fail',
      code: 'IRREVERSIBLE_WITHOUT_APPROVAL',
    });
    expect(
      posture(
        declaration({
          requires_rollback: false,
          approvals: { irreversibility_ref: 'ADR-7' },
          artifacts: { forward: ['f.sql'] },
        }),
      )?.status,
    ).toBe('pass');
  });
});
