// Finds where JSON text stops being valid. V8's JSON.parse messages give no position for some
// errors ("Unexpected token …") and quote the surrounding source, which may hold a secret; this
// scanner gives every syntax error an offset without echoing anything.

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const HEX4 = /[0-9a-fA-F]{4}/y;

/** A syntax error in JSON text: the offset where it was detected and a message without source text. */
export interface JsonSyntaxError {
  offset: number;
  reason: string;
}

/** The first syntax error of `text` (RFC 8259), or undefined when it is valid or too deep to scan. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  let i = 0;
  const fail = (reason: string): never => {
    throw { offset: i, reason } satisfies JsonSyntaxError;
  };
  const space = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const string = () => {
    i++;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text[i] as string;
      if (c === '"') return void i++;
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          HEX4.lastIndex = i + 2;
          if (!HEX4.test(text)) fail('invalid \\u escape');
          i += 6;
        } else if (e !== undefined && ESCAPES.has(e)) i += 2;
        else fail('invalid escape');
      } else if (c < ' ') fail('control character in string');
      else i++;
    }
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === undefined) fail('unexpected end of input');
    if (c === '{') {
      i++;
      space();
      if (text[i] === '}') return void i++;
      for (;;) {
        space();
        if (text[i] !== '"') fail('expected a double-quoted property name');
        string();
        space();
        if (text[i] !== ':') fail("expected ':' after a property name");
        i++;
        value();
        space();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail("expected ',' or '}'");
      }
    }
    if (c === '[') {
      i++;
      space();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        space();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail("expected ',' or ']'");
      }
    }
    if (c === '"') return string();
    NUMBER.lastIndex = i;
    if (NUMBER.test(text)) return void (i = NUMBER.lastIndex);
    for (const literal of ['true', 'false', 'null']) if (text.startsWith(literal, i)) return void (i += literal.length);
    fail('unexpected character');
  };
  try {
    value();
    space();
    if (i < text.length) fail('unexpected content after the JSON value');
    return undefined;
  } catch (error) {
    if (error instanceof RangeError) return undefined; // nesting deeper than the stack: no position
    return error as JsonSyntaxError;
  }
}
