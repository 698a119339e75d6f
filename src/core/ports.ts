/**
 * The interfaces core/ needs from the outside world. db/ and adapters/ implement them;
 * cli/ picks the implementations. Core never imports a driver or a framework.
 */
import type { Readable } from 'node:stream';
import type { Kysely, RawBuilder } from 'kysely';
import type { ColumnKind } from './collections/fields/field-type.js';
import type { IndexDefinition } from './collections/index-definition.js';
import type { FilterDialect } from './rules/filter-dialect.js';
import type { S3Settings, SmtpSettings } from './settings/settings.js';
import type { JsonRequestOptions } from './auth/oauth2/provider-preset.js';
import type { JobStore } from './jobs/job-store.js';
import type { SqlConsoleRunner } from './sql-console/sql-console-runner.js';
import type { LogStore } from './logs/log-store.js';
import type { Clock } from './clock.js';

export type { Clock } from './clock.js';

/** A column as the schema manager creates it. */
export interface ColumnDefinition {
  name: string;
  kind: ColumnKind;
  nullable: boolean;
  default: string | number | boolean | null;
  primaryKey?: boolean;
}

/** A result column of a SELECT, as the engine describes it (for view collections). */
export interface QueryColumn {
  name: string;
  /** The table and column it comes straight from, when the engine can tell. */
  sourceTable?: string;
  sourceColumn?: string;
  /** The kind inferred from the engine's type, when it is not a plain column. */
  kind?: ColumnKind;
}

/** DDL, always run inside the transaction of a schema change. */
export interface SchemaManager {
  tableExists(table: string): Promise<boolean>;
  /** The names of `table`'s columns (none when it does not exist): how start-up finds the columns a newer version added. */
  columnNames(table: string): Promise<string[]>;
  /**
   * `rowidKeyed`: on SQLite the primary-key column is an ordinary column with no index of its
   * own, and rows are found by the table's rowid (`filter.rowid`) — an insert touches one page
   * instead of two; other engines keep the primary key. For queue-like tables written on hot
   * paths and read back in insertion order.
   */
  createTable(table: string, columns: ColumnDefinition[], options?: { rowidKeyed?: boolean }): Promise<void>;
  dropTable(table: string): Promise<void>;
  renameTable(from: string, to: string): Promise<void>;
  addColumn(table: string, column: ColumnDefinition): Promise<void>;
  dropColumn(table: string, column: string): Promise<void>;
  renameColumn(table: string, from: string, to: string): Promise<void>;
  createIndex(index: IndexDefinition): Promise<void>;
  dropIndex(name: string): Promise<void>;
  indexExists(name: string): Promise<boolean>;
  /** Creates a view from a superuser's SELECT; refuses anything that is not one read-only statement. */
  createView(name: string, select: string): Promise<void>;
  dropView(name: string): Promise<void>;
  /** Describes the result columns of a SELECT without running it for its rows. */
  describeQuery(select: string): Promise<QueryColumn[]>;
  /**
   * Makes every row written to `table` (insert, update, delete; PostgreSQL also TRUNCATE) bump
   * the `_dataVersions` row `key`, in the writing transaction, whichever path wrote it (records
   * API, hooks' raw SQL, the SQL console): what the count cache (core/records/count-cache.ts)
   * checks its entries against. PostgreSQL bumps at commit (a deferred trigger), so concurrent
   * writers hold the version row only while they commit. Idempotent and cheap when in place.
   */
  ensureChangeCounter(table: string, key: string): Promise<void>;
  /**
   * An index on the row order lists break ties by (the engine's rowid), named by `key` (a
   * collection id): without it a filtered list sorted by nothing else reads and sorts the whole
   * table for 20 rows. SQLite: nothing to do (the rowid is the table's own key). Idempotent.
   */
  ensureRowOrderIndex(table: string, key: string): Promise<void>;
  /**
   * A substring index for `~` on a text column (README "Large collections"), `key` naming it
   * stably (collection and field ids). SQLite: an FTS5 trigram table over the column, kept by
   * triggers, which the filter compiler narrows with (FilterDialect.searchNarrow); PostgreSQL: a
   * pg_trgm GIN index on the ASCII-folded column `~` compares, which the planner uses by itself.
   * Idempotent. A renamed table or column needs drop, then ensure.
   */
  ensureSearchIndex(table: string, column: string, key: string): Promise<void>;
  dropSearchIndex(table: string, column: string, key: string): Promise<void>;
}

