import { defineConfig } from 'vitest/config';

// The cluster suite (test/cluster): three `basalt serve` processes on one PostgreSQL database and
// one Redis, behind nginx. It starts real processes and kills one, so it runs alone and is not
// part of `npm test`; it needs the build (npm run build), PostgreSQL, Redis and nginx.
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default'],
  },
});
