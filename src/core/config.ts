/**
 * The frozen configuration every part of Basalt reads. Only cli/ builds it (from flags and
 * BASALT_* environment variables); nothing else reads process.env.
 */
export interface Config {
  /** Address the HTTP server listens on. @default 127.0.0.1:8090 */
  http: { host: string; port: number };
  /** Data directory (SQLite file, later uploaded files). @default ./basalt_data */
  dataDir: string;
  /** `--db`: empty for SQLite under dataDir, or a postgres:// URL. */
  databaseUrl: string;
  /**
   * `--db-replica` (repeatable): PostgreSQL streaming replicas of `databaseUrl` that may serve
   * reads (README "Read replicas"). @default [] (every query on the primary)
   */
  databaseReplicas: readonly string[];
  /** `--db-replica-max-lag`: a replica further behind the primary (in ms of its writes) serves no reads. @default 5000 */
  replicaMaxLagMs: number;
  /** `--redis`: empty for in-process counters, or a redis:// URL shared by every node. */
  redisUrl: string;
  /** Shown in emails and the dashboard. @default "Basalt" */
  appName: string;
  /** Public URL of the app, for links in emails. @default http://<http address> */
  appUrl: string;
  /** Largest accepted request body in bytes. @default 32 MiB (PocketBase's default) */
  bodyLimit: number;
  /** pino level. @default "info" */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Trust X-Forwarded-For (set when behind a reverse proxy). @default false */
  trustProxy: boolean;
  /** SSE connections: closed after `idleTimeoutMs` without a message and after `maxLifetimeMs` (spec §1.6). */
  realtime: { idleTimeoutMs: number; maxLifetimeMs: number };
  /** Where uploaded files live. @default local disk under `<dataDir>/storage` */
  storage: StorageConfig;
  /**
   * Records one delete may change through relations (cascade-deleted or unlinked), itself
   * included; past it the delete is refused (400). Each change is held in memory until the
   * commit, for its realtime event. @default 10000
   */
  maxCascadeRecords: number;
  /**
   * The deadline of every client-facing query, waiting for a connection or a worker included:
   * past it the query is cancelled and the request answers 503, so no single request can hold
   * the server or a connection. Schema changes are exempt. @default 5000
   */
  queryTimeoutMs: number;
  /**
   * A client list whose statement takes this long or longer is written to the logs as a slow
   * query (core/records/slow-queries.ts: the statement, its duration and plan, suggested
   * indexes); 0: never. @default 1000
   */
  slowQueryMs: number;
  /**
   * Directory of hook files (`*.ts`, `*.mts`, `*.js`) loaded at start; empty: none.
   * @default `<dataDir>/../basalt_hooks` when it exists (the CLI decides)
   */
  hooksDir: string;
  /** `--dev`: hook files are watched and reloaded on change; a broken one keeps the previous set. @default false */
  dev: boolean;
  /** The job queue (docs/jobs.md). */
  jobs: JobsConfig;
  /** Outbound webhooks (docs/webhooks.md). */
  webhooks: WebhooksConfig;
  /** `GET /api/metrics` (Prometheus): off unless a token or an address is set. */
  metrics: MetricsConfig;
  /**
   * The built admin dashboard (`dashboard/`, built into `dist/dashboard/`), served at `/_/`;
   * empty: no dashboard (`--no-dashboard`, 404). A directory without `index.html` answers 503.
   * @default "" here; the CLI sets the package's `dist/dashboard`
   */
  dashboardDir: string;
}

/** Prometheus metrics: off by default (404); on once either field is set. */
export interface MetricsConfig {
  /**
   * `--metrics-token`: a scraper sends `Authorization: Bearer <token>` to `GET /api/metrics` on the
   * main address (superusers may read it with their own token too). NB: a secret: never logged.
   * @default "" (no token)
   */
  token: string;
  /** `--metrics-http`: also serve the metrics, without a token, at `/metrics` on this address (keep it private). @default null */
  http: { host: string; port: number } | null;
}

export const DEFAULT_METRICS_CONFIG: MetricsConfig = Object.freeze({ token: '', http: null });

/** Whether metrics are collected at all. */
export const metricsEnabled = (config: MetricsConfig): boolean => config.token !== '' || config.http !== null;

