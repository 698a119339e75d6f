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
    reporters: ['default'],
  },
});
