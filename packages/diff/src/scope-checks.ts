// Scope rules: for every governed dimension, one `forbidden_<dim>` check and one `allowed_<dim>`
// check. A touched object is judged by every name it has in the dimension (canonical and aliases),
// forbidden beats allowed, and a dimension with no allowed_* key allows nothing (fail closed).
import type { Check, MigrationDeclaration } from '@kfm/migration-contracts';
import type { BaselineDiff } from './baseline-diff.js';
import { firstMatchingPattern as firstMatch } from '@kfm/migration-contracts';

type ScopeRules = Readonly<Record<string, readonly string[] | undefined>>;

/** At most this many names are spelled out in a message; the full list is in `observed`. */
const MESSAGE_NAMES = 10;

export function listNames(names: readonly string[]): string {
  const shown = names.slice(0, MESSAGE_NAMES).join(', ');
  return names.length > MESSAGE_NAMES ? `${shown} … and ${names.length - MESSAGE_NAMES} more` : shown;
}

function namesOf(diff: Pick<BaselineDiff, 'names'>, dimension: string, canonical: string): readonly string[] {
  return diff.names[dimension]?.[canonical] ?? [canonical];
}

function forbiddenCheck(rules: ScopeRules, dimension: string, diff: Pick<BaselineDiff, 'touched' | 'names'>): Check {
  const key = `forbidden_${dimension}`;
  const patterns = rules[key] ?? [];
  const touched = diff.touched[dimension] ?? [];
  const hits =
    patterns.length === 0
      ? []
      : touched.filter((canonical) => firstMatch(namesOf(diff, dimension, canonical), patterns) !== undefined);
  const base = {
    name: `scope.${key}`,
    rule: 'scope' as const,
    declared: [...patterns],
    observed: hits,
    pointer: `/scope/${key}`,
  };
  if (hits.length === 0) {
    const message =
      patterns.length === 0
        ? `no ${key} declared; ${touched.length} ${dimension} touched`
        : `none of ${touched.length} touched ${dimension} matches ${key}`;
    return { ...base, status: 'pass', message };
  }
  return {
    ...base,
    status: 'fail',
    code: 'SCOPE_FORBIDDEN',
    message: `${hits.length} touched ${dimension} match ${key} (forbidden beats allowed): ${listNames(hits)}`,
  };
}

function allowedCheck(rules: ScopeRules, dimension: string, diff: Pick<BaselineDiff, 'touched' | 'names'>): Check {
  const key = `allowed_${dimension}`;
  const patterns = rules[key];
  const touched = diff.touched[dimension] ?? [];
  const outside =
    patterns === undefined
      ? [...touched]
      : touched.filter((canonical) => firstMatch(namesOf(diff, dimension, canonical), patterns) === undefined);
  const base = {
    name: `scope.${key}`,
    rule: 'scope' as const,
    declared: patterns === undefined ? null : [...patterns],
    observed: outside,
    pointer: `/scope/${key}`,
  };
  if (outside.length === 0) {
    const message =
      patterns === undefined
        ? `no ${key} declared and no ${dimension} touched`
        : `all ${touched.length} touched ${dimension} are covered by ${key}`;
    return { ...base, status: 'pass', message };
  }
  const why =
    patterns === undefined ? `no ${key} declared, so no ${dimension} may be touched` : `not covered by ${key}`;
  return {
    ...base,
    status: 'fail',
    code: 'SCOPE_NOT_ALLOWED',
    message: `${outside.length} touched ${dimension} ${why}: ${listNames(outside)}`,
  };
}

/** Two checks per dimension, forbidden first, in the order the dimensions are given. */
export function scopeChecks(
  scope: MigrationDeclaration['scope'],
  dimensions: readonly string[],
  diff: Pick<BaselineDiff, 'touched' | 'names'>,
): Check[] {
  const rules = scope as ScopeRules;
  return dimensions.flatMap((dimension) => [
    forbiddenCheck(rules, dimension, diff),
    allowedCheck(rules, dimension, diff),
  ]);
}
