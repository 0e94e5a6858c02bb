// What a Cypher statement may write, resolved the way Neo4j resolves its variables: which labels and
// relationship types it changes, and which write targets no label or type binds. Read from tokens with
// a scope per query part, so a name means at each write what it means to the server there:
//   - MATCH, CREATE and MERGE patterns bind a variable to the labels (or types) they give it;
//   - WITH and RETURN project: `x` and `x AS y` keep x's labels, `expr AS y` binds y to nothing, and
//     every name not projected is gone (`WITH 1 AS one MATCH (p)` is a new, unlabeled p);
//   - UNWIND … AS, LOAD CSV … AS, YIELD and FOREACH variables are bound to no label;
//   - a CALL { … } subquery sees only what it imports (`CALL (x) {`, `CALL (*) {` or a leading
//     `WITH x`), and adds what it RETURNs; EXISTS/COUNT/COLLECT subqueries only read;
//   - each UNION branch starts empty;
//   - a write is resolved where it happens, against the bindings made before it.
// A label expression that is not only names (`!A`, `%`, `(A|B)`, `$(…)`) binds nothing exact.
import type { Token } from './cypher-lexer.js';
import { BLOCK_OPENERS, CLAUSE_KEYWORDS, PATTERN_PRECEDERS, labelExpression, nameOf, word } from './cypher-words.js';

export interface WriteTargets {
  /** Labels of nodes created or merged, of variables SET, REMOVEd or DELETEd, and labels SET or REMOVEd. */
  labels: Set<string>;
  /** Types of relationships created or merged, and of relationship variables SET, REMOVEd or DELETEd. */
  types: Set<string>;
  /** Write targets no label or type binds (a variable, `(anonymous node)` or `(expression)`); sorted. */
  unbound: string[];
}

/** What a variable is known to be: empty sets or `exact: false` mean "any node or relationship". */
interface Binding {
  labels: readonly string[];
  types: readonly string[];
  exact: boolean;
}
type Scope = Map<string, Binding>;

const UNBOUND: Binding = Object.freeze({ labels: [], types: [], exact: false });

/** Words that end a WITH/RETURN projection without being clauses. */
const PROJECTION_END = new Set(['ORDER', 'SKIP', 'LIMIT', 'OFFSET']);

interface Level {
  scope: Scope;
  clause: string;
  itemStart: boolean;
  /** The projection being read (WITH or RETURN): its items as token lists at this level. */
  projection?: { kind: 'WITH' | 'RETURN'; items: Token[][]; nested: boolean[] };
  /** A CALL body: the scope a leading WITH imports from (until the first clause ends). */
  importFrom?: Scope;
  /** A CALL body's RETURNed bindings, added to the caller's scope when the body closes. */
  returned?: Scope;
  /** Names after `CALL (` … `)`: the subquery's imports (`*` for all). */
  imports?: string[];
  /** UNWIND, LOAD CSV or YIELD: the next name after AS (or after YIELD, `,`) is bound to nothing. */
  aliasing?: boolean;
  yielding?: boolean;
}

type Frame =
  | { kind: 'level'; level: Level; call: boolean }
  | { kind: 'foreach'; variable?: string }
  | { kind: 'plain'; pattern: boolean; importList?: boolean };

function isPunct(token: Token | undefined, text: string): boolean {
  return token?.kind === 'punct' && token.text === text;
}

