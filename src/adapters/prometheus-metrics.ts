/**
 * The Metrics port on prom-client: one Registry per app (tests start many apps in one process;
 * prom-client's global registry would throw on the second app's metric names), with prom-client's
 * process metrics (CPU, memory, event-loop lag, GC) and Basalt's own, all prefixed `basalt_`.
 *
 * Label values stay few by construction: routes are route patterns, methods and statuses come
 * from Fastify, queues are job names defined in code, the rest are fixed words.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { metricsEnabled, type MetricsConfig } from '../core/config.js';
import { JOB_STATES, type JobCount } from '../core/jobs/job-store.js';
import { noMetrics, type JobAttemptOutcome, type Metrics, type MetricSources, type WebhookDeliveryResult } from '../core/metrics/metrics.js';
import type { QueryKind, QueryServer } from '../core/ports.js';

/** An API's latencies: 1 ms … 10 s. */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Statements are faster: from 100 µs (an SQLite point read) to the 5 s query deadline and past it. */
const DB_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface PrometheusMetricsOptions {
  /** How long job counts are reused between scrapes (one query at most this often). @default 5000 */
  jobCountsMaxAgeMs?: number;
}

export class PrometheusMetrics implements Metrics {
  readonly enabled = true;
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly requestDuration: Histogram<'route' | 'method'>;
  private readonly queryDuration: Histogram<'engine' | 'kind' | 'server'>;
  private readonly rateLimitRefusals: Counter<'route'>;
  private readonly realtimeEvents: Counter;
  private readonly jobAttempts: Counter<'queue' | 'outcome'>;
  private readonly webhookDeliveries: Counter<'result'>;
  private sources: MetricSources | null = null;
  private jobCounts: { at: number; counts: JobCount[] } | null = null;
  private jobCountsLoading: Promise<JobCount[]> | null = null;
  /** Queues seen once keep reporting 0 for their empty states, rather than vanishing. */
  private readonly queues = new Set<string>();
  private readonly jobCountsMaxAgeMs: number;

