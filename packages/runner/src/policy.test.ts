import { describe, expect, it } from 'vitest';
import type { MigrationDeclaration } from '@kfm/migration-contracts';
import { effectiveProtected, governanceGates } from './policy.js';

const declaration = (over: Partial<MigrationDeclaration> = {}): MigrationDeclaration => ({
  migration_id: 'PG-MIG-2026-11-24-01', type: 'postgis', intent: 'x', scope: {}, limits: {}, requires_rollback: true,
  approvals: {}, runner: {}, artifacts: { forward: ['forward.sql'], rollback: ['rollback.sql'] }, ...over,
});

describe('effectiveProtected', () => {
  it('is the union of repository policy and declaration; a declaration cannot remove a domain', () => {
    const policy = { kfm_policy_version: 'v1' as const, protected: { schemas: ['governance'], labels: [{ label: 'AuthoritySite', key: 'site_id' }] } };
    const result = effectiveProtected(policy, declaration({ protected: { schemas: ['audit'], tables: ['authority_sites'] } }));
    expect(result).toEqual({ schemas: ['audit', 'governance'], tables: ['authority_sites'], labels: [{ label: 'AuthoritySite', key: 'site_id' }] });
    expect(effectiveProtected(policy, declaration({ protected: {} })).schemas).toEqual(['governance']);
  });
});

describe('governanceGates', () => {
  it('refuses prod without an approval reference and passes it with one', () => {
    const gate = (env: 'dev' | 'prod', approval?: string) => governanceGates(declaration(), { environment: env, ...(approval ? { approval } : {}) }).find((c) => c.name === 'environment_approval');
    expect(gate('dev')?.status).toBe('pass');
    expect(gate('prod')).toMatchObject({ status: 'fail', code: 'POLICY_ENV_APPROVAL' });
    expect(gate('prod', 'CAB-1234')?.status).toBe('pass');
  });

  it('checks the rollback posture', () => {
    const posture = (d: MigrationDeclaration) => governanceGates(d, { environment: 'dev' }).find((c) => c.name === 'rollback_posture');
    expect(posture(declaration())?.status).toBe('pass');
    expect(posture(declaration({ artifacts: { forward: ['forward.sql'] } }))).toMatchObject({ status: 'fail', code: 'ROLLBACK_ARTIFACT_MISSING' });
    expect(posture(declaration({ requires_rollback: false, artifacts: { forward: ['f.sql'] } }))).toMatchObject({ status: 'fail', code: 'IRREVERSIBLE_WITHOUT_APPROVAL' });
    expect(posture(declaration({ requires_rollback: false, approvals: { irreversibility_ref: 'ADR-7' }, artifacts: { forward: ['f.sql'] } }))?.status).toBe('pass');
  });
});
