// The README's table of error codes must be exactly what ErrorCodes renders, so it cannot drift.
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_TABLE_END, ERROR_TABLE_START, renderErrorCodeTable } from './error-table.js';
import { ErrorCodes } from './errors.js';

const readme = fs.readFileSync(new URL('../README.md', import.meta.url), 'utf8');

function readmeTable(): string {
  const start = readme.indexOf(ERROR_TABLE_START);
  const end = readme.indexOf(ERROR_TABLE_END);
  expect(start, 'README has the start marker').toBeGreaterThanOrEqual(0);
  expect(end, 'README has the end marker after the start').toBeGreaterThan(start);
  return readme.slice(start + ERROR_TABLE_START.length, end).trim() + '\n';
}

describe('README error table', () => {
  it('is the table renderErrorCodeTable() prints (regenerate: node scripts/error-table.mjs --write)', () => {
    expect(readmeTable()).toBe(renderErrorCodeTable());
  });

  it('lists every stable code exactly once with its exit code and meaning', () => {
    const rows = readmeTable()
      .split('\n')
      .filter((line) => line.startsWith('| `'))
      .map((line) => /^\| `([A-Z0-9_]+)` \| (\d) \([a-z ]+\) \| (.+) \|$/.exec(line));
    expect(rows.every(Boolean)).toBe(true);
    const listed = rows.map((m) => m?.[1]);
    expect(listed).toEqual(Object.keys(ErrorCodes));
    for (const m of rows) {
      const [exit, meaning] = ErrorCodes[m?.[1] as keyof typeof ErrorCodes] ?? [];
      expect(Number(m?.[2])).toBe(exit);
      expect(m?.[3]).toBe(meaning.replace(/\|/g, '\\|'));
    }
  });
});
