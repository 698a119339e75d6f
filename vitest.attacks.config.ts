import { defineConfig } from 'vitest/config';

// The attack suite (test/attacks): latency under attack is its point, so its files run one at a
// time on an otherwise idle machine, never beside the other suites. BASALT_TEST_DB picks the engine.
export default defineConfig({
  test: {
    include: ['test/attacks/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default'],
  },
});
