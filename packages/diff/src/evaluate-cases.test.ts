// Fixture cases: each __fixtures__/cases/*.json holds a declaration, PRE/POST baselines and
// metrics beside the expected outcome of every check.
import { describe, expect, it } from 'vitest';
import { validateValue } from '@kfm/migration-contracts';
import { evaluate } from './__fixtures__/vocabularies.js';
import { loadCases } from './__fixtures__/build.js';

const cases = loadCases();

describe('evaluate (fixture cases)', () => {
  it('has cases to run', () => {
    expect(cases.length).toBeGreaterThanOrEqual(4);
  });

  for (const fixture of cases) {
    describe(fixture.name, () => {
      const { declaration, pre, post, metrics } = fixture.input;
      const inputs = [pre, post, declaration].map((value, i) =>
        validateValue((['baseline.v1', 'baseline.v1', 'migration_declaration.v1'] as const)[i]!, value),
      );
      const summary = evaluate(declaration, { pre, post, metrics, protected: fixture.input.protected });

      it('starts from valid baselines and declaration', () => {
        expect(inputs).toEqual([[], [], []]);
      });

      it('produces a summary valid against diff_summary.v1', () => {
        expect(validateValue('diff_summary.v1', summary)).toEqual([]);
      });

      it('reaches the expected status, totals and touched names', () => {
        expect(summary.status).toBe(fixture.expected.status);
        expect(summary.totals).toEqual(fixture.expected.totals);
        expect(summary.touched).toEqual(fixture.expected.touched);
        expect(summary.migration_id).toBe(declaration.migration_id);
        expect(summary.fingerprints).toEqual({ pre: pre.fingerprints, post: post.fingerprints });
      });

      it('emits exactly the expected checks with the expected outcomes', () => {
        expect(summary.checks.map((c) => c.name).sort()).toEqual(Object.keys(fixture.expected.checks).sort());
        for (const check of summary.checks) {
          const expected = fixture.expected.checks[check.name]!;
          expect({ name: check.name, status: check.status, code: check.code }).toEqual({
            name: check.name,
            status: expected.status,
            code: expected.code,
          });
          if ('observed' in expected) expect(check.observed).toEqual(expected.observed);
          expect(check.pointer).toMatch(/^\//);
          expect(check.message).toBeTruthy();
        }
      });
    });
  }
});