/** What a failed write was, in engine-neutral terms. */
export type DbFailure =
  | { kind: 'unique'; table?: string; columns: string[]; index?: string }
  /** The statement itself was refused (bad SQL, a constraint, a type): the request's fault. */
  | { kind: 'refused'; message: string }
  /**
   * The query ran past its deadline (or waited that long for a connection or worker) and was
   * cancelled: answered 503 so that one expensive request cannot hold the server.
   */
  | { kind: 'timeout'; ms: number }
  /**
   * The database ended the transaction to settle a conflict with another one (PostgreSQL's
   * deadlock victim, a serialization failure): nothing was written, and the same request sent
   * again normally succeeds. Answered 503.
   */
  | { kind: 'conflict' }
  /** The database could not do it (connection, disk, busy): not the request's fault. */
  | { kind: 'other' };

/**
 * The database port. `kysely` builds and runs queries on this connection (or transaction);
 * `filter` renders the filter language's engine-specific SQL; `schema` changes tables.
 */
export interface Database {
  readonly engine: 'sqlite' | 'postgres';
  readonly kysely: Kysely<any>;
  readonly filter: FilterDialect;
  readonly schema: SchemaManager;
  readonly inTransaction: boolean;
  /** The job queue's SQL for this engine (core/jobs/job-store.ts); shared by a database and its transactions. */
  readonly jobs: JobStore;
  /** `POST /api/sql` (core/sql-console): one superuser statement, read-only unless allowed, under the deadline. */
  readonly console: SqlConsoleRunner;
  /** Runs `fn` in a transaction; inside one already, joins it. Rolls back when `fn` throws. */
  transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T>;
  /**
   * Serialises schema changes across every node sharing the database, until the end of the
   * current transaction (SQLite: the write transaction already does; PostgreSQL: an advisory lock).
   * A schema change runs past the query deadline (an index over a large table is server work);
   * `keepDeadline` keeps it, for a dry run that must stay cheap (SQLite has no write deadline).
   */
  lockSchema(options?: { keepDeadline?: boolean }): Promise<void>;
  /**
   * Taken by every record write: waits for a schema change in progress (and keeps one from
   * starting) until the end of the current transaction. Many writes share it.
   */
  lockSchemaShared(): Promise<void>;
  /**
   * Classifies a driver error (unique violation → columns; a query cancelled at the deadline →
   * `timeout`), or null when it is not a database error.
   */
  classifyError(err: unknown): DbFailure | null;
  /**
   * Raw rows of a SQL fragment (compiled by kysely for this engine). `rows` and `query` are how
   * client-facing reads run: outside a transaction they are bounded by the query deadline
   * (Config.queryTimeoutMs) and never stall the event loop (SQLite: a read worker).
   */
  rows<T = Record<string, unknown>>(query: RawBuilder<unknown>): Promise<T[]>;
  /**
   * Runs SQL text already compiled for this engine (see core/compiled-query.ts) with positional
   * parameters: the hot paths compile their SQL once per collection, not per request.
   */
  query<T = Record<string, unknown>>(text: string, params: readonly unknown[]): Promise<T[]>;
  /**
   * A built read (as `rows` takes) compiled already, run exactly as `rows` runs it (PostgreSQL:
   * a read slot, the deadline, the replicas): for client reads whose SQL is compiled once per
   * query shape (core/compiled-query.ts), not per request.
   */
  readCompiled<T = Record<string, unknown>>(text: string, params: readonly unknown[]): Promise<T[]>;
  /**
   * The engine's plan of a read, as text (SQLite `EXPLAIN QUERY PLAN`, PostgreSQL `EXPLAIN`;
   * nothing is run): for the slow-query log (core/records/slow-queries.ts). Optional.
   */
  explain?(query: RawBuilder<unknown>): Promise<string>;
  /**
   * Inside a write transaction, just before it commits: the version of the change counter `key`
   * (SchemaManager.ensureChangeCounter) committed before this transaction, and the one its rows
   * take it to (`to - from` rows of that table written in it). Lets the count cache carry a
   * stored count across the transaction (core/records/count-deltas.ts). Null when the engine
   * cannot tell (an in-memory SQLite database). Optional.
   */
  versionSpan?(key: string): Promise<{ from: number; to: number } | null>;
  /**
   * Periodic upkeep of the engine's query-planner statistics, run daily by the `__pbDBOptimize__`
   * cron (SQLite: `PRAGMA optimize`; PostgreSQL: `ANALYZE`, past the query deadline).
   * Optional: an engine without it is skipped.
   */
  optimize?(): Promise<void>;
  /**
   * Opens where the stored logs live (core/logs/log-store.ts): SQLite, a second file next to the
   * data file (`auxiliary.db`); PostgreSQL, a `_logs` table. Called once, on the root database.
   * Optional: without it, logs are not stored.
   */
  openLogStore?(clock: Clock, logger: Logger): Promise<LogStore>;
  /** Connections and read workers right now, for the metrics (cheap: no query). */
  stats?(): DatabaseStats;
  /**
   * Whole-database copies for backups (core/backups), on the root database only. Optional: an
   * engine without it has no backups (`POST /api/backups` answers 400).
   */
  readonly backups?: DatabaseBackups;
  /**
   * Read replicas (PostgreSQL `--db-replica`, README "Read replicas"): how requests are
   * attributed to clients so that reads may leave the primary. Absent without replicas, and
   * then nothing of it costs anything.
   */
  readonly replicas?: ReplicaRouting;
  close(): Promise<void>;
}

