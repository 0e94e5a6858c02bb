import { describe, expect, it } from 'vitest';
import { sanitizer } from './mask.js';

describe('sanitizer', () => {
  it('masks the DSN, user and password wherever the driver echoes them', () => {
    const dsn = 'postgres://alice:s3cr3t-pw@db.internal:5432/kfm';
    const sanitize = sanitizer([dsn, 's3cr3t-pw', 'alice']);
    const message = sanitize(
      `could not connect using ${dsn}: password authentication failed for user "alice" (s3cr3t-pw)`,
    );
    expect(message).not.toContain('alice');
    expect(message).not.toContain('s3cr3t-pw');
    expect(message).toContain('password authentication failed');
  });

  it('masks credentials in any URL and quoted role names even when not told the values', () => {
    const sanitize = sanitizer([]);
    expect(sanitize('see postgresql://bob:pw@host/db now')).toBe('see postgresql://***@host/db now');
    expect(sanitize('role "carol" does not exist')).toBe('role "***" does not exist');
    expect(sanitize('host=x user=dave password=hunter2')).toBe('host=x user=*** password=***');
  });

  it('leaves short values alone rather than masking innocent text', () => {
    expect(sanitizer(['pg'])('pg_locks is fine')).toBe('pg_locks is fine');
  });
});
