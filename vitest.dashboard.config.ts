import { defineConfig } from 'vitest/config';

// The dashboard's browser journey (test/dashboard): a real `basalt serve` and Debian's Chromium
// through playwright-core. Not part of `npm test`: run `npm run test:dashboard` (it builds first),
// with BASALT_TEST_DB=postgres for PostgreSQL (`npm run test:dashboard:pg`).
export default defineConfig({
  test: {
    include: ['test/dashboard/**/*.test.ts'],
    setupFiles: ['test/dashboard/setup-failures.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default'],
    // A screen can take seconds to show on a loaded CI machine: a poll waits up to 10 s (it ends as
    // soon as it holds), where vitest's default of 1 s made slow moments fail.
    expect: { poll: { timeout: 10_000 } },
  },
});
