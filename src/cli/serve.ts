/** `basalt serve`: starts the HTTP server; SIGINT/SIGTERM stop it gracefully. */
import { buildServer } from '../http/server.js';
import { buildConfig, readOptions, STORAGE_OPTIONS } from './config-from-args.js';
import { createLogger, openApp } from './open-app.js';

export async function serve(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = readOptions(args, env, ['http', 'dir', 'db', 'redis', 'log-level', 'app-url', 'app-name', 'trust-proxy', 'query-timeout', ...STORAGE_OPTIONS]);
  const config = buildConfig(values);
  const logger = createLogger(config);
  const app = await openApp(config, logger);
  // One line per request at info level and below; a quieter level skips the hook entirely.
  const server = await buildServer(app, { requestLog: ['info', 'debug', 'trace'].includes(config.logLevel) });
  try {
    await server.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    await app.close();
    const e = err as { code?: string; message?: string };
    if (e.code === 'EADDRINUSE') throw new Error(`cannot listen on ${config.http.host}:${config.http.port}: the address is in use (choose another with --http)`);
    throw err;
  }
  // Cron jobs fire only in a serving process (as PocketBase's OnServe), never in one-shot commands.
  app.crons.start();
  const address = server.addresses()[0];
  const shown = address && typeof address !== 'string' ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : config.appUrl;
  console.log(`Basalt is serving ${shown}  (API: ${shown}/api/, database: ${app.db.engine})`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down: finishing in-flight requests');
      try {
        await server.close(); // stops accepting, waits for open connections
        // A client that hung up leaves its handler running: let it finish before the database goes.
        await server.inFlight.idle(15_000);
        await app.close();
        logger.info({}, 'stopped');
        logger.flush();
        resolve(0);
      } catch (err) {
        logger.error({ err }, 'shutdown failed');
        resolve(1);
      }
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
}
