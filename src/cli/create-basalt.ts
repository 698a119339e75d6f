/**
 * Framework mode: Basalt as a library. `createBasalt(options)` opens the same app `basalt serve`
 * runs (the CLI is built on it), loads the hook files of `hooksDir` if any, and lets the program
 * register hooks, routes, crons and jobs in code before (or after) `listen()`:
 *
 *   const basalt = await createBasalt({ dir: './basalt_data' });
 *   basalt.onRecordCreate(async (e) => { …; await e.next(); }, 'orders');
 *   basalt.routerAdd('GET', '/api/hello', (e) => e.json(200, { hello: 'world' }));
 *   await basalt.listen();
 */
import type { FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { App } from '../core/app.js';
import type { Config } from '../core/config.js';
import { HookBindings } from '../core/hooks/hook-bindings.js';
import type { HooksApi } from '../core/hooks/hooks-api.js';
import { buildServer } from '../http/server.js';
import { startMetricsServer, type MetricsServer } from '../http/metrics-server.js';
import { buildConfig, readOptions, SERVE_OPTIONS } from './config-from-args.js';
import { defaultHooksDir, loadHookFiles, type HookFiles } from './hook-files.js';
import { createLogger, openApp, type AppLogger } from './open-app.js';
import { startTracing } from './start-tracing.js';

/** The options of `basalt serve`, by flag name (`{ http: '0.0.0.0:8090', dir: './data', db: 'postgres://…' }`). */
export type BasaltOptions = Partial<Record<keyof typeof SERVE_OPTIONS, string | boolean>> & {
  /** Or a complete configuration (tests and embedders that build their own). */
  config?: Config;
};

export type Basalt = Omit<HooksApi, never> & {
  readonly app: App;
  readonly config: Config;
  /** The base URL of the `--metrics-http` server, once `listen()` started it; null otherwise. */
  metricsUrl(): string | null;
  /** The HTTP server (once `listen()` or `server()` was called). */
  server(): Promise<FastifyInstance>;
  /** Runs the onServe hooks and listens on `config.http` (or `address`); returns the base URL. */
  listen(address?: { host?: string; port?: number }): Promise<string>;
  /** Runs the onTerminate hooks, stops accepting requests, lets running ones finish, closes the app. */
  close(): Promise<void>;
};

/** Registrations on the Basalt object take effect at once (a binding set of their own each). */
function immediate(app: App): HooksApi {
  const call = (invoke: (api: HooksApi) => unknown) => {
    const bindings = new HookBindings();
    const result = invoke(app.hooksApi(bindings, 'code'));
    app.hooks.add(bindings);
    return result;
  };
  const probe = app.hooksApi(new HookBindings(), 'code');
  return new Proxy(probe, {
    get(target, prop) {
      if (prop === 'jobs') {
        return {
          define: (...args: Parameters<HooksApi['jobs']['define']>) => call((api) => api.jobs.define(...args)),
          enqueue: (...args: Parameters<HooksApi['jobs']['enqueue']>) => target.jobs.enqueue(...args),
        };
      }
      if (prop === 'webhooks') {
        return { receive: (...args: Parameters<HooksApi['webhooks']['receive']>) => call((api) => api.webhooks.receive(...args)) };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (typeof prop === 'string' && (prop.startsWith('on') || prop === 'routerAdd' || prop === 'cronAdd')) {
        return (...args: unknown[]) => call((api) => (api[prop as keyof HooksApi] as (...a: unknown[]) => unknown)(...args));
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
}

export async function createBasalt(options: BasaltOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<Basalt> {
  const { config: given, ...flags } = options;
  const config = given ?? configFrom(flags, env);
  const logger: AppLogger = createLogger(config);
  // OpenTelemetry tracing, off unless the OTEL_* variables configure an exporter (README "Tracing").
  const app = await openApp(config, logger, await startTracing(env));
  let hookFiles: HookFiles | null = null;
  let server: FastifyInstance | null = null;
  let metricsServer: MetricsServer | null = null;
  try {
    const dir = config.hooksDir || defaultHooksDir(config.dataDir);
    if (dir) hookFiles = await loadHookFiles(app, dir, { dev: config.dev });
    await app.hooks.registry.lifecycle(app.hooks.registry.onBootstrap);
  } catch (err) {
    hookFiles?.close();
    await app.close();
    throw err;
  }
  const api = immediate(app);
  const getServer = async () => (server ??= await buildServer(app, { requestLog: ['info', 'debug', 'trace'].includes(config.logLevel) }));
  let closing: Promise<void> | null = null;
  const extras = {
    app,
    config,
    server: getServer,
    metricsUrl: () => metricsServer?.url ?? null,
    async listen(address: { host?: string; port?: number } = {}) {
      const s = await getServer();
      await app.hooks.registry.lifecycle(app.hooks.registry.onServe);
      await s.listen({ host: address.host ?? config.http.host, port: address.port ?? config.http.port });
      if (config.metrics.http && !metricsServer) {
        try {
          metricsServer = await startMetricsServer(app, config.metrics.http);
        } catch (err) {
          const e = err as { code?: string };
          if (e.code === 'EADDRINUSE') throw new Error(`cannot listen on ${config.metrics.http.host}:${config.metrics.http.port} for the metrics: the address is in use (choose another with --metrics-http)`);
          throw err;
        }
      }
      // Cron jobs fire only in a serving process (as PocketBase's OnServe), never in one-shot commands.
      app.crons.start();
      const a = s.addresses().find((x): x is AddressInfo => typeof x === 'object') ?? null;
      return a ? `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}` : config.appUrl;
    },
    close() {
      return (closing ??= (async () => {
        hookFiles?.close();
        await metricsServer?.close();
        await app.hooks.registry.lifecycle(app.hooks.registry.onTerminate).catch((err) => logger.error({ err }, 'onTerminate hook failed'));
        if (server) {
          const closed = server.close(); // stops accepting; resolves once every connection ended
          // A client that hung up leaves its handler running: let it finish before the database goes.
          await server.inFlight.idle(15_000);
          // A request that finished during the shutdown leaves its keep-alive connection open (until
          // its keep-alive timeout): close connections as they become idle.
          const sweep = setInterval(() => server!.server.closeIdleConnections(), 50);
          try {
            await closed;
          } finally {
            clearInterval(sweep);
          }
        }
        await app.close();
        logger.flush();
      })());
    },
  };
  return new Proxy(api, {
    get(target, prop) {
      if (Object.hasOwn(extras, prop)) return extras[prop as keyof typeof extras];
      return Reflect.get(target, prop, target);
    },
  }) as unknown as Basalt;
}

function configFrom(flags: Omit<BasaltOptions, 'config'>, env: NodeJS.ProcessEnv): Config {
  const names = Object.keys(SERVE_OPTIONS) as (keyof typeof SERVE_OPTIONS)[];
  const fromEnv = readOptions([], env, names).values;
  return buildConfig({ ...fromEnv, ...flags });
}
