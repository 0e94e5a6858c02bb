// The multi-node search tests (`npm run test:cluster`): a three-node cluster that the tests start with
// tools/stores/up.sh --search-nodes 3 and whose nodes they kill. Kept out of `npm test` so the main suite's
// time does not grow; `.ci/run` runs it after the main suite.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'cluster',
    include: ['packages/*/test/cluster/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
