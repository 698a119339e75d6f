/**
 * Which database engines the API suites run on. BASALT_TEST_DB selects one (sqlite, postgres);
 * the default is SQLite, so `npm test` needs no service. CI runs the suites once per engine.
 */
export type Engine = 'sqlite' | 'postgres';

export const ENGINE: Engine = process.env.BASALT_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';

/** The server the PostgreSQL suites create their databases on (a maintenance connection). */
export const PG_ADMIN_URL = process.env.BASALT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Redis for the suites that need one (rate-limit store, multi-node): set by CI; those suites skip without it. */
export const REDIS_URL = process.env.BASALT_TEST_REDIS_URL ?? '';
