// Splits a Cypher script into statements at top-level semicolons. Semicolons inside strings,
// backtick identifiers and comments do not split; comment-only chunks are not statements.
import { isSignificant, lexCypher, positionOf, type Token } from './cypher-lexer.js';

export interface CypherStatement {
  /** 0-based position in the script. */
  index: number;
  /** The statement text without the terminating semicolon, trimmed (comments inside are kept). */
  text: string;
  /** 1-based line and column of the statement's first significant token. */
  line: number;
  column: number;
  /** The statement's tokens (whitespace and comments included), for classification. */
  tokens: Token[];
}

export interface CypherSplit {
  statements: CypherStatement[];
  /** An unterminated string, identifier or comment: statements before it are still listed. */
  error?: { line: number; column: number; message: string };
}

export function splitCypher(text: string): CypherSplit {
  const { tokens, error } = lexCypher(text);
  const statements: CypherStatement[] = [];
  let current: Token[] = [];
  const flush = () => {
    const significant = current.filter(isSignificant);
    const first = significant[0];
    const last = significant[significant.length - 1];
    if (first && last) {
      const { line, column } = positionOf(text, first.start);
      const startIndex = current.indexOf(first);
      const endIndex = current.indexOf(last);
      statements.push({
        index: statements.length,
        text: text.slice(first.start, last.end),
        line,
        column,
        tokens: current.slice(startIndex, endIndex + 1),
      });
    }
    current = [];
  };
  for (const token of tokens) {
    if (token.kind === 'punct' && token.text === ';') flush();
    else current.push(token);
  }
  if (error) {
    // The unterminated part is not a statement; report where it starts.
    return { statements, error: { ...positionOf(text, error.offset), message: error.message } };
  }
  flush();
  return { statements };
}
