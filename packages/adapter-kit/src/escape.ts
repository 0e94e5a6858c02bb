// One shape for every store's escape findings: a statement refused by a stable rule id unless the policy's
// exception for this bundle allows that rule (with an approval reference). Preflight of each store decides
// what an escape is; this decides how it reads in plan.json, the receipt and the CLI.
import type { Check } from '@kfm/migration-contracts';

export interface Escape {
  /** Stable rule id (`dynamic-sql`, `unlabeled-write`, `reindex-routing`, …). */
  rule: string;
  message: string;
}

export function escapeCheck(found: Escape, where: string, allowed: ReadonlySet<string>): Check {
  const name = `preflight:${found.rule}:${where}`;
  if (allowed.has(found.rule)) {
    return {
      name,
      rule: 'preflight',
      status: 'pass',
      observed: found.rule,
      message: `${where} ${found.message}; allowed by the policy's exception for this bundle`,
    };
  }
  return {
    name,
    rule: 'preflight',
    status: 'fail',
    code: 'PREFLIGHT_FORBIDDEN',
    pointer: '/exceptions',
    observed: found.rule,
    message: `${where} ${found.message} [${found.rule}]; refused unless the policy allows rule ${found.rule} for this bundle with an approval reference`,
  };
}
