// Connection settings for the smoke tests: the same env vars as tools/stores/env.sh, same local defaults.
import os from 'node:os';

export const PG_DSN = process.env.KFM_PG_DSN ?? 'postgres://127.0.0.1:5432/kfm_test';
// A DSN without a user means "the OS user" (as for psql). node-postgres takes that from $USER, which is not
// always set (e.g. in CI or cron), so fall back to the real OS user name through PGUSER.
if (!process.env.PGUSER && !process.env.USER) process.env.PGUSER = os.userInfo().username;
export const ES_URL = process.env.KFM_ES_URL ?? 'http://127.0.0.1:9200';
/** The search engine expected at ES_URL (the `store-opensearch` vitest project sets opensearch). */
export const SEARCH_ENGINE = process.env.KFM_SEARCH_ENGINE === 'opensearch' ? 'opensearch' : 'elasticsearch';
export const NEO4J_URI = process.env.KFM_NEO4J_URI ?? 'bolt://127.0.0.1:7687';
export const NEO4J_USER = process.env.KFM_NEO4J_USER ?? 'neo4j';
export const NEO4J_PASSWORD = process.env.KFM_NEO4J_PASSWORD ?? 'kfm-local-dev';

/** A name fragment unique to this test run: lowercase letters/digits only, safe for indices, schemas, labels. */
export function runId(): string {
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
