// node-postgres, loaded on first use: commands that never connect (validate, report, lint without a
// store) do not pay for the driver.
import { createRequire } from 'node:module';
import type pg from 'pg';

let loaded: typeof pg | undefined;

export function pgModule(): typeof pg {
  loaded ??= createRequire(import.meta.url)('pg') as typeof pg;
  return loaded;
}
