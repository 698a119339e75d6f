/** Opens the database named by the config and creates the app, with start-up errors made readable. */
import pino from 'pino';
import { createApp, type App, type AppDeps } from '../core/app.js';
import type { Config } from '../core/config.js';
import type { AccessEntry, Logger } from '../core/ports.js';
import { Redis } from 'ioredis';
import { openFileStorage } from '../adapters/create-file-storage.js';
import { localAdapters } from '../adapters/local-adapters.js';
import { createMetrics } from '../adapters/prometheus-metrics.js';
import { redisAdapters } from '../adapters/redis-adapters.js';
import { createDatabase, parseDatabaseUrl } from '../db/create-database.js';
import { UsageError } from './config-from-args.js';
import type { Tracing } from '../core/tracing/tracing.js';

/** Text that needs no JSON escaping (no quote, backslash or control character). */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped
const PLAIN_JSON_TEXT = /^[^"\\\u0000-\u001f\u007f-\u009f\u2028\u2029]*$/;

export type AppLogger = Logger & { flush(): void };

/** `dest`: a file descriptor or path (tests); standard output by default. */
export function createLogger(config: Config, dest: number | string = 1): AppLogger {
  // Buffered writes keep logging off the request's critical path; flushed at shutdown.
  const destination = pino.destination({ dest, sync: false, minLength: 4096 });
  const logger = pino(
    {
      level: config.logLevel,
      base: undefined,
      // Defence in depth: these keys never reach a log line, whatever a caller passes.
      redact: { paths: ['password', 'token', 'authorization', '*.password', '*.token', '*.authorization', 'headers.authorization'], remove: true },
    },
    destination,
  );
  const infoEnabled = logger.isLevelEnabled('info');
  // The request line has a fixed shape of safe values: written directly in pino's JSON format
  // (level 30 = info), it costs a fraction of a generic call with redaction.
  const quote = (text: string) => (PLAIN_JSON_TEXT.test(text) ? `"${text}"` : JSON.stringify(text));
  const access = (e: AccessEntry): void => {
    if (!infoEnabled) return;
    destination.write(
      `{"level":30,"time":${Date.now()},"method":${quote(e.method)},"path":${quote(e.path)},"status":${e.status},"durationMs":${e.durationMs},"msg":"request"}\n`,
    );
  };
  return Object.assign(logger, { access });
}

function describeDbError(err: unknown, url: string): string {
  const e = err as { code?: string; message?: string };
  const safeUrl = url.replace(/\/\/([^:@/]+)(:[^@/]*)?@/, '//$1:***@');
  const hints: Record<string, string> = {
    ECONNREFUSED: 'is the server running and listening on that host and port?',
    ENOTFOUND: 'the host name does not resolve',
    '3D000': 'the database does not exist: create it first (createdb) or fix the name',
    '28P01': 'wrong password',
    '28000': 'the server refused this user',
    SQLITE_CANTOPEN: 'the file cannot be opened: check --dir and its permissions',
  };
  const hint = (e.code && hints[e.code]) || '';
  return `cannot open the database ${safeUrl || '(SQLite)'}: ${e.message ?? String(err)}${hint ? ` (${hint})` : ''}`;
}

/** `tracing`: spans of the server (createBasalt starts it from the OTEL_* variables); the app closes it. */
export async function openApp(config: Config, logger: Logger, tracing: Tracing | null = null): Promise<App> {
  let dbConfig;
  try {
    dbConfig = parseDatabaseUrl(config.databaseUrl, config.dataDir);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const metrics = createMetrics(config.metrics);
  const engine = dbConfig.type;
  let db;
  try {
    const replicas = dbConfig.type === 'postgres' && config.databaseReplicas.length > 0 ? { replicas: config.databaseReplicas, replicaMaxLagMs: config.replicaMaxLagMs } : {};
    db = await createDatabase({ ...dbConfig, ...replicas, queryTimeoutMs: config.queryTimeoutMs, observe: metrics.enabled ? (kind, seconds, server) => metrics.dbQuery(engine, kind, seconds, server) : undefined, tracing });
  } catch (err) {
    await tracing?.close();
    throw new UsageError(describeDbError(err, config.databaseUrl));
  }
  let redis: Redis | null = null;
  try {
    const files = await openFileStorage(config).catch((err: Error) => {
      throw new UsageError(err.message);
    });
    let adapters: Omit<AppDeps, 'db' | 'logger'> = { ...localAdapters(config, tracing), files, metrics };
    if (config.redisUrl) {
      redis = await connectRedis(config.redisUrl);
      adapters = { ...adapters, ...redisAdapters(redis) };
    }
    // Several nodes: a client's read on another node than its write's also waits for a replica to replay it.
    await db.replicas?.share(adapters.pubsub);
    const app = await createApp(config, { db, logger, ...adapters, tracing });
    if (!redis) return app;
    const connection = redis;
    const close = app.close;
    return Object.assign(app, {
      async close() {
        await close();
        await connection.quit().catch(() => connection.disconnect());
      },
    });
  } catch (err) {
    await db.close().catch(() => {});
    await tracing?.close().catch(() => {});
    redis?.disconnect();
    throw err;
  }
}

/** Connects to Redis and checks it answers, failing fast with a message that says what to change. */
async function connectRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: 5000, enableOfflineQueue: true });
  redis.on('error', () => {}); // reported through failed commands; ioredis reconnects by itself
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (err) {
    redis.disconnect();
    const safeUrl = url.replace(/\/\/([^:@/]*)(:[^@/]*)?@/, '//$1:***@');
    throw new UsageError(`cannot reach Redis at ${safeUrl}: ${(err as Error).message} (is it running? check --redis / BASALT_REDIS)`);
  }
}
