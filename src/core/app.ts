/**
 * createApp(): wires the core services around a database and the ports. The result is what the
 * HTTP layer and the CLI use; it holds no HTTP or driver knowledge of its own.
 */
import { ApiKeyService } from './auth/api-keys.js';
import type { AuthContext } from './auth/auth-context.js';
import { AuthService } from './auth/auth-service.js';
import { FirstRun } from './auth/first-run.js';
import { EmailFlows } from './auth/email-flows.js';
import { OAuth2Flow } from './auth/oauth2/oauth2-flow.js';
import { OAuth2Redirects } from './auth/oauth2/oauth2-redirects.js';
import { OtpFlow } from './auth/otp-flow.js';
import { SystemRecords } from './auth/system-records.js';
import { TotpService } from './auth/totp-service.js';
import { CollectionRegistry } from './collections/collection-registry.js';
import { CollectionService } from './collections/collection-service.js';
import type { Config } from './config.js';
import { BUILTIN_CRONS, registerBuiltinCrons } from './cron/builtin-crons.js';
import { CronScheduler } from './cron/cron-scheduler.js';
import { applyCronBindings } from './hooks/cron-bindings.js';
import { JobBindings } from './hooks/job-bindings.js';
import { EventBus } from './events/event-bus.js';
import { RecordFiles } from './files/record-files.js';
import { MailService } from './mail/mail-service.js';
import { FileDownloads } from './files/file-downloads.js';
import { ThumbCache } from './files/thumb-cache.js';
import type { BackupStoreFactory, Clock, Database, FileStorage, Logger, MailerFactory, OAuth2Client, PubSub, RateLimitStore, S3StorageFactory, Thumbnailer, WebhookTransport } from './ports.js';
import { FileStorageSwitch } from './files/file-storage-switch.js';
import { S3Probe } from './files/s3-probe.js';
import { BackupService } from './backups/backup-service.js';
import { scheduleAutoBackups } from './backups/auto-backup.js';
import { join } from 'node:path';
import { WebhookService } from './webhooks/webhook-service.js';
import { ClusterBridge } from './realtime/cluster-bridge.js';
import { EventFanOut } from './realtime/event-fanout.js';
import { RealtimeHub } from './realtime/realtime-hub.js';
import { RateLimiter } from './rate-limits/rate-limiter.js';
import { advanceDataVersions, CountCache } from './records/count-cache.js';
import { CountDeltas } from './records/count-deltas.js';
import { PageAnchors } from './records/page-anchors.js';
import { RankedOrders } from './records/ranked-orders.js';
import { SlowQueries } from './records/slow-queries.js';
import { RecordReader } from './records/record-reader.js';
import { RecordWriter } from './records/record-writer.js';
import type { QueryContext } from './records/record-query.js';
import { systemClock } from './clock.js';
import { IdempotencyStore } from './idempotency/idempotency-store.js';
import { HookRegistry } from './hooks/hook-registry.js';
import { HookHost } from './hooks/hook-host.js';
import { HookApp, type HookAppServices } from './hooks/hook-app.js';
import { HooksApi } from './hooks/hooks-api.js';
import type { HookBindings } from './hooks/hook-bindings.js';
import type { Tx } from './events/transaction.js';
import { SettingsService } from './settings/settings-service.js';
import { SqlConsole } from './sql-console/sql-console.js';
import { Readiness, type ReadinessCheck, type ReadinessReport } from './health/readiness.js';
import { sql } from 'kysely';
import { LogService, storingLogger } from './logs/log-service.js';
import { JobQueue } from './jobs/job-queue.js';
import { WorkflowLedger } from './workflows/workflow-ledger.js';
import { WorkflowService } from './workflows/workflow-service.js';
import { noMetrics, type Metrics } from './metrics/metrics.js';
import type { Tracing } from './tracing/tracing.js';

