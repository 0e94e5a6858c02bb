// diffs/touched.csv: a reviewer-friendly list of every changed object, one row per change.
// RFC 4180 (CRLF, quoted when needed) and safe to open in a spreadsheet: a cell that would start a
// formula is prefixed with a single quote, because object names come from the store, not from us.
import type { DiffChange } from '@kfm/migration-contracts';
import { compareText } from './baseline-diff.js';

export interface TouchedSource {
  changes: readonly DiffChange[];
  touched?: Readonly<Record<string, readonly string[] | undefined>>;
}

/** Characters that make spreadsheets evaluate a cell (OWASP CSV injection), tab and CR included. */
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV field: formula-neutralised, then quoted when it holds a quote, comma or line break. */
export function csvCell(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * Header `change,kind,name,<dimensions…>` (dimensions sorted), then one row per change in the
 * order given (diffBaselines sorts by kind, then name). A dimension cell joins the object's
 * names there with `;`, canonical name first.
 */
export function renderTouchedCsv(source: TouchedSource): string {
  const dimensions = new Set(Object.keys(source.touched ?? {}));
  for (const change of source.changes)
    for (const dimension of Object.keys(change.scope ?? {})) dimensions.add(dimension);
  const columns = [...dimensions].sort(compareText);
  const rows = [['change', 'kind', 'name', ...columns]];
  for (const change of source.changes) {
    rows.push([
      change.change,
      change.kind,
      change.name,
      ...columns.map((dimension) => (change.scope?.[dimension] ?? []).join(';')),
    ]);
  }
  return rows.map((row) => row.map(csvCell).join(',') + '\r\n').join('');
}
