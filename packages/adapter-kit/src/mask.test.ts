import { describe, expect, it } from 'vitest';
import { errorText, sanitizer, withoutUrls } from './mask.js';
import { durationMs, lineAndColumn, sortedUnique } from './text.js';

describe('masking', () => {
  it('masks given secrets whole, then generic credential shapes', () => {
    const sanitize = sanitizer(['postgres://app:s3cret@db:5432/x', 's3cret', 'ab']);
    expect(sanitize('could not connect to postgres://app:s3cret@db:5432/x')).toBe('could not connect to ***');
    expect(sanitize('password=s3cret user="app"')).toBe('password=*** user=***');
    expect(sanitize('role "admin" does not exist')).toBe('role "***" does not exist');
    expect(withoutUrls('node http://u:p@h:9200/x failed')).toBe('node <url> failed');
    expect(errorText(Object.assign(new Error('x'.repeat(500)), { code: 'E1' }), (m) => m)).toMatch(/^E1: x{400}…$/);
  });
});

describe('text helpers', () => {
  it('orders by code unit, finds positions and reads durations', () => {
    expect(sortedUnique(['b', 'B', 'a', 'b'])).toEqual(['B', 'a', 'b']);
    expect(lineAndColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
    expect([durationMs('500ms'), durationMs('30s'), durationMs('5min'), durationMs('0x')]).toEqual([
      500,
      30_000,
      300_000,
      undefined,
    ]);
  });
});
