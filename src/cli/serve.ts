/** `basalt serve`: starts the HTTP server (through framework mode); SIGINT/SIGTERM stop it gracefully. */
import { buildConfig, readOptions, STORAGE_OPTIONS } from './config-from-args.js';
import { createBasalt } from './create-basalt.js';
import { firstRunNotice } from './first-run-link.js';

export async function serve(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values } = readOptions(args, env, ['http', 'dir', 'db', 'db-replica', 'db-replica-max-lag', 'redis', 'log-level', 'app-url', 'app-name', 'trust-proxy', 'query-timeout', 'slow-query', 'hooks', 'dev', 'webhook-allow', 'webhook-concurrency', 'metrics-token', 'metrics-http', 'no-dashboard', ...STORAGE_OPTIONS]);
  const config = buildConfig(values);
  const basalt = await createBasalt({ config });
  const { app } = basalt;
  let shown: string;
  try {
    shown = await basalt.listen();
  } catch (err) {
    await basalt.close();
    const e = err as { code?: string; message?: string };
    if (e.code === 'EADDRINUSE') throw new Error(`cannot listen on ${config.http.host}:${config.http.port}: the address is in use (choose another with --http)`);
    throw err;
  }
  console.log(`Basalt is serving ${shown}  (API: ${shown}/api/, ${config.dashboardDir === '' ? 'dashboard off' : `dashboard: ${shown}/_/`}, database: ${app.db.engine})`);
  const notice = await firstRunNotice(app, shown);
  if (notice) console.log(notice);
  const metricsUrl = basalt.metricsUrl();
  if (metricsUrl) console.log(`Prometheus metrics: ${metricsUrl}/metrics`);

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      app.logger.info({ signal }, 'shutting down: finishing in-flight requests');
      try {
        await basalt.close();
        resolve(0);
      } catch (err) {
        app.logger.error({ err }, 'shutdown failed');
        resolve(1);
      }
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
}