export interface AppDeps {
  db: Database;
  logger: Logger;
  /** Builds the SMTP client for the settings in force. */
  mailer: MailerFactory;
  /** Rate-limit counters (memory for one node, Redis for a cluster). */
  rateLimits: RateLimitStore;
  /** The OAuth2 / OpenID Connect protocol client. */
  oauth2: OAuth2Client;
  /**
   * Uploaded files and thumbnails as opened at start-up (local disk for one node, S3-compatible
   * storage for a cluster). The `s3` settings section replaces it at runtime unless
   * `config.storage` is S3 (the `--s3-*` flags win).
   */
  files: FileStorage;
  /** Opens the bucket of an S3 settings section (the runtime switch, `POST /api/settings/test/s3`). */
  s3Files: S3StorageFactory;
  /**
   * Where backup zips are kept: `<dataDir>/backups`, or the S3 target of the settings.
   * @default none (backups unavailable: `/api/backups` answers 400)
   */
  backupStores?: BackupStoreFactory;
  /** Messages between nodes: realtime fan-out, cache invalidation (memory for one node, Redis for a cluster). */
  pubsub: PubSub;
  /** Makes image thumbnails (sharp). */
  thumbnailer: Thumbnailer;
  /** "Now" and timers for everything in core. @default the system clock */
  clock?: Clock;
  /** Outgoing webhook requests, through the SSRF guard. */
  webhookTransport: WebhookTransport;
  /** Dependencies `/api/health/ready` checks besides the database (Redis's PING in a cluster). @default [] */
  readinessChecks?: readonly ReadinessCheck[];
  /**
   * Prometheus metrics (`GET /api/metrics`). The database reports to it through its own
   * `observe` option, given when it is opened. @default noMetrics (off)
   */
  metrics?: Metrics;
  /**
   * Spans (README "Tracing"); the database gets the same one through its own options. Closed
   * last, after the database, so the spans of the shutdown are sent too. @default null (off)
   */
  tracing?: Tracing | null;
}

export interface App {
  readonly config: Config;
  readonly db: Database;
  readonly clock: Clock;
  /** The database, the catalogue and the clock, as record queries take them. */
  readonly query: QueryContext;
  readonly logger: Logger;
  readonly events: EventBus;
  readonly registry: CollectionRegistry;
  readonly collections: CollectionService;
  readonly records: { reader: RecordReader; writer: RecordWriter };
  readonly settings: SettingsService;
  readonly mail: MailService;
  readonly limiter: RateLimiter;
  readonly auth: AuthService;
  /** The first-run link (`basalt serve` prints it while no superuser exists) and its token. */
  readonly firstRun: FirstRun;
  readonly otp: OtpFlow;
  readonly emailFlows: EmailFlows;
  readonly totp: TotpService;
  readonly apiKeys: ApiKeyService;
  readonly oauth2: OAuth2Flow;
  readonly oauth2Redirects: OAuth2Redirects;
  /** The file storage in force (it follows the `s3` settings section: README "Files"). */
  readonly files: FileStorage;
  /** Which storage `files` forwards to, and whether the settings decide it. */
  readonly fileStorage: FileStorageSwitch;
  /** `POST /api/settings/test/s3`. */
  readonly s3Probe: S3Probe;
  readonly realtime: { hub: RealtimeHub; bridge: ClusterBridge };
  /** Which stored file (or thumbnail) a download request gets, with its access checks. */
  readonly downloads: FileDownloads;
  /** Hooks, custom routes and what hook code registers (core/hooks). */
  readonly hooks: HookHost;
  /** Data access for hook, route and job code, bound to a transaction or not (`e.app`). */
  hookApp(tx?: Tx | null): HookApp;
  /** The API hook files and framework code register through (`source`: where the registrations come from). */
  hooksApi(bindings: HookBindings, source: string): HooksApi;
  /** Cron jobs, fired once per cluster; started by `basalt serve` (docs/cron.md). */
  readonly crons: CronScheduler;
  /** The durable job queue: define, enqueue (optionally inside a transaction), operate (docs/jobs.md). */
  readonly jobs: JobQueue;
  /** Outbound webhooks: endpoints, the outbox in every record write, deliveries (docs/webhooks.md). */
  readonly webhooks: WebhookService;
  /** State machines on records: transitions, history, approvals, timers (docs/workflows.md). */
  readonly workflows: WorkflowService;
  /** Stored answers of requests sent with an `Idempotency-Key` (docs/idempotency.md). */
  readonly idempotency: IdempotencyStore;
  /** `POST /api/sql`: one superuser statement, read-only unless the settings allow writes. */
  readonly sqlConsole: SqlConsole;
  /** Counters, histograms and gauges for `GET /api/metrics` (off unless configured). */
  readonly metrics: Metrics;
  /** Whether this node can serve now: database, shared stores, not shutting down (`/api/health/ready`). */
  readiness(): Promise<ReadinessReport>;
  /** The stored request and app logs (`/api/logs`), written in batches off the request path. */
  readonly logs: LogService;
  /** Backups and restore (`/api/backups`); `restoring` closes the request gate (503). */
  readonly backups: BackupService;
  /** Spans, when tracing is on (README "Tracing"); null when off. */
  readonly tracing: Tracing | null;
  /** Stored list totals (README "Large collections"). */
  readonly counts: CountCache;
  /** Where deep pages start (README "Large collections"). */
  readonly anchors: PageAnchors;
  readonly rankings: RankedOrders;
  close(): Promise<void>;
}

