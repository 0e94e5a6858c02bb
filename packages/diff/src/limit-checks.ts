// Limit rules: one check per declared limit. A limit the type does not define fails
// (LIMIT_UNKNOWN, never ignored); a limit whose measure the adapter did not report fails closed.
import type { Check } from '@kfm/migration-contracts';
import { compareText } from './baseline-diff.js';
import type { MeasureInput, MeasureTable } from './limit-measures.js';

function limitCheck(name: string, declared: unknown, table: MeasureTable, input: MeasureInput, type: string): Check {
  const base = { name: `limits.${name}`, rule: 'limit' as const, declared, pointer: `/limits/${name}` };
  const measure = Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
  if (!measure) {
    const known = Object.keys(table).sort(compareText);
    return { ...base, status: 'fail', code: 'LIMIT_UNKNOWN', observed: null, message: `${name} is not a limit of type ${type} (known: ${known.join(', ') || 'none'})` };
  }
  if (typeof declared !== 'number' || !Number.isFinite(declared) || declared < 0) {
    return { ...base, status: 'fail', code: 'SCHEMA_TYPE', observed: null, message: `${name} must be a non-negative number` };
  }
  const observed = measure.measure(input);
  if (observed === undefined) {
    return {
      ...base,
      status: 'fail',
      code: 'LIMIT_EXCEEDED',
      observed: null,
      message: `${name} could not be measured (${measure.source} was not reported), so the limit fails closed`,
    };
  }
  if (observed > declared) {
    return { ...base, status: 'fail', code: 'LIMIT_EXCEEDED', observed, message: `${observed} > ${declared}: ${measure.description}` };
  }
  return { ...base, status: 'pass', observed, message: `${observed} <= ${declared}: ${measure.description}` };
}

/** One check per declared limit, sorted by limit name so YAML key order never changes the output. */
export function limitChecks(limits: Readonly<Record<string, unknown>>, table: MeasureTable, input: MeasureInput, type: string): Check[] {
  return Object.keys(limits)
    .sort(compareText)
    .map((name) => limitCheck(name, limits[name], table, input, type));
}
