// Exit-code ranking, the one-line issue format, and the shape of the stable code table.
import { describe, expect, it } from 'vitest';
import {
  ErrorCodes,
  ExitCode,
  KfmError,
  exitCodeFor,
  exitCodeOf,
  formatIssue,
  type ErrorCode,
  type Issue,
} from './errors.js';

const issue = (code: ErrorCode): Issue => ({ code, message: code.toLowerCase() });

describe('exitCodeFor', () => {
  it('is 0 without issues', () => {
    expect(exitCodeFor([])).toBe(ExitCode.Passed);
  });

  it('ranks 4 > 3 > 1 > 2 > 0 whatever the order of the issues', () => {
    const invalid = issue('SCHEMA_REQUIRED'); // 2
    const failed = issue('SCOPE_FORBIDDEN'); // 1
    const unreachable = issue('STORE_UNREACHABLE'); // 3
    const rollback = issue('ROLLBACK_UNVERIFIED'); // 4
    expect(exitCodeFor([invalid])).toBe(2);
    expect(exitCodeFor([invalid, failed])).toBe(1);
    expect(exitCodeFor([failed, invalid])).toBe(1);
    expect(exitCodeFor([failed, unreachable, invalid])).toBe(3);
    expect(exitCodeFor([unreachable, rollback, failed, invalid])).toBe(4);
    expect(exitCodeFor([rollback, invalid])).toBe(4);
  });

  it('agrees with exitCodeOf for a single issue of every code', () => {
    for (const code of Object.keys(ErrorCodes) as ErrorCode[])
      expect(exitCodeFor([issue(code)])).toBe(exitCodeOf(code));
  });
});

describe('formatIssue', () => {
  it('renders file:line:column, pointer, code, message and expected/found on one line', () => {
    const text = formatIssue({
      code: 'SCHEMA_MINIMUM',
      file: 'migration.yml',
      line: 12,
      column: 3,
      pointer: '/limits/max_row_backfill',
      message: 'below the minimum',
      expected: 'a number >= 0',
      found: 'number -1',
    });
    expect(text).toBe(
      'migration.yml:12:3 /limits/max_row_backfill SCHEMA_MINIMUM below the minimum (expected a number >= 0, found number -1)',
    );
  });

  it('omits what is unknown and shows the root pointer as /', () => {
    expect(formatIssue({ code: 'YAML_ALIAS_LIMIT', file: 'm.yml', pointer: '', message: 'too many aliases' })).toBe(
      'm.yml / YAML_ALIAS_LIMIT too many aliases',
    );
    expect(formatIssue({ code: 'LOCK_HELD', message: 'held by run r1' })).toBe('LOCK_HELD held by run r1');
    expect(formatIssue({ code: 'FILE_NOT_FOUND', file: 'm.yml', line: 4, message: 'gone', found: 'nothing' })).toBe(
      'm.yml:4 FILE_NOT_FOUND gone (found nothing)',
    );
  });

  it('is a single line', () => {
    expect(
      formatIssue({
        code: 'YAML_SYNTAX',
        file: 'f.yml',
        line: 1,
        column: 1,
        pointer: '',
        message: 'bad',
        expected: 'x',
        found: 'y',
      }),
    ).not.toContain('\n');
  });
});

describe('ErrorCodes', () => {
  it('gives every code an exit code of the CLI contract and a one-line meaning', () => {
    const failures: number[] = [
      ExitCode.CheckFailed,
      ExitCode.InvalidInput,
      ExitCode.Unreachable,
      ExitCode.RollbackFailed,
    ];
    for (const [code, [exit, meaning]] of Object.entries(ErrorCodes)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/);
      expect(failures, `${code} → ${exit}`).toContain(exit);
      expect(meaning).toMatch(/^\S.*\.$/);
      expect(meaning).not.toContain('\n');
    }
  });
});

describe('KfmError', () => {
  it('carries the issue, its code and its exit code', () => {
    const error = new KfmError(
      { code: 'STORE_UNREACHABLE', message: 'connection refused', pointer: '' },
      { cause: new Error('ECONNREFUSED') },
    );
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('STORE_UNREACHABLE');
    expect(error.exitCode).toBe(3);
    expect(error.message).toBe('/ STORE_UNREACHABLE connection refused');
    expect((error.cause as Error).message).toBe('ECONNREFUSED');
  });
});
