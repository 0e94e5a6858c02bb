// Declaration name patterns: `*` matches any run of characters (dots included), the match is
// anchored at both ends and case-sensitive. Compiled once per pattern because a scope check may
// test every pattern against tens of thousands of touched names.

const compiled = new Map<string, RegExp>();

function compile(pattern: string): RegExp {
  let regex = compiled.get(pattern);
  if (!regex) {
    const body = pattern
      .split('*')
      .map((part) => part.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'))
      .join('.*');
    // `s`: a name holding a line break still matches `*`, so no odd name escapes a forbidden rule.
    regex = new RegExp(`^${body}$`, 's');
    compiled.set(pattern, regex);
  }
  return regex;
}

/** True when `name` matches `pattern` (`*` = any run of characters, anchored, case-sensitive). */
export function matchesNamePattern(name: string, pattern: string): boolean {
  if (!pattern.includes('*')) return name === pattern;
  return compile(pattern).test(name);
}

/** The first pattern that any of `names` matches, or undefined. */
export function firstMatchingPattern(names: Iterable<string>, patterns: readonly string[]): string | undefined {
  for (const pattern of patterns) {
    for (const name of names) {
      if (matchesNamePattern(name, pattern)) return pattern;
    }
  }
  return undefined;
}
