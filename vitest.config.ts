// One test configuration for the whole repository, in two projects: `unit` (src/**/*.test.ts: pure logic,
// no server — `npm run test:unit`) and `store` (test/**/*.test.ts of each package and tools/stores: real
// PostgreSQL+PostGIS, Elasticsearch/OpenSearch and Neo4j on loopback, one file at a time because they
// share the servers). `npm test` runs both.
import { defineConfig } from 'vitest/config';

const slow = { testTimeout: 180_000, hookTimeout: 180_000 };

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['packages/*/src/**/*.test.ts'], ...slow } },
      {
        test: {
          name: 'store',
          include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'tools/stores/test/**/*.test.ts'],
          fileParallelism: false,
          ...slow,
        },
      },
    ],
  },
});
