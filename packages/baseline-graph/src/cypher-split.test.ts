import { describe, expect, it } from 'vitest';
import { isSignificant, lexCypher } from './cypher-lexer.js';
import { splitCypher } from './cypher-split.js';

const texts = (script: string) => splitCypher(script).statements.map((s) => s.text);

describe('splitCypher', () => {
  it('splits at top-level semicolons and reports the line of each statement', () => {
    const split = splitCypher('MATCH (n) RETURN n;\n\n  CREATE (:A);\nRETURN 1');
    expect(split.error).toBeUndefined();
    expect(split.statements.map((s) => [s.index, s.text, s.line, s.column])).toEqual([
      [0, 'MATCH (n) RETURN n', 1, 1],
      [1, 'CREATE (:A)', 3, 3],
      [2, 'RETURN 1', 4, 1],
    ]);
  });

  it('keeps semicolons inside single- and double-quoted strings, with escaped quotes', () => {
    const script = `CREATE (:A {s: 'a;b\\';c'});\nCREATE (:B {s: "x;\\"y;"});`;
    expect(texts(script)).toEqual([`CREATE (:A {s: 'a;b\\';c'})`, `CREATE (:B {s: "x;\\"y;"})`]);
  });

  it('keeps semicolons inside backtick identifiers, including doubled backticks', () => {
    expect(texts('CREATE (:`Odd;Label``;x`);RETURN 2')).toEqual(['CREATE (:`Odd;Label``;x`)', 'RETURN 2']);
  });

  it('ignores semicolons inside line and block comments', () => {
    const script = '// first; still a comment\nMATCH (n) /* a;b\n;c */ RETURN n; // trailing; comment\nRETURN 3';
    const split = splitCypher(script);
    expect(split.statements.map((s) => [s.text, s.line])).toEqual([
      ['MATCH (n) /* a;b\n;c */ RETURN n', 2],
      ['RETURN 3', 4],
    ]);
  });

  it('drops empty and comment-only chunks', () => {
    expect(texts(';;  // only a comment\n;\n/* block */;MATCH (n) RETURN n;;')).toEqual(['MATCH (n) RETURN n']);
  });

  it('does not treat // inside a string as a comment', () => {
    expect(texts("CREATE (:Url {u: 'http://x;y'}); RETURN 4")).toEqual(["CREATE (:Url {u: 'http://x;y'})", 'RETURN 4']);
  });

  it('reports an unterminated string with its position and keeps earlier statements', () => {
    const split = splitCypher("RETURN 1;\nCREATE (:A {s: 'open;\nRETURN 2");
    expect(split.statements.map((s) => s.text)).toEqual(['RETURN 1']);
    expect(split.error).toEqual({ line: 2, column: 16, message: 'unterminated string literal' });
  });

  it('ends a line comment at a carriage return, as Neo4j does', () => {
    const text = 'MATCH (p:Parcel) // note\rMATCH (o:Owner) SET o.x = 1 WITH p\nSET p.y = 2;';
    expect(splitCypher(text).statements).toHaveLength(1);
    const words = lexCypher(text)
      .tokens.filter(isSignificant)
      .map((token) => token.text);
    expect(words).toContain('Owner'); // code, not comment
  });

  it('refuses unicode escapes, which Neo4j expands before it parses', () => {
    expect(
      splitCypher("MATCH (p:Parcel) SET p.n = 'a\\u0027 WITH p MATCH (o:Owner) SET o.x = 1';").error?.message,
    ).toMatch(/u0027: Neo4j expands unicode escapes/);
  });

  it('reports an unterminated block comment and an unterminated backtick identifier', () => {
    expect(splitCypher('RETURN 1 /* never closed; RETURN 2').error?.message).toBe('unterminated block comment');
    expect(splitCypher('MATCH (n:`Broken) RETURN n').error?.message).toBe('unterminated backtick-quoted identifier');
  });
});
