/**
 * Boots a Basalt app on a fresh database of the engine under test: a temporary SQLite file, or a
 * new PostgreSQL database created for this test file and dropped afterwards.
 */
import { localAdapters } from '../../src/adapters/local-adapters.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { createApp, type App, type AppDeps } from '../../src/core/app.js';
import { defaultConfig, type Config } from '../../src/core/config.js';
import { silentLogger, type QueryObserver } from '../../src/core/ports.js';
import { createMetrics } from '../../src/adapters/prometheus-metrics.js';
import { createDatabase } from '../../src/db/create-database.js';
import { buildServer } from '../../src/http/server.js';
import { ENGINE, PG_ADMIN_URL, type Engine } from './engines.js';

export interface TestApp {
  engine: Engine;
  app: App;
  server: FastifyInstance;
  config: Config;
  close(): Promise<void>;
}

let counter = 0;

export async function createPgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `basalt_t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_ADMIN_URL);
  url.pathname = '/' + name;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export interface TestAppOptions {
  engine?: Engine;
  config?: Partial<Config>;
  deps?: Partial<Omit<AppDeps, 'db'>>;
  /** Another node of the same cluster: this app opens that app's database (PostgreSQL) instead of a new one. */
  sameDatabaseAs?: TestApp;
}

export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const engine = options.sameDatabaseAs?.engine ?? options.engine ?? ENGINE;
  const dir = mkdtempSync(join(tmpdir(), 'basalt-test-'));
  let dropDb = async () => {};
  let databaseUrl = '';
  if (options.sameDatabaseAs) {
    if (engine !== 'postgres') throw new Error('nodes share a database on PostgreSQL only');
    databaseUrl = options.sameDatabaseAs.config.databaseUrl;
  } else if (engine === 'postgres') {
    const created = await createPgDatabase();
    databaseUrl = created.url;
    dropDb = created.drop;
  }
  const config = defaultConfig({ dataDir: dir, databaseUrl, logLevel: 'silent', ...options.config });
  // `config.queryTimeoutMs` chooses the query deadline (a small one for deadline tests).
  const queryTimeoutMs = config.queryTimeoutMs;
  // As the CLI does: metrics only when the config asks for them; the database times its statements for them.
  const metrics = options.deps?.metrics ?? createMetrics(config.metrics);
  const observe: QueryObserver | undefined = metrics.enabled ? (kind, seconds) => metrics.dbQuery(engine, kind, seconds) : undefined;
  const db = await createDatabase(
    engine === 'postgres'
      ? { type: 'postgres', url: databaseUrl, maxConnections: 5, queryTimeoutMs, observe, tracing: options.deps?.tracing }
      : { type: 'sqlite', file: join(dir, 'data.db'), queryTimeoutMs, observe, tracing: options.deps?.tracing },
  );
  const app = await createApp(config, { db, logger: silentLogger, ...localAdapters(config, options.deps?.tracing), ...options.deps, metrics });
  const server = await buildServer(app, { requestLog: false });
  await server.ready();
  return {
    engine,
    app,
    server,
    config,
    async close() {
      await server.close();
      await server.inFlight.idle(5000);
      await app.close();
      await dropDb();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Listens on a free loopback port (for SSE, the SDK and concurrency tests) and returns the base URL. */
export async function listenOnLoopback(t: TestApp): Promise<string> {
  await t.server.listen({ host: '127.0.0.1', port: 0 });
  const address = t.server.addresses().find((a): a is AddressInfo => typeof a === 'object' && a.family === 'IPv4');
  if (!address) throw new Error('the server is not listening on IPv4');
  return `http://127.0.0.1:${address.port}`;
}
