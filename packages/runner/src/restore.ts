// Rollback verification: after a rollback the store's fingerprints must equal PRE's. With the apply's
// PRE baseline both the schema and the protected fingerprints are compared; with only the PRE fingerprint
// a crashed non-transactional run left in the ledger, the schema fingerprint.
import type { Baseline, Check } from '@kfm/migration-contracts';

export function verifyRestored(
  pre: Baseline | { fingerprints: { schema: string; protected?: string } },
  after: Baseline,
): Check {
  const protectedKnown = 'objects' in pre || pre.fingerprints.protected !== undefined;
  const sameSchema = pre.fingerprints.schema === after.fingerprints.schema;
  const sameProtected =
    !protectedKnown || (pre.fingerprints.protected ?? null) === (after.fingerprints.protected ?? null);
  const sameContent =
    !('objects' in pre) ||
    JSON.stringify(pre.protected?.content ?? {}) === JSON.stringify(after.protected?.content ?? {});
  const same = sameSchema && sameProtected && sameContent;
  return {
    name: 'rollback_restored_pre',
    rule: 'rollback',
    status: same ? 'pass' : 'fail',
    ...(same ? {} : { code: 'ROLLBACK_UNVERIFIED' }),
    declared: pre.fingerprints.schema,
    observed: after.fingerprints.schema,
    message: same
      ? 'store fingerprint equals PRE'
      : !sameSchema
        ? 'store fingerprint differs from PRE after rollback'
        : 'protected domains differ from PRE after rollback (schema fingerprint equal)',
  };
}
