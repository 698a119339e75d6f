/**
 * The Tracing port: the spans Basalt opens itself (docs/architecture.md, README "Tracing").
 * Tracing is off by default, and then no `Tracing` exists at all: every caller holds
 * `Tracing | null` and skips its span on null, so the default path pays one null check and
 * loads no OpenTelemetry SDK. The implementation (adapters/otel-tracing.ts) sits on
 * `@opentelemetry/api` with a tracer provider the CLI builds from the `OTEL_*` variables, or a
 * test passes in.
 */
import type { Attributes, Context, Span } from '@opentelemetry/api';

export type { Attributes, Context, Span };

/** The W3C `traceparent` header (https://www.w3.org/TR/trace-context/#traceparent-header). */
export const TRACEPARENT_HEADER = 'traceparent';
/** The W3C `tracestate` header, vendor data that travels with the traceparent. */
export const TRACESTATE_HEADER = 'tracestate';

/**
 * A span context stored with deferred work (a job's `trace` column, a webhook outbox row): the
 * traceparent, then a space and the tracestate when there is one. A traceparent has no space, so
 * the first one splits them.
 */
export type StoredTrace = string;

export interface Tracing {
  /**
   * Starts the SERVER span of an incoming request, a child of the caller's trace when `headers`
   * carry a valid `traceparent` (and `tracestate`). Not made active: the HTTP layer runs the
   * handler in it ({@link Tracing.within}) and ends it when the response is sent.
   */
  startServerSpan(name: string, headers: Record<string, string | string[] | undefined>, attributes: Attributes): Span;
  /**
   * Runs `fn` in a new span made active for `fn`'s duration; ended when `fn` settles, marked as
   * an error when it throws. Its parent: the active span when `parent` is undefined; the stored
   * context `parent` (a {@link StoredTrace}: a job run under the trace that enqueued it) when
   * given; none when null (a new trace, whatever is active).
   * @default kind internal
   */
  inSpan<T>(name: string, options: { kind?: 'internal' | 'client' | 'consumer'; attributes?: Attributes; parent?: StoredTrace | null }, fn: (span: Span) => Promise<T>): Promise<T>;
  /** Runs `fn` with `span` as the active span (its children and the traceparent it hands on). */
  within<T>(span: Span, fn: () => T): T;
  /**
   * Runs `fn` as background work: outside the active trace, and recording no span of its own
   * work (a job worker's claims, the outbox relay's transactions: housekeeping that would make a
   * trace per poll), except spans given a `parent` explicitly ({@link Tracing.inSpan}: a job's
   * attempt). A loop started from inside a request must not hang its later work under that
   * request's trace.
   */
  background<T>(fn: () => T): T;
  /** The active span's W3C traceparent, or undefined when no span is active. */
  traceparent(): string | undefined;
  /** The active span's context to store with deferred work ({@link StoredTrace}), or undefined when no span is active. */
  storedTrace(): StoredTrace | undefined;
  /** Writes the active span's `traceparent` (and `tracestate`) into outgoing request headers. */
  inject(headers: Record<string, string>): void;
  /** Marks `span` failed (ERROR status, the exception recorded without its message for 5xx answers). */
  fail(span: Span, err?: unknown): void;
  /** Sends the spans still buffered and stops (at shutdown). */
  close(): Promise<void>;
}
