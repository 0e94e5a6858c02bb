// A small Cypher lexer: just enough to split scripts at top-level semicolons and to read labels and
// relationship types without being fooled by strings, comments or backtick-quoted identifiers.
// It is not a parser; statements are validated by the server, scope is enforced by the POST diff.

export type TokenKind = 'identifier' | 'quoted' | 'string' | 'number' | 'parameter' | 'punct' | 'comment' | 'space';

export interface Token {
  kind: TokenKind;
  /** Source text (for `quoted`, the identifier without backticks, escapes resolved). */
  text: string;
  /** Offset of the first character in the source. */
  start: number;
  /** Offset just past the last character. */
  end: number;
}

export interface LexError {
  offset: number;
  message: string;
}

export interface LexResult {
  tokens: Token[];
  /** Set when the text ends inside a string, a backtick identifier or a block comment. */
  error?: LexError;
}

const IDENTIFIER_START = /[\p{L}_]/u;
const IDENTIFIER_PART = /[\p{L}\p{N}_]/u;
const MULTI_PUNCT = ['<-', '->', '..', '<=', '>=', '<>', '=~', '+='];

function readQuoted(text: string, start: number, quote: string): { end: number; closed: boolean } {
  let i = start + 1;
  while (i < text.length) {
    const char = text[i];
    if (char === '\\' && quote !== '`') {
      i += 2;
      continue;
    }
    if (char === quote) {
      // A doubled backtick is an escaped backtick inside a quoted identifier.
      if (quote === '`' && text[i + 1] === '`') {
        i += 2;
        continue;
      }
      return { end: i + 1, closed: true };
    }
    i++;
  }
  return { end: text.length, closed: false };
}

/** Tokenizes Cypher; never throws — an unterminated literal ends the token list with `error`. */
export function lexCypher(text: string): LexResult {
  const tokens: Token[] = [];
  // Neo4j expands \uXXXX escapes in the whole text before it parses (a \u000a ends a comment, a \u0027
  // closes a string): a script holding one does not mean what it shows, so it is refused outright.
  const unicodeEscape = /\\u+[0-9a-fA-F]{4}/.exec(text);
  if (unicodeEscape)
    return {
      tokens,
      error: {
        offset: unicodeEscape.index,
        message: `${unicodeEscape[0]}: Neo4j expands unicode escapes before it parses, so the script would not mean what it shows; write the character itself`,
      },
    };
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number, value = text.slice(start, end)) => {
    tokens.push({ kind, text: value, start, end });
    i = end;
  };
  while (i < text.length) {
    const char = text[i] as string;
    const next = text[i + 1];
    if (/\s/.test(char)) {
      let end = i + 1;
      while (end < text.length && /\s/.test(text[end] as string)) end++;
      push('space', i, end);
    } else if (char === '/' && next === '/') {
      // Neo4j ends a line comment at a carriage return as well as at a newline.
      const newline = text.slice(i).search(/[\n\r\u2028\u2029]/);
      push('comment', i, newline === -1 ? text.length : i + newline);
    } else if (char === '/' && next === '*') {
      const close = text.indexOf('*/', i + 2);
      if (close === -1) return { tokens, error: { offset: i, message: 'unterminated block comment' } };
      push('comment', i, close + 2);
    } else if (char === "'" || char === '"' || char === '`') {
      const { end, closed } = readQuoted(text, i, char);
      if (!closed) {
        const what = char === '`' ? 'backtick-quoted identifier' : 'string literal';
        return { tokens, error: { offset: i, message: `unterminated ${what}` } };
      }
      if (char === '`') push('quoted', i, end, text.slice(i + 1, end - 1).replace(/``/g, '`'));
      else push('string', i, end);
    } else if (char === '$') {
      let end = i + 1;
      if (text[end] === '`') end = readQuoted(text, end, '`').end;
      else while (end < text.length && IDENTIFIER_PART.test(text[end] as string)) end++;
      push('parameter', i, end);
    } else if (IDENTIFIER_START.test(char)) {
      let end = i + 1;
      while (end < text.length && IDENTIFIER_PART.test(text[end] as string)) end++;
      push('identifier', i, end);
    } else if (/[0-9]/.test(char)) {
      let end = i + 1;
      // Digits, hex/octal prefixes, exponents and a decimal point (but not the `..` of a range).
      while (
        end < text.length &&
        (/[0-9A-Za-z_]/.test(text[end] as string) || (text[end] === '.' && text[end + 1] !== '.'))
      )
        end++;
      push('number', i, end);
    } else {
      const pair = text.slice(i, i + 2);
      push('punct', i, MULTI_PUNCT.includes(pair) ? i + 2 : i + 1);
    }
  }
  return { tokens };
}

/** True for tokens that carry meaning (not whitespace or comments). */
export function isSignificant(token: Token): boolean {
  return token.kind !== 'space' && token.kind !== 'comment';
}

/** 1-based line and column of an offset. */
export function positionOf(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
