// Words and label expressions of Cypher, read from tokens: shared by the statement facts and the
// write-target analysis.
import type { Token } from './cypher-lexer.js';

export const CLAUSE_KEYWORDS = new Set([
  'MATCH',
  'OPTIONAL',
  'CREATE',
  'INSERT',
  'MERGE',
  'WITH',
  'UNWIND',
  'RETURN',
  'CALL',
  'USE',
  'UNION',
  'FOREACH',
  'LOAD',
  'DELETE',
  'DETACH',
  'SET',
  'REMOVE',
  'FINISH',
  'WHERE',
]);

/** Words before `{` that open a subquery (not a map). */
export const BLOCK_OPENERS = new Set(['CALL', 'EXISTS', 'COUNT', 'COLLECT']);

/** Tokens after which `(` opens a node pattern. */
export const PATTERN_PRECEDERS = new Set([',', '-', '->', '<-', '>', '<', '=']);

/** An identifier in upper case ('' for anything else): keywords are case-insensitive. */
export function word(token: Token | undefined): string {
  return token && token.kind === 'identifier' ? token.text.toUpperCase() : '';
}

/** A variable, label or type name (plain or backtick-quoted). */
export function nameOf(token: Token | undefined): string | undefined {
  return token && (token.kind === 'identifier' || token.kind === 'quoted') ? token.text : undefined;
}

export interface LabelExpression {
  names: string[];
  /** A parameter (`:$(expr)`): the names cannot be known before the run. */
  dynamic: boolean;
  /**
   * Only names joined by `:`, `&` or `|`: the matched items carry one of these names. False for a
   * negation (`!A`), a wildcard (`%`), a parenthesized expression or a dynamic name, which match
   * items the names do not describe.
   */
  exact: boolean;
  /** The last token consumed. */
  end: number;
}

/**
 * The names of a label expression after the colon at `colon`: `:A:B`, `:A&B`, `:A|B`, `:!A`, `[:T|:U]`
 * (`|` is a list-comprehension bar inside a list).
 */
export function labelExpression(tokens: readonly Token[], colon: number, inList: boolean): LabelExpression {
  const names: string[] = [];
  let exact = true;
  let j = colon + 1;
  let end = colon;
  for (;;) {
    const next = tokens[j];
    if (!next) break;
    if (next.kind === 'punct' && next.text === '!') {
      exact = false;
      end = j++;
      continue;
    }
    if (next.kind === 'parameter') return { names, dynamic: true, exact: false, end: j };
    if (next.kind === 'punct' && next.text === '(') {
      // `:(A|B)&!C`: every name inside counts as named; what matches is not described by them.
      exact = false;
      let depth = 0;
      for (; j < tokens.length; j++) {
        const inner = tokens[j] as Token;
        if (inner.kind === 'punct' && inner.text === '(') depth++;
        else if (inner.kind === 'punct' && inner.text === ')') depth--;
        else if (inner.kind === 'parameter') return { names, dynamic: true, exact: false, end: j };
        else if (nameOf(inner) !== undefined) names.push(nameOf(inner) as string);
        if (depth === 0) break;
      }
      end = j;
    } else {
      const name = nameOf(next);
      if (name === undefined) {
        if (next.kind === 'punct' && next.text === '%') {
          exact = false;
          end = j;
        }
        break;
      }
      names.push(name);
      end = j;
    }
    const joiner = tokens[j + 1];
    const joins =
      joiner?.kind === 'punct' && (joiner.text === '&' || joiner.text === ':' || (joiner.text === '|' && !inList));
    if (!joins) break;
    j += joiner.text === '|' && tokens[j + 2]?.text === ':' ? 3 : 2;
  }
  return { names, dynamic: false, exact: exact && names.length > 0, end };
}