/** Outbound webhook deliveries: where they may go, how long they wait, how often they retry. */
export interface WebhooksConfig {
  /** `host:port` targets allowed although private (intranet, loopback): `--webhook-allow`. @default none */
  allow: readonly string[];
  /** One attempt's time limit, connecting included, in ms. @default 15000 */
  timeoutMs: number;
  /** Deliveries in flight at once on this node; 0: this node enqueues deliveries but leaves sending them to other nodes. @default 32 */
  concurrency: number;
  /** The waits before each retry, in ms (each ±10 % jitter); a `Retry-After` answer replaces the wait. @default 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h */
  retryScheduleMs: readonly number[];
  /** An endpoint whose deliveries fail without a success for this long is disabled. @default 5 days */
  disableAfterMs: number;
  /** Deliveries and their attempts are kept this long. @default 30 days */
  retentionMs: number;
}

export const DEFAULT_WEBHOOKS_CONFIG: WebhooksConfig = Object.freeze({
  allow: Object.freeze([]) as readonly string[],
  timeoutMs: 15_000,
  concurrency: 32,
  retryScheduleMs: Object.freeze([5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]),
  disableAfterMs: 5 * 86_400_000,
  retentionMs: 30 * 86_400_000,
});

/** The job queue's timing: fallback poll, shutdown grace, how long finished jobs are kept. */
export interface JobsConfig {
  /** Fallback poll of an idle worker (wake-ups are pushed; this catches missed ones). @default 2000 */
  pollIntervalMs: number;
  /** At shutdown, how long running jobs get to finish before they are aborted and released. @default 10000 */
  shutdownGraceMs: number;
  /** Completed jobs are deleted this long after they finished. @default 7 days */
  completedRetentionMs: number;
  /** Failed and cancelled jobs are deleted this long after they finished. @default 30 days */
  failedRetentionMs: number;
}

export const DEFAULT_JOBS_CONFIG: JobsConfig = Object.freeze({
  pollIntervalMs: 2000,
  shutdownGraceMs: 10_000,
  completedRetentionMs: 7 * 86_400_000,
  failedRetentionMs: 30 * 86_400_000,
});

/** An S3-compatible bucket shared by every node. */
export interface S3StorageConfig {
  /** e.g. https://s3.eu-central-1.amazonaws.com or http://127.0.0.1:9000; empty for AWS's default endpoint of the region. */
  endpoint: string;
  bucket: string;
  /** @default "us-east-1" */
  region: string;
  accessKey: string;
  /** NB: a secret: never logged. */
  secret: string;
  /** `endpoint/bucket/key` URLs instead of `bucket.endpoint/key` (MinIO and most self-hosted servers). */
  forcePathStyle: boolean;
  /** Key prefix inside the bucket (`basalt/` → `basalt/<collectionId>/…`); empty for none. */
  prefix: string;
}

/** `local`: `<dataDir>/storage` (one node); `s3`: an S3-compatible bucket shared by every node. */
export type StorageConfig = { type: 'local' } | ({ type: 's3' } & S3StorageConfig);

export const DEFAULT_BODY_LIMIT = 32 << 20;
/** See Config.slowQueryMs. */
export const DEFAULT_SLOW_QUERY_MS = 1000;
export const DEFAULT_QUERY_TIMEOUT_MS = 5000;
/** How far behind the primary a read replica may be and still serve reads (README "Read replicas"). */
export const DEFAULT_REPLICA_MAX_LAG_MS = 5000;

export function defaultConfig(overrides: Partial<Config> = {}): Config {
  const http = overrides.http ?? { host: '127.0.0.1', port: 8090 };
  return Object.freeze({
    http,
    dataDir: './basalt_data',
    databaseUrl: '',
    databaseReplicas: [],
    replicaMaxLagMs: DEFAULT_REPLICA_MAX_LAG_MS,
    redisUrl: '',
    appName: 'Basalt',
    appUrl: `http://${http.host}:${http.port}`,
    bodyLimit: DEFAULT_BODY_LIMIT,
    logLevel: 'info',
    trustProxy: false,
    realtime: { idleTimeoutMs: 5 * 60_000, maxLifetimeMs: 30 * 60_000 },
    storage: { type: 'local' } as StorageConfig,
    maxCascadeRecords: 10_000,
    queryTimeoutMs: DEFAULT_QUERY_TIMEOUT_MS,
    slowQueryMs: DEFAULT_SLOW_QUERY_MS,
    hooksDir: '',
    dev: false,
    jobs: DEFAULT_JOBS_CONFIG,
    webhooks: DEFAULT_WEBHOOKS_CONFIG,
    metrics: DEFAULT_METRICS_CONFIG,
    dashboardDir: '',
    ...overrides,
  });
}
