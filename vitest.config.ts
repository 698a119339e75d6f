import { defineConfig } from 'vitest/config';

// BASALT_TEST_DB selects the engine the API suites run on: sqlite (default) or postgres.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Latency under attack is measured alone: npm run test:attacks (vitest.attacks.config.ts);
    // the three-node cluster behind nginx too: npm run test:cluster (vitest.cluster.config.ts);
    // the read replicas start PostgreSQL servers of their own: npm run test:replicas;
    // the dashboard's journey drives a browser: npm run test:dashboard.
    exclude: ['test/attacks/**', 'test/cluster/**', 'test/replicas/**', 'test/dashboard/**', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two workers, each loading Basalt's modules once for all its files rather than once a file:
    // an API file spent ~5 s importing the app and ~2 s testing it, and vitest's default on a
    // 2-core machine is one worker. Measured on 2 cores: npm test 6m31s → 2m25s, test:pg ~7m30s
    // → 3m40s. Shared modules mean a suite leaves nothing behind: it restores what it changes of
    // process.env, console spies (harness/run-main.ts) and timers (vi.useRealTimers).
    // Two, not one per core: every PostgreSQL file opens several pools at once.
    isolate: false,
    maxWorkers: 2,
    reporters: ['default'],
    // Two files at a time share two cores: what a poll waits for can take seconds at a busy moment.
    // A poll ends as soon as it holds; vitest's default gives up after 1 s.
    expect: { poll: { timeout: 10_000 } },
  },
});
