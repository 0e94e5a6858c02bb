// Prints the README's table of stable error codes, generated from ErrorCodes (build first).
// `--write` replaces the table between the markers in README.md; src/error-table.test.ts fails
// when the README and ErrorCodes disagree.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_TABLE_END, ERROR_TABLE_START, renderErrorCodeTable } from '../dist/index.js';

const table = renderErrorCodeTable();
if (!process.argv.includes('--write')) {
  process.stdout.write(table);
} else {
  const readme = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../README.md');
  const text = fs.readFileSync(readme, 'utf8');
  const start = text.indexOf(ERROR_TABLE_START);
  const end = text.indexOf(ERROR_TABLE_END);
  if (start < 0 || end < start) {
    console.error(`README.md has no ${ERROR_TABLE_START} … ${ERROR_TABLE_END} markers`);
    process.exit(2);
  }
  fs.writeFileSync(readme, `${text.slice(0, start + ERROR_TABLE_START.length)}\n${table}${text.slice(end)}`);
  console.error(`README.md: wrote ${table.split('\n').length - 3} error codes`);
}
