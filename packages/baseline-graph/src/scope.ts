// Which labels and relationship types a baseline looks at. The runner's own bookkeeping labels
// (`Kfm*`: lock and ledger nodes) are never in scope; an optional name prefix confines a capture to
// one namespace, which is how tests share the single user database of Neo4j Community.

import { matchesNamePattern } from '@kfm/migration-contracts';

/** Labels and types starting with this belong to the runner (KfmLock, KfmLedger). */
export const RESERVED_PREFIX = 'Kfm';

export interface GraphScopeOptions {
  /**
   * Only labels and relationship types whose names start with this prefix are captured
   * (e.g. `T1a2b_`): a namespace inside one database. Unset: every name except `Kfm*`.
   */
  labelPrefix?: string;
}

export function isReserved(name: string): boolean {
  return name.startsWith(RESERVED_PREFIX);
}

/** True when a label or relationship type name is captured under these options. */
export function inScope(name: string, options: GraphScopeOptions): boolean {
  if (isReserved(name)) return false;
  return options.labelPrefix === undefined || name.startsWith(options.labelPrefix);
}

/** The first pattern `name` matches (`*` matches any run of characters; everything else is literal). */
export function firstMatching(name: string, patterns: readonly string[]): string | undefined {
  return patterns.find((pattern) => matchesNamePattern(name, pattern));
}

/** A label or type as a Cypher identifier: always backtick-quoted, backticks doubled. */
export function quoteName(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

export { compareText } from '@kfm/adapter-kit';
