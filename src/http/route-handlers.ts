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
 * - the restore gate: while a backup is being restored, no handler starts (503) but those of
 *   routes registered with `config: { duringRestore: true }` (health). Checked here, where the
 *   running count is taken, so a handler either started before the gate closed (and the restore
 *   waits for it) or never starts.
 * - with read replicas (`--db-replica`), the handler runs attributed to its client
 *   (replica-clients.ts), and routes registered with `config: { replicaReads: true }` may read
 *   from a replica. Without replicas this costs nothing.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { pickListOrRecord } from '../core/records/fields-picker.js';
import { IDEMPOTENCY_HEADER } from '../core/idempotency/idempotency-key.js';
import type { RouteIdempotency } from './idempotency.js';
import type { Tracing } from '../core/tracing/tracing.js';
import { ApiError, MESSAGES } from '../core/errors.js';
import type { ReplicaRouting } from '../core/ports.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route answers while a backup is being restored (health probes); every other one gets a 503. */
    duringRestore?: boolean;
    /**
     * The route's reads outside transactions may be served by a read replica (README "Read
     * replicas"): GET reads that need no fresher view than the client's own writes. @default false
     */
    replicaReads?: boolean;
  }
}

/** What a request gets while a backup is being restored. */
export const restoringError = (): ApiError => new ApiError(503, MESSAGES.restoring);

/** The read replicas and how a request's client is named for them (read-your-writes). */
export interface ReplicaAttribution {
  routing: ReplicaRouting;
  clients(request: FastifyRequest): readonly string[];
}

export interface InFlight {
  /**
   * Resolves once at most `others` handlers are running (none by default; a restore waits with
   * its own request still running), or after `timeoutMs`: true when they finished, false on time-out.
   */
  idle(timeoutMs: number, others?: number): Promise<boolean>;
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
export function wrapRouteHandlers(server: FastifyInstance, idempotency?: RouteIdempotency, tracing?: Tracing | null, restoring: () => boolean = () => false, replicas?: ReplicaAttribution | null): InFlight {
  let running = 0;
  let waiters: { others: number; wake: () => void }[] = [];
  const done = () => {
    running--;
    if (waiters.length > 0) {
      const ready = waiters.filter((w) => running <= w.others);
      if (ready.length === 0) return;
      waiters = waiters.filter((w) => running > w.others);
      for (const w of ready) w.wake();
    }
  };
  server.addHook('onRoute', (route: RouteOptions) => {
    const handler = route.handler as (this: unknown, request: FastifyRequest, reply: FastifyReply) => unknown;
    const idempotent = idempotency && route.config?.idempotent === true;
    const gated = route.config?.duringRestore !== true;
    // Route-level, so routes without the option pay nothing for it.
    if (idempotent) route.onSend = [...(route.onSend ? [route.onSend].flat() : []), idempotency.onSend];
    const wrapped = function (this: unknown, request: FastifyRequest, reply: FastifyReply) {
      if (gated && restoring()) throw restoringError();
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
      if (restoring()) throw restoringError();
      running++;
      try {
        return await (replicas && request ? replicas.routing.run(replicas.clients(request), false, work) : work());
      } finally {
        done();
      }
    },
    idle(timeoutMs, others = 0) {
      if (running <= others) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const waiter = {
          others,
          wake: () => {
            clearTimeout(timer);
            resolve(true);
          },
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          resolve(false);
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
  };
}
