import { describe, expect, it } from 'vitest';
import { evaluate } from './__fixtures__/vocabularies.js';
import { formatSummary } from './format-summary.js';
import { loadCases } from './__fixtures__/build.js';

function summaryOf(name: string) {
  const fixture = loadCases().find((c) => c.name === name)!;
  return evaluate(fixture.input.declaration, { ...fixture.input });
}

describe('formatSummary', () => {
  it('shows the header, one row per check and the reason beneath each failure', () => {
    const summary = summaryOf('postgis-touches-governance');
    const text = formatSummary(summary);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('PG-MIG-2026-02-28-01  postgis  FAIL');
    expect(lines[1]).toBe('changes: 1 added, 0 removed, 1 changed');
    expect(lines[2]).toMatch(/^CHECK\s+STATUS\s+DECLARED\s+OBSERVED$/);
    for (const check of summary.checks) expect(text).toContain(check.name);
    const forbidden = lines.findIndex((line) => line.startsWith('scope.forbidden_tables'));
    expect(lines[forbidden]).toMatch(
      /^scope\.forbidden_tables\s+FAIL\s+authority_sites\s+governance\.authority_sites$/,
    );
    expect(lines[forbidden + 1]).toMatch(/^ {2}SCOPE_FORBIDDEN: /);
    const limit = lines.find((line) => line.startsWith('limits.max_row_backfill'));
    expect(limit).toMatch(/FAIL\s+0\s+12$/);
    const failures = summary.checks.filter((c) => c.status === 'fail').length;
    expect(lines.filter((line) => line.startsWith('  ')).length).toBe(failures);
  });

  it('aligns columns and never emits a line longer than its widest row', () => {
    const text = formatSummary(summaryOf('search-alias-flip'));
    const rows = text.trimEnd().split('\n').slice(2);
    const statusColumn = rows[0]!.indexOf('STATUS');
    for (const row of rows) expect(row.slice(statusColumn).match(/^(pass|FAIL|skip|STATUS)/), row).not.toBeNull();
    expect(text.endsWith('\n')).toBe(true);
  });
});
