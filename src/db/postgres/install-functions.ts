/** Installs Basalt's SQL functions on PostgreSQL (strftime with SQLite semantics, JSON comparison, data versions). */
import { DATA_VERSIONS_TABLE } from '../../core/internal-tables.js';
import { JSON_COMPARE_SQL } from './json-compare-function.js';
import { GEO_AND_HELPERS_SQL, STRFTIME_FUNCTION_SQL } from './strftime-function.js';
import { isTransactionConflict } from './transaction-conflict.js';

export interface SqlRunner {
  query(text: string): Promise<unknown>;
}

/**
 * The data version of a collection (PostgresFilterDialect.dataVersion), read as the calling
 * statement sees the data: a STABLE function runs with the caller's snapshot. Called as
 * `(SELECT basalt_data_version(key))`, once per statement, it costs the statement less than a
 * subquery over the versions table, which the planner would plan every time (~40 µs a list).
 */
const DATA_VERSION_SQL = `CREATE OR REPLACE FUNCTION basalt_data_version(key text) RETURNS bigint LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN (SELECT "v" FROM "${DATA_VERSIONS_TABLE}" WHERE "id" = key);
END $$`;

// One simple-protocol message is one implicit transaction: the lock is held to its end, a
// failure rolls everything back, and it works the same on a pool as on a single client.
const INSTALL_SCRIPT = [
  "SELECT pg_advisory_xact_lock(hashtext('basalt:functions'))",
  GEO_AND_HELPERS_SQL,
  STRFTIME_FUNCTION_SQL,
  JSON_COMPARE_SQL,
  DATA_VERSION_SQL,
].join(';\n');

/** Errors two installers racing without the lock (e.g. an older node) can still hit. */
function isCatalogRace(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return isTransactionConflict(err) || e?.code === '23505' ||
    (e?.code === 'XX000' && /concurrently updated/.test(String(e.message)));
}

/**
 * Creates or replaces Basalt's SQL functions in the current schema (the first on the
 * `search_path`), in one transaction. Idempotent and safe to run concurrently from several
 * nodes at start-up: installers serialise on a transaction-scoped advisory lock, and a catalog
 * race with an installer that does not take it is retried. Should a Basalt upgrade change the
 * shape of the `basalt_dt` type, the type and its functions are dropped and recreated.
 *
 * @param client a `pg.Client`, `pg.PoolClient` or `pg.Pool` (a single simple-protocol query).
 */
export async function installPostgresFunctions(client: SqlRunner): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.query(INSTALL_SCRIPT);
      return;
    } catch (err) {
      if (attempt >= 3 || !isCatalogRace(err)) throw err;
    }
  }
}