/** Builds the app and brings the schema up (system collections on first start). */
export async function createApp(config: Config, deps: AppDeps): Promise<App> {
  const { db } = deps;
  const clock = deps.clock ?? systemClock;
  const metrics = deps.metrics ?? noMetrics;
  const events = new EventBus();
  // Settings first (defaults until reload(), after the bootstrap): the stored logs read their
  // `logs` section, and every service logs through the storing logger.
  const settings = new SettingsService(db, events, config, clock);
  const logs = new LogService(db.openLogStore ? await db.openLogStore(clock, deps.logger) : null, settings, clock, deps.logger, { tracing: deps.tracing });
  const logger = storingLogger(deps.logger, logs);
  const registry = new CollectionRegistry();
  // Every consumer holds the switch's storage, so a change of the `s3` section reaches them all.
  const fileStorage = new FileStorageSwitch({ startup: deps.files, flagsWin: config.storage.type === 's3', openS3: deps.s3Files, settings, events, logger, clock });
  const files = fileStorage.storage;
  const recordFiles = new RecordFiles(files, logger);
  const collections = new CollectionService({ db, registry, clock, events, logger, files: recordFiles, hooks: () => hookRegistry.collections });
  const slow = new SlowQueries({ thresholdMs: config.slowQueryMs, logger, clock });
  const counts = new CountCache(registry, { slow });
  const anchors = new PageAnchors();
  const rankings = new RankedOrders();
  const query: QueryContext = { db, schema: registry, clock, enrich: (records, caller) => hookRegistry.enrich(records, caller), counts, anchors, rankings, slow };
  const reader = new RecordReader(query);
  let hookApp: (tx?: Tx | null) => HookApp = () => {
    throw new Error('hooks are not ready yet');
  };
  const hookRegistry = new HookRegistry((tx) => hookApp(tx), logger, () => registry);
  const hooks = new HookHost(hookRegistry);
  const jobs = new JobQueue({ db, clock, logger, config: config.jobs, metrics, tracing: deps.tracing });
  const webhooks = new WebhookService({ db, schema: registry, clock, logger, jobs, pubsub: deps.pubsub, transport: deps.webhookTransport, config: config.webhooks, query, sweepMs: config.jobs.pollIntervalMs, metrics, tracing: deps.tracing });
  // The service needs the writer and the writer the ledger: the ledger reaches the service's job definitions lazily.
  const workflowLedger = new WorkflowLedger({
    clock,
    logger,
    jobs,
    ensureJobs: () => workflows.ensureJobs(),
    webhook: (tx, endpointId, e) => webhooks.outbox.sendTransition(tx, endpointId, e.record, e.previous, e.transition),
  });
  const writer = new RecordWriter({ hooks: () => hookRegistry, db, schema: registry, clock, events, logger, files: recordFiles, maxCascadeRecords: config.maxCascadeRecords, outbox: webhooks.outbox, workflows: workflowLedger, countDeltas: new CountDeltas(counts) });
  collections.setTruncate(async (tx, collection) => {
    const model = registry.find(collection.id);
    if (model) await writer.truncate(tx, model);
  });
  await collections.bootstrap();

  await settings.reload();
  await fileStorage.apply();
  const mail = new MailService(settings, deps.mailer, logger, events);
  mail.setSendHook((message, send) => hookRegistry.mailerSend(message, send));
  await webhooks.start();
  const workflows = new WorkflowService({ db, schema: registry, clock, logger, writer, jobs, mail });
  // The built-in workflow jobs run on every node once some collection has a workflow (timers set elsewhere included).
  workflows.ensureJobsIfUsed();
  events.on('collectionsChanged', () => workflows.ensureJobsIfUsed());
  const hookServices: HookAppServices = { db, schema: registry, clock, logger, writer, jobs, mail, enrich: query.enrich, workflows };
  const baseHookApp = new HookApp(hookServices, null);
  hookApp = (tx) => (tx ? baseHookApp.withTx(tx) : baseHookApp);
  const limiter = new RateLimiter(settings, deps.rateLimits, logger);
  const totp = new TotpService(db, limiter, () => settings.get().meta.appName, clock);
  const authContext: AuthContext = { ctx: query, system: new SystemRecords(registry, writer), settings, mail, limiter, totp, logger };
  const auth = new AuthService(authContext);

  const queryContext = () => query;
  const hub = new RealtimeHub(config.realtime, queryContext, metrics);
  const fanout = new EventFanOut(hub, queryContext, logger);
  const bridge = new ClusterBridge({ pubsub: deps.pubsub, events, hub, fanout, registry, settings, db, logger });
  await bridge.start();
  const oauth2Redirects = new OAuth2Redirects();
  oauth2Redirects.setTarget({ deliver: (clientId, message) => bridge.deliverOAuth2(clientId, message) });
  const crons = new CronScheduler({ db, clock, logger });
  registerBuiltinCrons(crons, { db, schema: registry, clock, logger });
  crons.add(BUILTIN_CRONS.logsCleanup, '0 */6 * * *', async () => {
    const n = await logs.prune();
    if (n > 0) logger.debug({ deleted: n }, 'old logs deleted');
  });
  crons.add(BUILTIN_CRONS.webhookDeliveriesCleanup, '45 * * * *', async () => {
    const n = await webhooks.prune();
    if (n > 0) logger.debug({ deleted: n }, 'old webhook deliveries deleted');
  });
  const backups = new BackupService({
    db,
    // The storage in force (the `s3` settings section may have switched it), not the start-up one.
    files,
    stores: deps.backupStores ?? null,
    settings,
    clock,
    logger,
    tempDir: join(config.dataDir, '.basalt_temp'),
    reload: async () => {
      // Everything read from the database and kept in memory, read again (and the other nodes
      // told, through the same messages as a schema or settings change). Realtime clients are
      // disconnected: their subscriptions and auth were checked against the old data.
      const before = registry.all().map((c) => c.id);
      await collections.bootstrap();
      await advanceDataVersions(db);
      const ids = [...new Set([...before, ...registry.all().map((c) => c.id)])];
      await events.emit('collectionsChanged', { ids });
      await settings.reload();
      await events.emit('settingsChanged', {});
      await webhooks.registry.changed();
      hub.closeAll();
    },
  });
  await backups.clearLeftovers();
  scheduleAutoBackups({ crons, backups, settings, events, logger });
  const readiness = new Readiness(
    [{ name: 'database', run: async () => void (await db.rows(sql`SELECT 1`)) }, ...(deps.readinessChecks ?? [])],
    undefined,
    () => (backups.restoring ? 'A backup is being restored.' : null),
  );
  const jobBindings = new JobBindings(jobs, () => baseHookApp);
  hooks.setAppliers({ crons: (bindings) => applyCronBindings(crons, bindings, () => baseHookApp), jobs: (bindings) => jobBindings.apply(bindings) });

  metrics.observeApp({ engine: db.engine, realtimeClients: () => hub.size, jobCounts: () => db.jobs.counts(), databaseStats: () => db.stats?.() ?? {}, countCache: () => counts.stats, rankings: () => rankings.stats });

  let closing: Promise<void> | null = null;
  return {
    config,
    db,
    clock,
    query,
    logger,
    events,
    registry,
    collections,
    records: { reader, writer },
    settings,
    mail,
    limiter,
    auth,
    firstRun: new FirstRun({ db, schema: registry, clock }),
    otp: new OtpFlow(authContext, auth),
    emailFlows: new EmailFlows(authContext, auth),
    totp,
    apiKeys: new ApiKeyService(db, registry, logger, clock),
    oauth2: new OAuth2Flow(authContext, auth, writer, deps.oauth2, logger),
    oauth2Redirects,
    files,
    fileStorage,
    s3Probe: new S3Probe(settings, deps.s3Files),
    realtime: { hub, bridge },
    hooks,
    hookApp,
    hooksApi: (bindings, source) =>
      new HooksApi(bindings, source, baseHookApp, (name, payload, options) => jobs.enqueue(name, payload, options)),
    downloads: new FileDownloads(query, files, auth, new ThumbCache(files, deps.thumbnailer, logger)),
    crons,
    jobs,
    webhooks,
    workflows,
    idempotency: new IdempotencyStore(db, clock),
    logs,
    backups,
    tracing: deps.tracing ?? null,
    counts,
    anchors,
    rankings,
    sqlConsole: new SqlConsole({ db, settings, logger, collectionTables: () => registry.all().map((c) => c.name), now: () => clock.now() }),
    metrics,
    readiness: () => readiness.check(),
    close() {
      readiness.markClosing();
      // A second call (a signal during a shutdown, a test's own cleanup) waits for the first.
      return (closing ??= closeAll());
    },
  };

  async function closeAll(): Promise<void> {
    // First: running jobs may still write through the other services.
    await jobs.close();
    await webhooks.stop();
    await crons.stop();
    hub.closeAll();
    await bridge.stop();
    await deps.pubsub.close();
    await mail.close();
    await deps.rateLimits.close();
    await fileStorage.close();
    // Last before the database: everything above may still have logged.
    await logs.close();
    await db.close();
    await deps.tracing?.close();
  }
}
