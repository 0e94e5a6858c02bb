// node-postgres, loaded on first use: commands that never connect (validate, report, lint without a
// store) do not pay for the driver.
import { createRequire } from 'node:module';
import type pg from 'pg';

let loaded: typeof pg | undefined;

export function pgModule(): typeof pg {
  loaded ??= withoutWorkerProbe(() => createRequire(import.meta.url)('pg') as typeof pg);
  return loaded;
}

/**
 * node-postgres asks, once as it loads (lib/stream.js), whether it runs in a Cloudflare Worker: when
 * the userAgent of `navigator` is not a string it constructs a `Response`, and on Node 20 (which has no
 * `navigator`) touching that global loads Node's whole fetch implementation, ~35 ms of every command
 * that connects, for an object it then drops. For the length of the synchronous require only, a
 * `navigator` that says "not a Worker" answers the question first; nothing else runs meanwhile, and a
 * `navigator` the runtime already has (Node 21+, a test environment) is left as it is.
 */
function withoutWorkerProbe<T>(load: () => T): T {
  if ('navigator' in globalThis) return load();
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent: 'Node.js' }, configurable: true });
  try {
    return load();
  } finally {
    delete (globalThis as { navigator?: unknown }).navigator;
  }
}
