import { join } from 'node:path';
import type { Database, QueryObserver } from '../core/ports.js';
import type { Tracing } from '../core/tracing/tracing.js';
import { openPostgres } from './postgres/postgres-database.js';
import { openSqlite } from './sqlite/sqlite-database.js';

export type DatabaseConfig = (
  | { type: 'sqlite'; file: string; readWorkers?: number; backgroundCheckpoints?: boolean }
  | { type: 'postgres'; url: string; maxConnections?: number; /** `--db-replica` URLs (README "Read replicas"). @default none */ replicas?: readonly string[]; /** @default 5000 */ replicaMaxLagMs?: number }
) & {
  /** Deadline of a client-facing query, waiting for a connection or worker included (Config.queryTimeoutMs). @default 5000 */
  queryTimeoutMs?: number;
  /** Told the duration of each transaction and of each statement outside one (the metrics). @default none */
  observe?: QueryObserver;
  /** Database spans (README "Tracing"); null or absent: tracing is off. */
  tracing?: Tracing | null;
};

/**
 * Reads `--db`: empty means SQLite at `<dir>/data.db`; `postgres://` or `postgresql://` selects
 * PostgreSQL; `sqlite:PATH` or a plain path selects another SQLite file.
 */
export function parseDatabaseUrl(url: string | undefined, dataDir: string): DatabaseConfig {
  const value = (url ?? '').trim();
  if (value === '') return { type: 'sqlite', file: join(dataDir, 'data.db') };
  if (/^postgres(ql)?:\/\//i.test(value)) return { type: 'postgres', url: value };
  if (/^sqlite:/i.test(value)) return { type: 'sqlite', file: value.replace(/^sqlite:(\/\/)?/i, '') };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new Error(`unsupported database URL scheme in "${value.replace(/\/\/[^@/]*@/, '//***@')}": use postgres://… or a SQLite file path`);
  }
  return { type: 'sqlite', file: value };
}

export async function createDatabase(config: DatabaseConfig): Promise<Database> {
  switch (config.type) {
    case 'sqlite':
      return openSqlite({ file: config.file, readWorkers: config.readWorkers, queryTimeoutMs: config.queryTimeoutMs, backgroundCheckpoints: config.backgroundCheckpoints, observe: config.observe, tracing: config.tracing });
    case 'postgres':
      return openPostgres({ url: config.url, maxConnections: config.maxConnections, replicas: config.replicas, replicaMaxLagMs: config.replicaMaxLagMs, statementTimeoutMs: config.queryTimeoutMs, observe: config.observe, tracing: config.tracing });
  }
}