export function writeTargets(significant: readonly Token[]): WriteTargets {
  const written = { labels: new Set<string>(), types: new Set<string>() };
  const unbound = new Set<string>();
  const frames: Frame[] = [];
  // The levels open around the current token: the statement, then CALL/EXISTS/FOREACH bodies inside it.
  const levels: Level[] = [{ scope: new Map(), clause: '', itemStart: false }];
  let level = levels[0] as Level;
  const enter = (inner: Level) => {
    levels.push(inner);
    level = inner;
  };

  const atLevel = () => {
    const top = frames[frames.length - 1];
    return top === undefined || top.kind === 'level';
  };
  /** Pattern parens directly at the level (a path, a quantified path): bindings count there. */
  const patternAtLevel = () => {
    for (let k = frames.length - 1; k >= 0; k--) {
      const frame = frames[k] as Frame;
      if (frame.kind === 'level') return true;
      if (frame.kind !== 'plain' || !frame.pattern) return false;
    }
    return true;
  };
  const bind = (variable: string, binding: Binding) => {
    const known = level.scope.get(variable);
    // A second pattern on a known variable narrows it: `MATCH (p) MATCH (p:Parcel)` is a Parcel.
    level.scope.set(
      variable,
      known
        ? {
            labels: [...known.labels, ...binding.labels],
            types: [...known.types, ...binding.types],
            exact: known.exact || binding.exact,
          }
        : binding,
    );
  };
  const target = (variable: string) => {
    const binding = level.scope.get(variable);
    if (!binding?.exact || (binding.labels.length === 0 && binding.types.length === 0)) {
      unbound.add(variable);
      return;
    }
    for (const name of binding.labels) written.labels.add(name);
    for (const name of binding.types) written.types.add(name);
  };
  /** Ends the projection being read: WITH replaces the scope; RETURN in a CALL body is what it returns. */
  const endProjection = () => {
    const projection = level.projection;
    if (!projection) return;
    level.projection = undefined;
    const from = level.importFrom ?? level.scope;
    const projected: Scope = new Map();
    projection.items.forEach((item, at) => {
      const simple = !projection.nested[at];
      if (simple && item.length === 1 && isPunct(item[0], '*')) {
        for (const [name, binding] of from) projected.set(name, binding);
        return;
      }
      const alias =
        item.length >= 3 && word(item[item.length - 2]) === 'AS' ? nameOf(item[item.length - 1]) : undefined;
      const source = item.length === 1 || (alias !== undefined && item.length === 3) ? nameOf(item[0]) : undefined;
      const binding = simple && source !== undefined ? (from.get(source) ?? UNBOUND) : UNBOUND;
      const name = alias ?? (item.length === 1 ? source : undefined);
      if (name !== undefined) projected.set(name, binding);
    });
    if (projection.kind === 'WITH') level.scope = projected;
    else level.returned = projected;
    level.importFrom = undefined;
  };
  const startClause = (keyword: string, next: Token | undefined, previous: Token | undefined) => {
    endProjection();
    level.importFrom = keyword === 'WITH' && level.importFrom ? level.importFrom : undefined;
    level.aliasing = false;
    level.yielding = false;
    if (keyword === 'UNION') {
      // Each branch is its own query; a branch of a CALL body imports again.
      level.scope = new Map();
      level.clause = '';
      level.itemStart = false;
      return;
    }
    // `LOAD CSV WITH HEADERS`: part of LOAD, not a projection.
    if (keyword === 'WITH' && word(next) === 'HEADERS') return;
    // OPTIONAL MATCH binds new names but narrows none: a bound name it cannot match stays as it was (null
    // fields, not a dropped row), so a label there says nothing about what a later write reaches.
    level.clause =
      keyword === 'DETACH'
        ? 'DELETE'
        : keyword === 'OPTIONAL' || (keyword === 'MATCH' && word(previous) === 'OPTIONAL')
          ? 'OPTIONAL MATCH'
          : keyword === 'INSERT'
            ? 'CREATE'
            : keyword;
    level.itemStart = level.clause === 'SET' || level.clause === 'REMOVE' || level.clause === 'DELETE';
    if (keyword === 'WITH' || keyword === 'RETURN') level.projection = { kind: keyword, items: [[]], nested: [false] };
    if (keyword === 'UNWIND' || keyword === 'LOAD') level.aliasing = true;
  };

  for (let i = 0; i < significant.length; i++) {
    const token = significant[i] as Token;
    const upper = word(token);
    const previous = significant[i - 1];
    const here = atLevel();

    if (here && CLAUSE_KEYWORDS.has(upper) && !isPunct(previous, '.')) {
      startClause(upper, significant[i + 1], previous);
      continue;
    }
    if (here && level.projection && PROJECTION_END.has(upper)) {
      endProjection();
      level.clause = '';
      continue;
    }
    // A closing bracket ends the block the projection is in (`CALL { … RETURN x }`), never an item of it.
    if (here && level.projection && !(token.kind === 'punct' && '([{}])'.includes(token.text))) {
      const projection = level.projection;
      if (isPunct(token, ',')) {
        projection.items.push([]);
        projection.nested.push(false);
      } else if (!(upper === 'DISTINCT' && projection.items.length === 1 && projection.items[0]?.length === 0)) {
        projection.items[projection.items.length - 1]?.push(token);
      }
      continue;
    }
    if (here && upper === 'YIELD') {
      level.yielding = true;
      continue;
    }
    if (here && (level.aliasing || level.yielding) && token.kind !== 'punct') {
      const name = nameOf(token);
      if (level.yielding && upper !== 'AS' && upper !== 'WHERE' && name !== undefined) level.scope.set(name, UNBOUND);
      if (level.aliasing && word(previous) === 'AS' && name !== undefined) level.scope.set(name, UNBOUND);
      if (level.aliasing && word(previous) === 'AS') continue;
      if (level.yielding) continue;
    }

    if (token.kind === 'punct' && (token.text === '(' || token.text === '[' || token.text === '{')) {
      if (here && level.projection) {
        // A nested expression inside a projection item: the item is not a plain variable.
        level.projection.nested[level.projection.nested.length - 1] = true;
      }
      if (here && level.itemStart) {
        unbound.add('(expression)');
        level.itemStart = false;
      }
      const writing = level.clause === 'CREATE' || level.clause === 'MERGE';
      const optional = level.clause === 'OPTIONAL MATCH';
      const binding = level.clause === 'MATCH' || optional || writing;
      // After WHERE a parenthesis is a predicate (`WHERE (o:X) OR …`), never a pattern that binds.
      const opensPattern =
        token.text === '(' &&
        (!previous ||
          (CLAUSE_KEYWORDS.has(word(previous)) && word(previous) !== 'WHERE') ||
          (previous.kind === 'punct' && (PATTERN_PRECEDERS.has(previous.text) || previous.text === '(')));
      const opensRelationship =
        token.text === '[' && previous?.kind === 'punct' && (previous.text === '-' || previous.text === '<-');
      if ((opensPattern || opensRelationship) && binding && patternAtLevel()) {
        const variable = nameOf(significant[i + 1]);
        const colonAt = variable === undefined ? i + 1 : i + 2;
        if (isPunct(significant[colonAt], ':')) {
          const expression = labelExpression(significant, colonAt, false);
          const names = expression.names;
          if (variable !== undefined && !(optional && level.scope.has(variable)))
            bind(variable, {
              labels: opensPattern ? names : [],
              types: opensPattern ? [] : names,
              exact: expression.exact,
            });
          if (writing) {
            if (!expression.exact) unbound.add(variable ?? '(label expression)');
            for (const name of names) (opensPattern ? written.labels : written.types).add(name);
          }
        } else if (variable !== undefined) {
          if (!level.scope.has(variable)) {
            // A new node with no label: created unlabeled, or matched as any node.
            if (opensPattern && writing) unbound.add(variable);
            level.scope.set(variable, UNBOUND);
          }
        } else if (opensPattern && writing && (isPunct(significant[i + 1], ')') || isPunct(significant[i + 1], '{'))) {
          unbound.add('(anonymous node)');
        }
      }

      if (token.text === '{') {
        const call = word(previous) === 'CALL' || (isPunct(previous, ')') && here && level.clause === 'CALL');
        const readOnly = !call && (BLOCK_OPENERS.has(word(previous)) || CLAUSE_KEYWORDS.has(word(significant[i + 1])));
        if (call || readOnly) {
          const outer = level;
          const imports = outer.imports;
          outer.imports = undefined;
          const scope: Scope = new Map();
          if (readOnly || imports?.includes('*')) for (const [name, b] of outer.scope) scope.set(name, b);
          else for (const name of imports ?? []) scope.set(name, outer.scope.get(name) ?? UNBOUND);
          const inner: Level = {
            scope,
            clause: '',
            itemStart: false,
            ...(call && imports === undefined ? { importFrom: outer.scope } : {}),
          };
          frames.push({ kind: 'level', level: inner, call });
          enter(inner);
          continue;
        }
      }
      if (token.text === '(' && word(previous) === 'FOREACH') {
        const variable = nameOf(significant[i + 1]);
        frames.push({ kind: 'foreach', ...(variable !== undefined ? { variable } : {}) });
        continue;
      }
      const importList = token.text === '(' && here && level.clause === 'CALL' && word(previous) === 'CALL';
      if (importList) level.imports = [];
      frames.push({ kind: 'plain', pattern: opensPattern || opensRelationship, ...(importList ? { importList } : {}) });
      continue;
    }

    if (token.kind === 'punct' && (token.text === ')' || token.text === ']' || token.text === '}')) {
      const frame = frames.pop();
      if (frame?.kind === 'level') {
        const inner = frame.level;
        if (inner.projection) endProjection();
        levels.pop();
        level = levels[levels.length - 1] as Level;
        if (frame.call) for (const [name, binding] of inner.returned ?? []) level.scope.set(name, binding);
      }
      continue;
    }

    const top = frames[frames.length - 1];
    if (top?.kind === 'plain' && top.importList && (token.kind !== 'punct' || token.text === '*')) {
      level.imports?.push(token.text === '*' ? '*' : (nameOf(token) ?? ''));
      continue;
    }
    if (top?.kind === 'foreach' && isPunct(token, '|')) {
      // The FOREACH body: the outer scope, with the iteration variable bound to nothing.
      const scope: Scope = new Map(level.scope);
      if (top.variable !== undefined) scope.set(top.variable, UNBOUND);
      const body: Level = { scope, clause: '', itemStart: false };
      frames[frames.length - 1] = { kind: 'level', level: body, call: false };
      enter(body);
      continue;
    }

    if (!here) continue;
    if (isPunct(token, ',') && (level.clause === 'SET' || level.clause === 'REMOVE' || level.clause === 'DELETE')) {
      level.itemStart = true;
      continue;
    }
    if (level.itemStart) {
      level.itemStart = false;
      const variable = nameOf(token);
      if (variable === undefined) {
        unbound.add('(expression)');
        continue;
      }
      const next = significant[i + 1];
      // `n.prop`, `n[key]`, `n = {…}`, `n += {…}`, `n:Label`, `DELETE n`: anything else is an expression.
      const plain =
        next === undefined ||
        isPunct(next, '.') ||
        isPunct(next, '=') ||
        isPunct(next, '+=') ||
        isPunct(next, ':') ||
        isPunct(next, '[') ||
        isPunct(next, ',') ||
        isPunct(next, ')') ||
        isPunct(next, '}') ||
        CLAUSE_KEYWORDS.has(word(next));
      if (!plain) {
        unbound.add('(expression)');
        continue;
      }
      target(variable);
      // `SET n:Label`, `REMOVE n:Label`: the labels themselves are written too.
      if ((level.clause === 'SET' || level.clause === 'REMOVE') && isPunct(next, ':')) {
        const expression = labelExpression(significant, i + 1, false);
        for (const name of expression.names) written.labels.add(name);
        if (!expression.exact) unbound.add(`${variable}:(label expression)`);
        i = expression.end;
      }
    }
  }
  return { ...written, unbound: [...unbound].sort() };
}
