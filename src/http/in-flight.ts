/**
 * Counts route handlers still running, so a shutdown can wait for them before closing the
 * database. Connections are not enough: a client that hangs up mid-request (a load generator
 * stopping, a browser tab closing) ends the connection while its handler is still working.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';

export interface InFlight {
  /** Resolves once no handler is running (or after `timeoutMs`, whichever comes first). */
  idle(timeoutMs: number): Promise<void>;
}

export function trackHandlers(server: FastifyInstance): InFlight {
  let running = 0;
  let waiters: (() => void)[] = [];
  const done = () => {
    running--;
    if (running === 0) {
      const ready = waiters;
      waiters = [];
      for (const w of ready) w();
    }
  };
  // Every route registered after this hook has its handler wrapped (buildServer adds it first).
  server.addHook('onRoute', (route: RouteOptions) => {
    const handler = route.handler;
    route.handler = function (this: unknown, request, reply) {
      running++;
      let result: unknown;
      try {
        result = (handler as (...args: unknown[]) => unknown).call(this, request, reply);
      } catch (err) {
        done();
        throw err;
      }
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        return (result as Promise<unknown>).finally(done);
      }
      done();
      return result;
    } as RouteOptions['handler'];
  });
  return {
    idle(timeoutMs) {
      if (running === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