  constructor(options: PrometheusMetricsOptions = {}) {
    this.jobCountsMaxAgeMs = options.jobCountsMaxAgeMs ?? 5000;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({ name: 'basalt_http_requests_total', help: 'HTTP requests answered, by route pattern, method and status code.', labelNames: ['route', 'method', 'status'], registers });
    this.requestDuration = new Histogram({ name: 'basalt_http_request_duration_seconds', help: 'HTTP request duration, by route pattern and method.', labelNames: ['route', 'method'], buckets: HTTP_BUCKETS, registers });
    this.queryDuration = new Histogram({
      name: 'basalt_db_query_duration_seconds',
      help: 'Database statements outside transactions (kind read or write) and whole transactions (kind transaction, waiting for the write lock included); server: primary, or replica for the reads a --db-replica served.',
      labelNames: ['engine', 'kind', 'server'],
      buckets: DB_BUCKETS,
      registers,
    });
    this.rateLimitRefusals = new Counter({ name: 'basalt_rate_limit_refusals_total', help: 'Requests refused (429) by a rate-limit rule, by route pattern.', labelNames: ['route'], registers });
    this.realtimeEvents = new Counter({ name: 'basalt_realtime_events_sent_total', help: 'Messages written to realtime (SSE) clients of this node.', registers });
    this.jobAttempts = new Counter({ name: 'basalt_jobs_executed_total', help: 'Job attempts finished on this node, by queue (job name) and outcome (completed, retry, failed).', labelNames: ['queue', 'outcome'], registers });
    this.webhookDeliveries = new Counter({ name: 'basalt_webhook_deliveries_total', help: 'Webhook delivery attempts sent by this node, by result (succeeded, retry, failed).', labelNames: ['result'], registers });

    // Gauges are read when scraped (collect), from the sources createApp handed over.
    const clients: Gauge = new Gauge({
      name: 'basalt_realtime_clients',
      help: 'Realtime (SSE) clients connected to this node.',
      registers,
      collect: () => {
        if (this.sources) clients.set(this.sources.realtimeClients());
      },
    });
    const jobs: Gauge<'queue' | 'state'> = new Gauge({
      name: 'basalt_jobs',
      help: 'Jobs in the queue (the whole cluster), by queue (job name) and state; refreshed at most every few seconds.',
      labelNames: ['queue', 'state'],
      registers,
      collect: async () => {
        const counts = await this.currentJobCounts();
        const seen = new Map<string, number>();
        for (const c of counts) {
          this.queues.add(c.name);
          seen.set(`${c.name}\u0000${c.state}`, c.count);
        }
        for (const queue of this.queues) {
          for (const state of JOB_STATES) jobs.set({ queue, state }, seen.get(`${queue}\u0000${state}`) ?? 0);
        }
      },
    });
    // Counters a component keeps itself (no call on the list path), copied in at scrape time.
    const keptCounter = (name: string, help: string, read: (s: MetricSources) => Record<string, number> | undefined) => {
      const counter: Counter<'result'> = new Counter({
        name,
        help,
        labelNames: ['result'],
        registers,
        collect: () => {
          const values = this.sources ? read(this.sources) : undefined;
          if (!values) return;
          counter.reset();
          for (const [result, n] of Object.entries(values)) counter.inc({ result }, n);
        },
      });
    };
    keptCounter(
      'basalt_list_totals_total',
      'List totals (totalItems) answered, by result: stored (a stored count, unchanged data), carried (a stored count brought forward across writes), counted (a count run against the database).',
      (s) => {
        const stats = s.countCache?.();
        return stats && { stored: stats.hits - stats.carried, carried: stats.carried, counted: stats.counted };
      },
    );
    keptCounter(
      'basalt_ranked_searches_total',
      'Pages of ranked searches (search=, sorted by @rank), by result: reused (the kept order of the same search, data unchanged), ranked (every match scored against the database).',
      (s) => {
        const stats = s.rankings?.();
        return stats && { reused: stats.reused, ranked: stats.ranked };
      },
    );
    const db = (name: string, help: string, read: (s: MetricSources) => number | undefined) => {
      const gauge: Gauge<'engine'> = new Gauge({
        name,
        help,
        labelNames: ['engine'],
        registers,
        collect: () => {
          const value = this.sources ? read(this.sources) : undefined;
          if (value !== undefined) gauge.set({ engine: this.sources!.engine }, value);
        },
      });
    };
    db('basalt_db_pool_clients', 'PostgreSQL: clients in the connection pool (busy or idle).', (s) => s.databaseStats().pool?.total);
    db('basalt_db_pool_idle_clients', 'PostgreSQL: idle clients in the connection pool.', (s) => s.databaseStats().pool?.idle);
    db('basalt_db_pool_waiting_requests', 'PostgreSQL: requests waiting for a pooled connection.', (s) => s.databaseStats().pool?.waiting);
    db('basalt_db_read_workers', 'SQLite: live read-worker threads.', (s) => s.databaseStats().readWorkers?.size);
    db('basalt_db_read_workers_busy', 'SQLite: read workers running a statement.', (s) => s.databaseStats().readWorkers?.busy);
    db('basalt_db_read_queue_length', 'SQLite: reads waiting for a read worker.', (s) => s.databaseStats().readWorkers?.queued);
    db('basalt_db_replicas', 'PostgreSQL: read replicas configured (--db-replica).', (s) => s.databaseStats().replicas?.total);
    db('basalt_db_replicas_in_rotation', 'PostgreSQL: read replicas serving reads now (answering, and within the replay-lag bound).', (s) => s.databaseStats().replicas?.inRotation);
  }

  httpRequest(route: string, method: string, status: number, seconds: number): void {
    this.requests.inc({ route, method, status: String(status) });
    this.requestDuration.observe({ route, method }, seconds);
  }

  dbQuery(engine: 'sqlite' | 'postgres', kind: QueryKind, seconds: number, server: QueryServer = 'primary'): void {
    this.queryDuration.observe({ engine, kind, server }, seconds);
  }

  rateLimitRefused(route: string): void {
    this.rateLimitRefusals.inc({ route });
  }

  realtimeEventSent(): void {
    this.realtimeEvents.inc();
  }

  jobAttempt(queue: string, outcome: JobAttemptOutcome): void {
    this.jobAttempts.inc({ queue, outcome });
  }

  webhookDelivery(result: WebhookDeliveryResult): void {
    this.webhookDeliveries.inc({ result });
  }

  observeApp(sources: MetricSources): void {
    this.sources = sources;
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** The job counts, at most `jobCountsMaxAgeMs` old: scrapes never cost a query each, and concurrent ones share one. */
  private async currentJobCounts(): Promise<JobCount[]> {
    if (!this.sources) return [];
    const cached = this.jobCounts;
    if (cached && performance.now() - cached.at < this.jobCountsMaxAgeMs) return cached.counts;
    this.jobCountsLoading ??= this.sources
      .jobCounts()
      .then((counts) => {
        this.jobCounts = { at: performance.now(), counts };
        return counts;
      })
      // A failed count (the database down) keeps the last values rather than failing the scrape.
      .catch(() => cached?.counts ?? [])
      .finally(() => {
        this.jobCountsLoading = null;
      });
    return this.jobCountsLoading;
  }
}

/** Prometheus metrics when a token or an address is configured; otherwise nothing is collected. */
export function createMetrics(config: MetricsConfig, options?: PrometheusMetricsOptions): Metrics {
  return metricsEnabled(config) ? new PrometheusMetrics(options) : noMetrics;
}
