// Graph invariants a declaration asks for, each checked by one counting query in the database:
// no orphaned provenance node, every node of a label has its required relationship, and no node
// carries two mutually exclusive labels. Results are Check values; the diff reports them.
import type { Check, MigrationDeclaration } from '@kfm/migration-contracts';
import { rows, type CypherRunner } from './cypher-runner.js';
import { quoteName } from './scope.js';
import { toCount } from './neo4j-values.js';

type Invariants = NonNullable<MigrationDeclaration['invariants']>;
type Direction = 'out' | 'in' | 'any';

function check(name: string, pointer: string, declared: unknown, violations: number, what: string): Check {
  const base = { name, rule: 'invariant' as const, pointer, declared, observed: violations };
  if (violations === 0) return { ...base, status: 'pass', message: `holds: no ${what}` };
  return { ...base, status: 'fail', code: 'INVARIANT_FAILED', message: `${violations} ${what}` };
}

async function count(runner: CypherRunner, query: string, parameters: Record<string, unknown> = {}): Promise<number> {
  return toCount((await rows(runner, query, parameters))[0]?.violations);
}

function arrow(type: string, direction: Direction): string {
  const relationship = `[:${quoteName(type)}]`;
  return direction === 'out'
    ? `-${relationship}->()`
    : direction === 'in'
      ? `<-${relationship}-()`
      : `-${relationship}-()`;
}

/** One check per declared invariant (exclusive label groups: one check per group). */
export async function invariantChecks(runner: CypherRunner, invariants: Invariants | undefined): Promise<Check[]> {
  if (!invariants) return [];
  const checks: Check[] = [];
  const provenance = invariants.provenance_label;
  if (provenance) {
    const violations = await count(
      runner,
      `MATCH (p:${quoteName(provenance)}) WHERE NOT EXISTS { (p)--() } RETURN count(p) AS violations`,
    );
    checks.push(
      check(
        `invariant.provenance_not_orphaned:${provenance}`,
        '/invariants/provenance_label',
        provenance,
        violations,
        `orphaned ${provenance} node(s) (no relationship at all)`,
      ),
    );
  }
  for (const [index, required] of (invariants.required_relationships ?? []).entries()) {
    const direction: Direction = required.direction ?? 'any';
    const shape =
      direction === 'out'
        ? `-[${required.type}]->`
        : direction === 'in'
          ? `<-[${required.type}]-`
          : `-[${required.type}]-`;
    const violations = await count(
      runner,
      `MATCH (n:${quoteName(required.label)}) WHERE NOT EXISTS { (n)${arrow(required.type, direction)} } RETURN count(n) AS violations`,
    );
    checks.push(
      check(
        `invariant.required_relationship:(${required.label})${shape}`,
        `/invariants/required_relationships/${index}`,
        required,
        violations,
        `${required.label} node(s) without ${shape}`,
      ),
    );
  }
  for (const [index, group] of (invariants.exclusive_labels ?? []).entries()) {
    // Each violating node is counted once: under the first group label it carries.
    let violations = 0;
    for (let i = 0; i + 1 < group.length; i++) {
      violations += await count(
        runner,
        `MATCH (n:${quoteName(group[i] as string)}) WHERE none(l IN $before WHERE l IN labels(n)) AND any(l IN $after WHERE l IN labels(n)) RETURN count(n) AS violations`,
        { before: group.slice(0, i), after: group.slice(i + 1) },
      );
    }
    checks.push(
      check(
        `invariant.exclusive_labels:${group.join('+')}`,
        `/invariants/exclusive_labels/${index}`,
        group,
        violations,
        `node(s) carrying more than one of ${group.join(', ')}`,
      ),
    );
  }
  return checks;
}
