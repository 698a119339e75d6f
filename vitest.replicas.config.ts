import { defineConfig } from 'vitest/config';

// The read-replica suite (test/replicas): a PostgreSQL primary and a streaming replica of its own
// (initdb, pg_basebackup) on loopback ports, and Basalt with --db-replica. It starts and stops
// servers, so it runs alone and is not part of `npm test`; it skips without the PostgreSQL
// server binaries under /usr/lib/postgresql.
export default defineConfig({
  test: {
    include: ['test/replicas/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 90_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default'],
  },
});
