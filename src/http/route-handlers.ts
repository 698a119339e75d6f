/**
 * Every route handler is wrapped once, when its route is registered, for two things that must
 * hold for all of them (one wrapper is cheaper than a hook per request):
 * - `fields` picking of the 2xx JSON result (spec §1.1);
 * - a count of the handlers still running, so a shutdown can wait for them before closing the
 *   database. Connections are not enough: a client that hangs up mid-request (a load generator
 *   stopping, a browser tab closing) ends its connection while its handler is still working;
 * - `Idempotency-Key` on routes registered with `config: { idempotent: true }` (idempotency.ts):
 *   a request without the header pays one header lookup;
 * - with tracing on, the handler runs in the request's span (request-span.ts), so the spans it
 *   opens (database, outgoing HTTP) and the jobs it enqueues belong to the request's trace;
 * - with read replicas (`--db-replica`), the handler runs attributed to its client
 *   (replica-clients.ts), and routes registered with `config: { replicaReads: true }` may read
 *   from a replica. Without replicas this costs nothing.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { pickListOrRecord } from '../core/records/fields-picker.js';
import { IDEMPOTENCY_HEADER } from '../core/idempotency/idempotency-key.js';
import type { RouteIdempotency } from './idempotency.js';
import type { Tracing } from '../core/tracing/tracing.js';
import type { ReplicaRouting } from '../core/ports.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route's reads outside transactions may be served by a read replica (README "Read
     * replicas"): GET reads that need no fresher view than the client's own writes. @default false
     */
    replicaReads?: boolean;
  }
}

/** The read replicas and how a request's client is named for them (read-your-writes). */
export interface ReplicaAttribution {
  routing: ReplicaRouting;
  clients(request: FastifyRequest): readonly string[];
}

export interface InFlight {
  /** Resolves once no handler is running (or after `timeoutMs`, whichever comes first). */
  idle(timeoutMs: number): Promise<void>;
  /**
   * Counts `work` as a running handler until it settles (handlers not registered as routes:
   * custom routes), attributed to the client of `request` for the read replicas (its writes are
   * remembered; its reads stay on the primary).
   */
  track<T>(work: () => Promise<T>, request?: FastifyRequest): Promise<T>;
}

/** The result as the client asked for it: `fields` applied to a successful JSON object. */
function picked(request: FastifyRequest, reply: FastifyReply, result: unknown): unknown {
  const picker = request.fieldsPicker;
  // A handler that sent its answer itself (a streamed file) returns the reply: nothing to pick.
  if (!picker || result === null || typeof result !== 'object' || result === reply || reply.statusCode >= 300 || Buffer.isBuffer(result)) return result;
  return pickListOrRecord(result, picker);
}

/** Wraps the handlers of every route registered after this call (buildServer calls it first). */
export function wrapRouteHandlers(server: FastifyInstance, idempotency?: RouteIdempotency, tracing?: Tracing | null, replicas?: ReplicaAttribution | null): InFlight {
  let running = 0;
  let waiters: (() => void)[] = [];
  const done = () => {
    running--;
    if (running === 0 && waiters.length > 0) {
      const ready = waiters;
      waiters = [];
      for (const w of ready) w();
    }
  };
  server.addHook('onRoute', (route: RouteOptions) => {
    const handler = route.handler as (this: unknown, request: FastifyRequest, reply: FastifyReply) => unknown;
    const idempotent = idempotency && route.config?.idempotent === true;
    // Route-level, so routes without the option pay nothing for it.
    if (idempotent) route.onSend = [...(route.onSend ? [route.onSend].flat() : []), idempotency.onSend];
    const wrapped = function (this: unknown, request: FastifyRequest, reply: FastifyReply) {
      running++;
      let result: unknown;
      try {
        result =
          idempotent && request.headers[IDEMPOTENCY_HEADER] !== undefined
            ? idempotency.run(request, reply, async () => handler.call(this, request, reply))
            : handler.call(this, request, reply);
      } catch (err) {
        done();
        throw err;
      }
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        return (result as Promise<unknown>).then(
          (value) => {
            done();
            return picked(request, reply, value);
          },
          (err: unknown) => {
            done();
            throw err;
          },
        );
      }
      done();
      return picked(request, reply, result);
    };
    const traced = tracing
      ? function (this: unknown, request: FastifyRequest, reply: FastifyReply) {
          const span = request.basaltSpan;
          return span ? tracing.within(span, () => wrapped.call(this, request, reply)) : wrapped.call(this, request, reply);
        }
      : wrapped;
    // Decided once per route: only the GET reads that need no fresh view (README "Read replicas") say so.
    const replicaReads = route.config?.replicaReads === true;
    route.handler = (
      replicas
        ? function (this: unknown, request: FastifyRequest, reply: FastifyReply) {
            return replicas.routing.run(replicas.clients(request), replicaReads, () => traced.call(this, request, reply));
          }
        : traced
    ) as RouteOptions['handler'];
  });
  return {
    async track(work, request) {
      running++;
      try {
        return await (replicas && request ? replicas.routing.run(replicas.clients(request), false, work) : work());
      } finally {
        done();
      }
    },
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
