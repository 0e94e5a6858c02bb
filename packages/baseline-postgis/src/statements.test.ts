import { describe, expect, it } from 'vitest';
import { lineAndColumn, splitScript, splitScripts } from './statements.js';

describe('splitScript', () => {
  it('splits statements and points each at the line of its first token, past comments', async () => {
    const text =
      '-- header\n/* block /* nested */ */\nCREATE INDEX i ON parcels (id);\n\n  -- why\n  UPDATE parcels\n  SET area_m2 = 1;\nSELECT 1';
    const result = await splitScript('forward.sql', text);
    if (!result.ok) throw new Error(result.failure.message);
    expect(result.statements.map((s) => [s.line, s.node])).toEqual([
      [3, 'IndexStmt'],
      [6, 'UpdateStmt'],
      [8, 'SelectStmt'],
    ]);
    expect(result.statements[1]!.text).toContain('UPDATE parcels');
    expect(result.statements[2]!.text).toBe('SELECT 1');
  });

  it('keeps statement text intact after multi-byte characters (the parser counts bytes)', async () => {
    const result = await splitScript('f.sql', "SELECT 'ééé';\nCOMMENT ON TABLE parcels IS 'größe';\nSELECT 2;");
    if (!result.ok) throw new Error(result.failure.message);
    expect(result.statements.map((s) => s.text)).toEqual([
      "SELECT 'ééé'",
      "COMMENT ON TABLE parcels IS 'größe'",
      'SELECT 2',
    ]);
    expect(result.statements.map((s) => s.line)).toEqual([1, 2, 3]);
  });

  it('reports a parse error with file, line and column', async () => {
    const result = await splitScript('forward.sql', "SELECT 'é';\n\nCREATE INDEXX i ON t (c);");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.failure).toMatchObject({ file: 'forward.sql', line: 3, column: 8 });
    expect(result.failure.message).toMatch(/syntax error/);
  });

  it('numbers statements across scripts in run order', async () => {
    const result = await splitScripts([
      { path: 'a.sql', text: 'SELECT 1; SELECT 2;', digest: 'x' },
      { path: 'b.sql', text: 'SELECT 3;', digest: 'y' },
    ]);
    if (!result.ok) throw new Error('parse');
    expect(result.statements.map((s) => `${s.index}:${s.file}`)).toEqual(['0:a.sql', '1:a.sql', '2:b.sql']);
  });

  it('yields no statement for a script of comments only', async () => {
    const result = await splitScript('empty.sql', '-- nothing to do\n');
    expect(result).toEqual({ ok: true, statements: [] });
  });
});

describe('lineAndColumn', () => {
  it('is 1-based', () => {
    expect(lineAndColumn('ab\ncd', 0)).toEqual({ line: 1, column: 1 });
    expect(lineAndColumn('ab\ncd', 4)).toEqual({ line: 2, column: 2 });
  });
});