/**
 * A consistent copy of the whole database in one file, and back (core/backups). The file's name
 * differs per engine, so a backup made on one engine is never restored on another.
 */
export interface DatabaseBackups {
  /** The copy's name inside a backup zip: `data.db` (SQLite), `data.sql` (PostgreSQL). */
  readonly fileName: string;
  /** Writes a consistent copy of the database to `path` (a new file) while writes go on. */
  dump(path: string): Promise<void>;
  /**
   * Why `path` is not a copy this engine can restore (not a database, not Basalt's, another
   * schema), in words for a 400; null when it is one.
   */
  check(path: string): Promise<string | null>;
  /**
   * Replaces everything in the database with the copy at `path` (checked first), in one
   * transaction: a reader sees the old data or the new, never a mix.
   */
  restore(path: string): Promise<void>;
}

/** One stored backup, as `GET /api/backups` lists it (PocketBase's shape besides the date type). */
export interface BackupFileInfo {
  key: string;
  size: number;
  modified: Date;
}

/**
 * Where backup zips live: a folder on local disk (`<dataDir>/backups`) or an S3 bucket. Keys are
 * plain file names (core/backups/backup-key.ts checks them before any call).
 */
export interface BackupStore {
  list(): Promise<BackupFileInfo[]>;
  stat(key: string): Promise<BackupFileInfo | null>;
  /** Stores the local file `path` as `key` (it may be moved: the caller no longer owns it). */
  save(key: string, path: string): Promise<void>;
  /** The zip's bytes, streamed; null when there is no such backup. */
  read(key: string): Promise<Readable | null>;
  /** A local file with the zip's bytes (the stored file itself on disk, a download to `temp` from S3); null when missing. */
  localCopy(key: string, temp: string): Promise<string | null>;
  /** false when there was no such backup. */
  delete(key: string): Promise<boolean>;
  close(): Promise<void>;
}

/** The S3 target of `settings.backups.s3`, as the store needs it (the connection, not the switch). */
export type BackupS3Target = Omit<S3Settings, 'enabled'>;

/** Opens the backup store in force: S3 when a target is given, else the local folder. */
export type BackupStoreFactory = (s3: BackupS3Target | null) => Promise<BackupStore>;

/**
 * Attributes a request to its client for the read replicas. Inside `run`, a commit is remembered
 * for `clients` (read-your-writes: their later reads go to a replica only once it has replayed
 * that commit), and, when `replicaReads`, the reads outside a transaction may be served by a
 * replica. Everything else — transactions, writes, work outside `run` (jobs, cron, realtime
 * fan-out, start-up) — stays on the primary.
 */
export interface ReplicaRouting {
  /** `clients`: the keys of the request's client (its principal, its address). */
  run<T>(clients: readonly string[], replicaReads: boolean, fn: () => T): T;
  /**
   * Publishes this node's commit positions on `pubsub` and hears the other nodes', so that a
   * client's read on another node also sees its write. Does nothing when `pubsub` is not shared.
   */
  share(pubsub: PubSub): Promise<void>;
}

