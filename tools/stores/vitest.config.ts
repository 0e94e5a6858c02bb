import { defineConfig } from 'vitest/config';

// Smoke tests against the real local servers started by ./up.sh (or your own, via the KFM_* env vars).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // the three files talk to three different servers; running them one after another keeps the 2-core box calm
    fileParallelism: false,
  },
});
