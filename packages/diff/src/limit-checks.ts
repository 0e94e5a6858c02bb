// Limit rules: one check per declared limit. A limit the store's vocabulary does not define fails
// (LIMIT_UNKNOWN, never ignored); a limit whose measure could not be taken fails closed.
import type { Check, LimitSpec } from '@kfm/migration-contracts';
import { compareText } from './baseline-diff.js';
import { measureLimit, measureSource, type MeasureInput } from './limit-measures.js';

function limitCheck(
  name: string,
  declared: unknown,
  limits: Readonly<Record<string, LimitSpec>>,
  input: MeasureInput,
  type: string,
): Check {
  const base = { name: `limits.${name}`, rule: 'limit' as const, declared, pointer: `/limits/${name}` };
  const spec = Object.hasOwn(limits, name) ? limits[name] : undefined;
  if (!spec) {
    const known = Object.keys(limits).sort(compareText);
    return {
      ...base,
      status: 'fail',
      code: 'LIMIT_UNKNOWN',
      observed: null,
      message: `${name} is not a limit of type ${type} (known: ${known.join(', ') || 'none'})`,
    };
  }
  if (typeof declared !== 'number' || !Number.isSafeInteger(declared) || declared < 0) {
    return {
      ...base,
      status: 'fail',
      code: 'SCHEMA_TYPE',
      observed: null,
      message: `${name} must be a non-negative safe integer`,
    };
  }
  const observed = measureLimit(spec, input);
  if (observed === undefined) {
    return {
      ...base,
      status: 'fail',
      code: 'LIMIT_EXCEEDED',
      observed: null,
      message: `${name} could not be measured (${measureSource(spec)} was not reported), so the limit fails closed`,
    };
  }
  if (observed > declared)
    return {
      ...base,
      status: 'fail',
      code: 'LIMIT_EXCEEDED',
      observed,
      message: `${observed} > ${declared}: ${spec.description}`,
    };
  return { ...base, status: 'pass', observed, message: `${observed} <= ${declared}: ${spec.description}` };
}

/** One check per declared limit, sorted by limit name so YAML key order never changes the output. */
export function limitChecks(
  declared: Readonly<Record<string, unknown>>,
  limits: Readonly<Record<string, LimitSpec>>,
  input: MeasureInput,
  type: string,
): Check[] {
  return Object.keys(declared)
    .sort(compareText)
    .map((name) => limitCheck(name, declared[name], limits, input, type));
}