/** A database's connections and read workers right now (what an engine has; absent: not applicable). */
export interface DatabaseStats {
  /** PostgreSQL: the pool's clients (`pg.Pool` totalCount, idleCount, waitingCount). */
  pool?: { total: number; idle: number; waiting: number };
  /** SQLite: the read-worker pool (live workers, workers running a statement, reads waiting for one). */
  readWorkers?: { size: number; busy: number; queued: number };
  /** PostgreSQL with `--db-replica`: replicas configured, and those in rotation (healthy, lag within bounds). */
  replicas?: { total: number; inRotation: number };
}

/** How a database statement ran: a read or a write outside a transaction, or a whole transaction. */
export type QueryKind = 'read' | 'write' | 'transaction';

/** Which server ran a statement: the primary, or a read replica (`--db-replica`). */
export type QueryServer = 'primary' | 'replica';

/** Told the duration of every statement and transaction the database port runs (the metrics). */
export type QueryObserver = (kind: QueryKind, seconds: number, server?: QueryServer) => void;

/** One line of the request log. */
export interface AccessEntry {
  method: string;
  /** Path only: query strings may carry tokens. */
  path: string;
  status: number;
  durationMs: number;
}

/** Structured logging; implementations must never be handed secrets. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /**
   * The per-request line (at info level). Optional: an implementation may write it faster than
   * a generic `info` call, since its shape is fixed; without it, `info(entry, 'request')`.
   */
  access?(entry: AccessEntry): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** An email, ready to send. */
export interface MailMessage {
  from: { name: string; address: string };
  to: { name?: string; address: string }[];
  subject: string;
  html: string;
  /** Plain-text alternative. */
  text: string;
}

/** Sends email (SMTP in production). Implementations time out instead of hanging. */
export interface Mailer {
  send(message: MailMessage): Promise<void>;
  close(): Promise<void>;
}

/** Builds a mailer for the SMTP settings in force; called again whenever they change. */
export type MailerFactory = (smtp: SmtpSettings) => Mailer;

/**
 * Counters for rate limits, shared by every node that uses the same store (memory: one node;
 * Redis: a cluster). Fixed windows: a key's count resets `windowSeconds` after its first hit.
 */
export interface RateLimitStore {
  /** Counts one hit on `key` and returns the number of hits in its current window, this one included. */
  hit(key: string, windowSeconds: number): Promise<number>;
  /** Forgets `key` (its window starts again at the next hit). */
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}

/** One OAuth2 / OpenID Connect provider as the client library needs it. */
export interface OAuth2ProviderSpec {
  name: string;
  clientId: string;
  clientSecret: string;
  authURL: string;
  tokenURL: string;
  userInfoURL: string;
  /** OpenID Connect: the id_token is required and verified against these. */
  oidc: { issuer: string; jwksURL: string } | null;
  /** When set, the endpoints above (those left empty) and the OIDC issuer/keys come from discovery. */
  discoveryURL: string;
  tokenAuthMethod: 'client_secret_post' | 'client_secret_basic';
}

/** The endpoints the sign-in flow itself needs (the token exchange resolves its own). */
export interface OAuth2Endpoints {
  authURL: string;
  userInfoURL: string;
}

export interface OAuth2Tokens {
  accessToken: string;
  refreshToken: string;
  /** When the access token expires, if the provider said. */
  expiresAt: Date | null;
  /** Claims of the id_token, verified (signature, issuer, audience, expiry, nonce); null without one. */
  idTokenClaims: Record<string, unknown> | null;
}

/**
 * The OAuth2 protocol client (a maintained library behind it). Every request it makes goes
 * through the outgoing-request guard: only public addresses, or hosts a superuser configured.
 */
export interface OAuth2Client {
  /** The provider's endpoints, from discovery when `discoveryURL` is set (cached). */
  endpoints(provider: OAuth2ProviderSpec): Promise<OAuth2Endpoints>;
  /** Exchanges an authorization code (with its PKCE verifier and expected nonce) for tokens. */
  exchangeCode(provider: OAuth2ProviderSpec, grant: { code: string; codeVerifier: string; redirectURL: string; nonce: string }): Promise<OAuth2Tokens>;
  /** An authenticated request returning JSON (user info and provider APIs). */
  fetchJson(provider: OAuth2ProviderSpec, url: string, accessToken: string, options?: JsonRequestOptions): Promise<unknown>;
  /**
   * Downloads a public file the provider pointed at (the user's avatar), at most `maxBytes`
   * (a larger one is an error, not a truncated file), following at most a few redirects.
   */
  fetchFile(provider: OAuth2ProviderSpec, url: string, maxBytes: number): Promise<Buffer>;
}

