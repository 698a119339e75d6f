/**
 * The Tracing port on `@opentelemetry/api`, with a tracer provider built elsewhere (the CLI from
 * the `OTEL_*` variables, cli/tracing-sdk.ts; a test with an in-memory exporter). Loaded only
 * when tracing is on.
 *
 * Context travels with AsyncLocalStorage: the span made active around a route handler is the
 * parent of the database and outgoing-HTTP spans opened anywhere below it, without passing it
 * down by hand. W3C Trace Context is read from and written to headers with the official
 * propagator, not the global one, so an embedding program's own OpenTelemetry setup is left alone.
 */
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span, type TextMapGetter, type TracerProvider } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { suppressTracing, W3CTraceContextPropagator } from '@opentelemetry/core';
import { TRACEPARENT_HEADER, TRACESTATE_HEADER, type StoredTrace, type Tracing } from '../core/tracing/tracing.js';

const KINDS = { internal: SpanKind.INTERNAL, client: SpanKind.CLIENT, consumer: SpanKind.CONSUMER } as const;

type Headers = Record<string, string | string[] | undefined>;

const headerGetter: TextMapGetter<Headers> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/**
 * Context propagation needs a context manager; the API's default one propagates nothing. One is
 * set for the process unless the embedding program set its own (which then carries ours too).
 */
function ensureContextManager(): void {
  const probe = trace.setSpan(ROOT_CONTEXT, trace.wrapSpanContext({ traceId: '1'.repeat(32), spanId: '1'.repeat(16), traceFlags: 0 }));
  if (context.with(probe, () => context.active()) === probe) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

/** A StoredTrace as the headers it came from. */
function storedHeaders(stored: StoredTrace): Headers {
  const space = stored.indexOf(' ');
  return space === -1 ? { [TRACEPARENT_HEADER]: stored } : { [TRACEPARENT_HEADER]: stored.slice(0, space), [TRACESTATE_HEADER]: stored.slice(space + 1) };
}

export interface OtelTracingOptions {
  /** Flushes and stops the provider at shutdown (the SDK's `shutdown`). */
  shutdown?: () => Promise<void>;
}

export function createOtelTracing(provider: TracerProvider, options: OtelTracingOptions = {}): Tracing {
  ensureContextManager();
  const tracer = provider.getTracer('basalt');
  const propagator = new W3CTraceContextPropagator();
  const fail = (span: Span, err?: unknown) => {
    // The exception's type only: messages may carry values (a unique key, an e-mail address).
    span.setStatus({ code: SpanStatusCode.ERROR });
    if (err instanceof Error) span.setAttribute('error.type', err.name || 'Error');
  };
  return {
    startServerSpan(name, headers, attributes) {
      const parent = headers[TRACEPARENT_HEADER] === undefined ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, headers, headerGetter);
      return tracer.startSpan(name, { kind: SpanKind.SERVER, attributes }, parent);
    },
    inSpan(name, { kind = 'internal', attributes, parent }, fn) {
      // A stored context that does not parse (a row written by hand) starts a new trace.
      const ctx = parent === undefined ? context.active() : parent === null ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, storedHeaders(parent), headerGetter);
      return tracer.startActiveSpan(name, { kind: KINDS[kind], attributes }, ctx, async (span) => {
        try {
          return await fn(span);
        } catch (err) {
          fail(span, err);
          throw err;
        } finally {
          span.end();
        }
      });
    },
    within(span, fn) {
      return context.with(trace.setSpan(context.active(), span), fn);
    },
    background(fn) {
      return context.with(suppressTracing(ROOT_CONTEXT), fn);
    },
    traceparent() {
      const carrier: Record<string, string> = {};
      propagator.inject(context.active(), carrier, { set: (c, k, v) => void (c[k] = v) });
      return carrier[TRACEPARENT_HEADER];
    },
    storedTrace() {
      const carrier: Record<string, string> = {};
      propagator.inject(context.active(), carrier, { set: (c, k, v) => void (c[k] = v) });
      const parent = carrier[TRACEPARENT_HEADER];
      if (!parent) return undefined;
      const state = carrier[TRACESTATE_HEADER];
      return state ? `${parent} ${state}` : parent;
    },
    inject(headers) {
      propagator.inject(context.active(), headers, { set: (c, k, v) => void (c[k] = v) });
    },
    fail,
    close: options.shutdown ?? (async () => {}),
  };
}
