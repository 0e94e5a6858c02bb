// Human rendering of a diff summary for the CLI: a header line and a fixed-width table of checks
// (check, status, declared, observed), with each failing check's code and message beneath it.
import type { DiffSummary } from '@kfm/migration-contracts';

const CELL_WIDTH = 40;

function clip(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

/** A short single-line rendering of a declared or observed value. */
export function describeValue(value: unknown): string {
  if (value === undefined || value === null) return '-';
  if (Array.isArray(value))
    return value.length === 0
      ? '[]'
      : value.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join(', ');
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? String(value);
}

function oneLine(text: string): string {
  // Names can hold line breaks; a table row must not.
  return text.replace(/[\r\n\t]+/g, ' ');
}

export function formatSummary(summary: DiffSummary): string {
  const totals = summary.totals ?? {};
  const lines = [
    `${summary.migration_id}  ${summary.store}  ${summary.status.toUpperCase()}`,
    `changes: ${totals.added ?? 0} added, ${totals.removed ?? 0} removed, ${totals.changed ?? 0} changed`,
  ];
  const rows = summary.checks.map((check) => [
    check.name,
    check.status === 'fail' ? 'FAIL' : check.status,
    clip(oneLine(describeValue(check.declared)), CELL_WIDTH),
    clip(oneLine(describeValue(check.observed)), CELL_WIDTH),
  ]);
  const header = ['CHECK', 'STATUS', 'DECLARED', 'OBSERVED'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const render = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  lines.push(render(header));
  summary.checks.forEach((check, index) => {
    lines.push(render(rows[index]!));
    if (check.status === 'fail') lines.push(`  ${check.code ?? 'FAILED'}: ${oneLine(check.message ?? '')}`.trimEnd());
  });
  return `${lines.join('\n')}\n`;
}