/** What storage knows about one stored file. */
export interface StoredFileInfo {
  size: number;
  modified: Date;
}

/**
 * Where uploaded files (and their thumbnails) live: local disk by default, S3-compatible object
 * storage for clusters. Keys are `/`-separated relative paths built by core (spec §1.7 layout:
 * `<collectionId>/<recordId>/<filename>`, thumbs under `<collectionId>/<recordId>/thumbs_<filename>/`);
 * implementations refuse keys with empty, `.` or `..` segments, backslashes or NUL.
 */
export interface FileStorage {
  /** Writes `key` whole (replacing it); a reader never sees a half-written file. */
  put(key: string, data: Buffer, contentType: string): Promise<void>;
  /** Size and modification time, or null when there is no such file. */
  stat(key: string): Promise<StoredFileInfo | null>;
  /** The content, or the inclusive byte range `[start, end]` of it; null when there is no such file. */
  read(key: string, range?: { start: number; end: number }): Promise<Readable | null>;
  /** Removes one file; a missing file is not an error. */
  delete(key: string): Promise<void>;
  /** Removes every file whose key starts with `prefix/` (a record's or a collection's folder). */
  deletePrefix(prefix: string): Promise<void>;
  /** Every key under `prefix/` (all keys when empty), in no particular order. */
  list(prefix: string): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * Opens a FileStorage on the bucket an S3 settings section names (the runtime switch of the file
 * storage, `POST /api/settings/test/s3`). Nothing is sent until the storage is used.
 * `probe`: short timeouts and no retries, for a connection test that must answer quickly.
 */
export type S3StorageFactory = (s3: S3Settings, options?: { probe?: boolean }) => Promise<FileStorage>;

/**
 * Messages between the nodes of a cluster (realtime fan-out, cache invalidation): in-process for
 * one node, Redis for many. Delivery is at most once and in publish order per channel; a node
 * also receives what it publishes itself.
 */
export interface PubSub {
  /** Whether messages reach other nodes (Redis) or stay in this process (memory). */
  readonly shared: boolean;
  publish(channel: string, message: string): Promise<void>;
  /** Calls `handler` for every message on `channel` until the returned function is called. */
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * A thumbnail size of spec §1.7, parsed: `WxH` (crop from the center), `WxHt` (from the top),
 * `WxHb` (from the bottom), `WxHf` (fit inside, no crop), `0xH` / `Wx0` (one side, aspect kept).
 */
export interface ThumbSize {
  width: number;
  height: number;
  /** `center`/`top`/`bottom` crop, `fit` inside; ignored when one side is 0. */
  mode: 'center' | 'top' | 'bottom' | 'fit';
}

/** A generated thumbnail, in the source's format. */
export interface Thumbnail {
  data: Buffer;
  contentType: string;
}

/**
 * Makes image thumbnails (sharp in production). Implementations keep the source format
 * (png, jpeg, gif — possibly its first frame only — and webp), follow EXIF orientation, and
 * refuse (reject) input that is not such an image or would decode to too many pixels.
 */
export interface Thumbnailer {
  make(source: Buffer, size: ThumbSize): Promise<Thumbnail>;
}

/** What a webhook receiver answered: its status, headers, and the start of its body (a few KiB). */
export interface OutgoingResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Outgoing webhook requests, through the SSRF guard (adapters/webhook-transport.ts): private,
 * loopback and link-local targets refused unless allowed (`--webhook-allow`), checked when each
 * connection is made; no redirects; bounded time and response size.
 */
export interface WebhookTransport {
  /** Why `url` may not be a webhook target (its scheme, or a host that is or resolves to a private address), or null. */
  refusal(url: string): Promise<string | null>;
  /**
   * POSTs `body` to `url`. Resolves with any HTTP answer; rejects on a connection error, a timeout
   * or a refused target (an error named `OutgoingRequestRefused`).
   */
  post(url: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<OutgoingResponse>;
}
