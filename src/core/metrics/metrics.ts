/**
 * The Metrics port: what Basalt counts and times for `GET /api/metrics` (Prometheus text format,
 * adapters/prometheus-metrics.ts). Core services report events through it; the gauges are read
 * at scrape time from the sources `createApp` hands over, so nothing is counted per request that
 * the app already knows. Off (`noMetrics`) unless a metrics token or address is configured: then
 * every call is a no-op and the hot paths skip their timing altogether (`enabled`).
 */
import type { JobCount } from '../jobs/job-store.js';
import type { DatabaseStats, QueryKind, QueryServer } from '../ports.js';

/** What the gauges read at scrape time. */
export interface MetricSources {
  engine: 'sqlite' | 'postgres';
  /** Realtime (SSE) clients connected to this node. */
  realtimeClients(): number;
  /** Jobs by name and state (one query; the metrics cache it for a few seconds). */
  jobCounts(): Promise<JobCount[]>;
  databaseStats(): DatabaseStats;
  /** List totals so far: answered from a stored count (carried across writes or not), or counted. */
  countCache?(): CountCacheStats;
  /** Pages of ranked searches so far: from a kept order, or ranked (ranked-orders.ts). */
  rankings?(): RankingStats;
}

export interface RankingStats {
  /** Pages answered from the kept order of the same search (data unchanged). */
  reused: number;
  /** Searches whose matches were ranked (scored) against the database. */
  ranked: number;
}

export interface CountCacheStats {
  /** Totals answered from a stored count, including those carried across writes. */
  hits: number;
  /** Of the hits, those brought forward across writes (count-deltas.ts). */
  carried: number;
  /** Counts run against the database. */
  counted: number;
}

export type JobAttemptOutcome = 'completed' | 'retry' | 'failed';
export type WebhookDeliveryResult = 'succeeded' | 'retry' | 'failed';

export interface Metrics {
  /** False: nothing is collected and `/api/metrics` answers 404. */
  readonly enabled: boolean;
  /**
   * One finished HTTP request. `route` is the route *pattern* (`/api/collections/:collection/records/:id`),
   * never the raw URL: label values must stay few.
   */
  httpRequest(route: string, method: string, status: number, seconds: number): void;
  /** One statement or transaction through the database port; `server`: which one ran it. @default 'primary' */
  dbQuery(engine: 'sqlite' | 'postgres', kind: QueryKind, seconds: number, server?: QueryServer): void;
  /** A request refused by a rate-limit rule (429). */
  rateLimitRefused(route: string): void;
  /** One message written to a realtime client. */
  realtimeEventSent(): void;
  /** One job attempt finished; `queue` is the job's name. */
  jobAttempt(queue: string, outcome: JobAttemptOutcome): void;
  /** One webhook delivery attempt finished. */
  webhookDelivery(result: WebhookDeliveryResult): void;
  /** Called once by createApp: the sources of the gauges. */
  observeApp(sources: MetricSources): void;
  /** The exposition: Prometheus text format 0.0.4. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** Metrics off: every call does nothing. */
export const noMetrics: Metrics = Object.freeze({
  enabled: false,
  httpRequest() {},
  dbQuery() {},
  rateLimitRefused() {},
  realtimeEventSent() {},
  jobAttempt() {},
  webhookDelivery() {},
  observeApp() {},
  render: () => Promise.resolve({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: '' }),
});
