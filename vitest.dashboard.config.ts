import { defineConfig } from 'vitest/config';

// The dashboard's browser journey (test/dashboard): a real `basalt serve` and Debian's Chromium
// through playwright-core. Not part of `npm test`: run `npm run test:dashboard` (it builds first),
// with BASALT_TEST_DB=postgres for PostgreSQL (`npm run test:dashboard:pg`).
export default defineConfig({
  test: {
    include: ['test/dashboard/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default'],
  },
});
