// One test configuration for the whole repository, in three projects:
// - `unit`: src/**/*.test.ts, pure logic, no server (`npm run test:unit`);
// - `store`: test/**/*.test.ts of each package and tools/stores, against real PostgreSQL+PostGIS,
//   Elasticsearch and Neo4j on loopback, one file at a time because they share the servers;
// - `store-opensearch`: every search test again, against OpenSearch (KFM_OS_URL): the same files with
//   KFM_ES_URL pointed at OpenSearch and KFM_SEARCH_ENGINE=opensearch, which the tests check the server
//   against, so a run against the wrong engine fails. It runs after `store` (groupOrder), never beside it.
// `npm test` runs all three. The multi-node cluster tests have their own config (vitest.cluster.config.ts).
import { defineConfig } from 'vitest/config';

const slow = { testTimeout: 180_000, hookTimeout: 180_000 };

/** The test files that talk to a search engine: they run once per engine. */
export const searchTests = [
  'packages/baseline-search/test/**/*.test.ts',
  'packages/runner/test/search-escapes.test.ts',
  'packages/runner/test/search-rehearse.test.ts',
  'packages/runner/test/lifecycle-stores.test.ts',
  'tools/stores/test/search-engine.test.ts',
];

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['packages/*/src/**/*.test.ts'], ...slow } },
      {
        test: {
          name: 'store',
          include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'tools/stores/test/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'packages/*/test/cluster/**'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          ...slow,
        },
      },
      {
        test: {
          name: 'store-opensearch',
          include: searchTests,
          env: {
            KFM_ES_URL: process.env.KFM_OS_URL ?? 'http://127.0.0.1:9201',
            KFM_SEARCH_ENGINE: 'opensearch',
          },
          fileParallelism: false,
          sequence: { groupOrder: 2 },
          ...slow,
        },
      },
    ],
  },
});
