import pg from 'pg';
import type { LogStore } from '../../core/logs/log-store.js';
import type { Clock } from '../../core/clock.js';
import { openPostgresLogStore } from './postgres-log-store.js';
import { CompiledQuery, Kysely, PostgresDialect, sql, type RawBuilder } from 'kysely';
import { DATA_VERSIONS_TABLE } from '../../core/internal-tables.js';
import type { Database, DatabaseBackups, DatabaseStats, DbFailure, Logger, QueryObserver, ReplicaRouting, SchemaManager } from '../../core/ports.js';
import type { FilterDialect } from '../../core/rules/filter-dialect.js';
import { PostgresFilterDialect } from './postgres-filter-dialect.js';
import { PostgresSchemaManager } from './postgres-schema.js';
import { PostgresBackups } from './postgres-backups.js';
import { ReadSlots } from './read-slots.js';
import { withExtendedProtocol } from './extended-protocol.js';
import { installPostgresFunctions } from './install-functions.js';
import { QueryTimeoutError } from '../query-timeout-error.js';
import { statementKind } from '../timed-query.js';
import { PostgresJobStore } from './postgres-job-store.js';
import type { JobStore } from '../../core/jobs/job-store.js';
import type { SqlConsoleRunner } from '../../core/sql-console/sql-console-runner.js';
import { PostgresSqlConsole } from './postgres-sql-console.js';
import type { Tracing } from '../../core/tracing/tracing.js';
import { instrumented, type Instruments } from '../instrumented.js';
import { IDENTIFY, Replica, type ServerIdentity } from './replicas/replica.js';
import { ReplicaSet } from './replicas/replica-set.js';
import { replicaSafe } from './replicas/replica-safe.js';
import { insertToEnd, parseLsn } from './replicas/lsn.js';
import { isTransactionConflict } from './transaction-conflict.js';

export interface PostgresOptions {
  url: string;
  /** Pool size per node. @default 10 */
  maxConnections?: number;
  /**
   * The query deadline (Config.queryTimeoutMs): the connection-level `statement_timeout`, so
   * every client-facing statement is cancelled past it, and the longest wait for a pooled
   * connection. Schema changes lift it for their own transaction (lockSchema). @default 5000
   */
  statementTimeoutMs?: number;
  /** Told the duration of each transaction and of each statement outside one (the metrics). @default none */
  observe?: QueryObserver;
  /** Spans for each transaction and each statement outside one (README "Tracing"); null: none. @default null */
  tracing?: Tracing | null;
  /** Streaming replicas that may serve reads (`--db-replica`, README "Read replicas"). @default none */
  replicas?: readonly string[];
  /** Connections to each replica. @default 5 */
  replicaPoolSize?: number;
  /** A replica further behind the primary is out of rotation. @default 5000 */
  replicaMaxLagMs?: number;
  /** How often replicas' replay positions are read. @default 100 */
  replicaPollMs?: number;
}

/** pg-pool's error when no connection came free within `connectionTimeoutMillis`. */
const POOL_WAIT_TIMEOUT = 'timeout exceeded when trying to connect';

// COUNT(*) is int8 and pg returns int8 as a string by default (it may exceed 2^53); Basalt's
// counts and sizes never do, so parse them as numbers. NUMERIC from view queries likewise.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 || oid === 1700) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as any);
  },
};

const filterDialect = new PostgresFilterDialect();

/** "Key (lower(email::text))=(x) already exists." → ['email'] */
function columnsFromDetail(detail: unknown): string[] {
  const m = /^Key \((.*)\)=\(/s.exec(String(detail ?? ''));
  if (!m) return [];
  return m[1].split(',').map((part) => {
    const ident = /"?([A-Za-z_][A-Za-z0-9_]*)"?(?:::\w+)?\)*\s*$/.exec(part.trim());
    return ident ? ident[1] : part.trim();
  });
}

/** A wait for a read slot shorter than this is not taken off the statement's deadline. */
const WAIT_WORTH_A_TIMEOUT_MS = 50;

class PostgresDatabase implements Database {
  readonly engine = 'postgres' as const;
  readonly filter: FilterDialect = filterDialect;
  readonly schema: SchemaManager;
  /** Set on the root database (openPostgres); transactions have none. */
  backups?: DatabaseBackups;
  /** The connection URL, on the root database: the log writer's worker opens its own connection. */
  url?: string;
  /** Metrics and spans of this database's calls (db/instrumented.ts). */
  private readonly instruments: Instruments;
  /** The same for the reads a replica serves (their metrics say `server="replica"`). */
  private readonly replicaInstruments: Instruments;

  /** Set on the root database when tracing is on; transactions' statements get no span of their own. */
  get tracing(): Tracing | null {
    return this.instruments.tracing;
  }

  set tracing(tracing: Tracing | null) {
    this.instruments.tracing = tracing;
    this.replicaInstruments.tracing = tracing;
  }

  get replicas(): ReplicaRouting | undefined {
    return this.replicaSet ?? undefined;
  }

  constructor(
    readonly kysely: Kysely<any>,
    readonly inTransaction: boolean,
    private readonly timeoutMs: number,
    /** Outside transactions: the slots of the reads that may be slow (see read-slots.ts). */
    private readonly slots: ReadSlots | null,
    readonly jobs: JobStore,
    readonly console: SqlConsoleRunner,
    /** The root database only (a transaction's statements count in its own duration): metrics and pool stats. */
    private readonly observed: { observe?: QueryObserver; pool: pg.Pool } | null = null,
    /** The root database with `--db-replica` only: where reads may go, and who is told of commits. */
    private readonly replicaSet: ReplicaSet | null = null,
    /** A transaction of a database with replicas: whether it changed the schema (took the schema lock). */
    private readonly txNote: { schemaChanged: boolean } | null = null,
  ) {
    this.schema = new PostgresSchemaManager(kysely);
    const observe = observed?.observe;
    this.instruments = { observe, tracing: null, system: 'postgresql' };
    this.replicaInstruments = { observe: observe && ((kind, seconds) => observe(kind, seconds, 'replica')), tracing: null, system: 'postgresql' };
  }

  async transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    const replicas = this.replicaSet;
    const note = replicas ? { schemaChanged: false } : null;
    const result = await instrumented(this.instruments, 'transaction', null, () =>
      this.kysely.transaction().execute((trx) => fn(new PostgresDatabase(trx, true, this.timeoutMs, null, this.jobs, this.console, null, null, note))),
    );
    const published = replicas?.noteCommit(note!.schemaChanged);
    if (published) await published;
    return result;
  }

  async query<T>(text: string, params: readonly unknown[]): Promise<T[]> {
    const replicas = this.replicaSet;
    if (!replicas) return instrumented(this.instruments, () => statementKind(text), text, () => this.run<T>(text, params));
    const kind = statementKind(text);
    const onPrimary = () => instrumented(this.instruments, kind, text, () => this.run<T>(text, params));
    if (kind === 'read' && replicaSafe(text)) {
      return replicas.read((replica) => instrumented(this.replicaInstruments, 'read', text, () => replica.query<T>(text, params)), onPrimary);
    }
    const rows = await onPrimary();
    const published = kind === 'write' ? replicas.noteCommit(false) : null;
    if (published) await published;
    return rows;
  }

  private async run<T>(text: string, params: readonly unknown[]): Promise<T[]> {
    const result = await this.kysely.executeQuery(CompiledQuery.raw(text, [...params]));
    return result.rows as T[];
  }

  /**
   * Built queries outside a transaction (lists, counts, expansions, realtime checks) take a read
   * slot: they may run to the deadline, and must leave connections for the compiled point reads
   * of `query()` and for writes.
   */
  async rows<T>(query: RawBuilder<unknown>): Promise<T[]> {
    const compiled = query.compile(this.kysely);
    return this.readCompiled<T>(compiled.sql, compiled.parameters);
  }

  async readCompiled<T>(text: string, params: readonly unknown[]): Promise<T[]> {
    // Timed as a read: outside a transaction `rows` runs the built reads (Basalt's built writes run in transactions).
    const onPrimary = () => instrumented(this.instruments, 'read', text, () => this.readRows<T>(CompiledQuery.raw(text, [...params])));
    const replicas = this.replicaSet;
    if (!replicas) return onPrimary();
    if (statementKind(text) !== 'read' || !replicaSafe(text)) return onPrimary();
    return replicas.read((replica) => instrumented(this.replicaInstruments, 'read', text, () => replica.query<T>(text, params)), onPrimary);
  }

  private async readRows<T>(query: CompiledQuery): Promise<T[]> {
    if (!this.slots) return (await this.kysely.executeQuery(query)).rows as T[];
    return this.slots.run(async (waitedMs) => {
      if (waitedMs < WAIT_WORTH_A_TIMEOUT_MS) return (await this.kysely.executeQuery(query)).rows as T[];
      // The wait used part of the deadline: the statement gets only what is left of it, so the
      // whole read never runs past the deadline (two more round trips, only when contended).
      const left = Math.max(1, this.timeoutMs - waitedMs);
      return this.kysely.transaction().execute(async (trx) => {
        await sql`SELECT set_config('statement_timeout', ${String(left)}, true)`.execute(trx);
        return (await trx.executeQuery(query)).rows as T[];
      });
    });
  }

  async lockSchema(options?: { keepDeadline?: boolean }): Promise<void> {
    if (!this.inTransaction) throw new Error('lockSchema() needs a transaction');
    // A schema change (an index or a column rewrite over a large table, waiting for the change
    // before it) is server work that must not be cut at the query deadline: no limit for the rest
    // of this transaction only. Every other statement keeps the connection's deadline, and so
    // does a dry run (asked as a superuser types: it must not hold the schema lock for long).
    if (!options?.keepDeadline) await sql`SET LOCAL statement_timeout = 0`.execute(this.kysely);
    await sql`SELECT pg_advisory_xact_lock(hashtext('basalt:schema'))`.execute(this.kysely);
    // The change counters' deferred trigger fires with each row from here on: PostgreSQL refuses
    // to ALTER a table with trigger events still pending (a column conversion writes rows first).
    await sql`SET CONSTRAINTS ALL IMMEDIATE`.execute(this.kysely);
    if (this.txNote) this.txNote.schemaChanged = true;
  }

  async explain(query: RawBuilder<unknown>): Promise<string> {
    const compiled = query.compile(this.kysely);
    const result = await this.kysely.executeQuery<Record<string, string>>(CompiledQuery.raw(`EXPLAIN ${compiled.sql}`, [...compiled.parameters]));
    return result.rows.map((r) => r['QUERY PLAN']).join('\n');
  }

  async versionSpan(key: string): Promise<{ from: number; to: number } | null> {
    if (!this.inTransaction) return null;
    // The counters' deferred trigger runs now rather than at COMMIT, so the version row holds
    // this transaction's rows (and stays locked by it until the commit, a moment away).
    await sql`SET CONSTRAINTS ALL IMMEDIATE`.execute(this.kysely);
    const rows = await sql<{ to: number; written: string | null }>`SELECT "v" AS "to", current_setting('basalt.dv_' || md5(${key}), true) AS "written" FROM ${sql.id(DATA_VERSIONS_TABLE)} WHERE "id" = ${key}`.execute(this.kysely);
    const row = rows.rows[0];
    if (!row) return null;
    const to = Number(row.to);
    return { from: to - Number(row.written || 0), to };
  }

  async lockSchemaShared(): Promise<void> {
    if (!this.inTransaction) throw new Error('lockSchemaShared() needs a transaction');
    await sql`SELECT pg_advisory_xact_lock_shared(hashtext('basalt:schema'))`.execute(this.kysely);
  }

  classifyError(err: unknown): DbFailure | null {
    if (err instanceof QueryTimeoutError) return { kind: 'timeout', ms: err.ms };
    const e = err as { code?: unknown; constraint?: unknown; table?: unknown; detail?: unknown };
    if (typeof e?.code !== 'string' || !/^[0-9A-Z]{5}$/.test(e.code)) return null;
    // 57014 query_canceled: statement_timeout (the query deadline) or a cancel by an operator.
    if (e.code === '57014') return { kind: 'timeout', ms: this.timeoutMs };
    if (isTransactionConflict(err)) return { kind: 'conflict' };
    if (e.code === '23505') {
      return {
        kind: 'unique',
        table: typeof e.table === 'string' ? e.table : undefined,
        index: typeof e.constraint === 'string' ? e.constraint : undefined,
        columns: columnsFromDetail(e.detail),
      };
    }
    // Classes 22 (data), 23 (integrity), 42 (syntax, undefined objects), 0A (unsupported), 2B/2F
    // (dependent objects, routines): the statement was refused. Anything else is the server's.
    if (/^(22|23|42|0A|2B|2F)/.test(e.code)) return { kind: 'refused', message: String((err as Error).message) };
    return { kind: 'other' };
  }

  async optimize(): Promise<void> {
    // Autovacuum analyzes too; this is the daily safety net. Server upkeep, not a request: no
    // deadline for this transaction only (ANALYZE may run in one, unlike VACUUM).
    await this.kysely.transaction().execute(async (trx) => {
      await sql`SET LOCAL statement_timeout = 0`.execute(trx);
      await sql`ANALYZE`.execute(trx);
    });
  }

  openLogStore(clock: Clock, logger: Logger): Promise<LogStore> {
    if (!this.url) throw new Error('the log store is opened on the root database');
    return openPostgresLogStore(this, this.url, clock, logger);
  }

  stats(): DatabaseStats {
    const pool = this.observed?.pool;
    const stats: DatabaseStats = pool ? { pool: { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount } } : {};
    if (this.replicaSet) stats.replicas = this.replicaSet.stats();
    return stats;
  }

  async close(): Promise<void> {
    await this.replicaSet?.close();
    await this.kysely.destroy();
  }
}

/**
 * Connects to PostgreSQL, checks the connection (so a wrong URL fails at start-up with the
 * server's own reason) and installs Basalt's SQL functions.
 */
export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const timeoutMs = options.statementTimeoutMs ?? 5000;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    types,
    // Waiting for a free connection counts against the deadline: five slow requests on a pool of
    // five must not leave the sixth hanging (nor end in a 500).
    connectionTimeoutMillis: timeoutMs,
    // A runaway query (a pathological filter, a huge view) must not hold a connection past it.
    statement_timeout: timeoutMs,
  });
  // An idle client that loses its connection must not crash the process; nor one in use (pg-pool
  // listens to idle clients only; the query of one in use fails, and it emits 'error' besides).
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  try {
    const client = await pool.connect();
    try {
      await installPostgresFunctions(client);
    } finally {
      client.release();
    }
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
  const deadlined = withDeadline(withExtendedProtocol(pool), timeoutMs);
  const kysely = new Kysely<any>({ dialect: new PostgresDialect({ pool: deadlined }) });
  const sqlConsole = new PostgresSqlConsole(() => withDeadline(pool, timeoutMs).connect(), timeoutMs);
  let replicas: ReplicaSet | null = null;
  try {
    if (options.replicas?.length) replicas = await openReplicas(options, kysely, timeoutMs);
  } catch (err) {
    await kysely.destroy().catch(() => {});
    throw err;
  }
  const db: PostgresDatabase = new PostgresDatabase(kysely, false, timeoutMs, new ReadSlots(options.maxConnections ?? 10, timeoutMs), new PostgresJobStore(() => db, options.url), sqlConsole, { observe: options.observe, pool }, replicas);
  db.tracing = options.tracing ?? null;
  db.backups = new PostgresBackups(options.url, kysely);
  db.url = options.url;
  return db;
}

/**
 * Opens the replicas' pools and polls them once. A replica that is down at start-up does not
 * stop the server (it joins the rotation when it answers), but a URL that is not a standby of
 * this primary's cluster and database is a configuration mistake that would serve other data:
 * that fails here.
 */
async function openReplicas(options: PostgresOptions, primary: Kysely<any>, timeoutMs: number): Promise<ReplicaSet> {
  const replicas = options.replicas!.map((url, i) => new Replica(i, { url, poolSize: options.replicaPoolSize ?? 5, timeoutMs, types }));
  const self = (await primary.executeQuery<ServerIdentity>(CompiledQuery.raw(IDENTIFY))).rows[0]!;
  const identities = await Promise.all(replicas.map((r) => r.identify()));
  const wrong = identities.findIndex((id) => id !== null && (!id.in_recovery || id.system !== self.system || id.database !== self.database));
  if (wrong !== -1) {
    await Promise.all(replicas.map((r) => r.close().catch(() => {})));
    const id = identities[wrong]!;
    const why = !id.in_recovery ? 'it is not a standby (pg_is_in_recovery() is false)' : id.system !== self.system ? 'it is a copy of another cluster' : `it serves database "${id.database}", not "${self.database}"`;
    throw new Error(`--db-replica #${wrong + 1} is not a streaming replica of --db: ${why}`);
  }
  // Positions are read on connections of their own: on a saturated pool, the polls would wait
  // behind the load and make every replica look late exactly when they are most useful.
  const positions = new pg.Pool({ connectionString: options.url, max: 2, connectionTimeoutMillis: 1000, statement_timeout: 1000, query_timeout: 2000 });
  positions.on('error', () => {});
  positions.on('connect', (client) => client.on('error', () => {}));
  const { rows: sizes } = await positions.query<{ name: string; setting: string }>("SELECT name, setting FROM pg_settings WHERE name IN ('wal_block_size', 'wal_segment_size')");
  const size = (name: string, fallback: bigint) => BigInt(sizes.find((r) => r.name === name)?.setting ?? fallback);
  const wal = { blockSize: size('wal_block_size', 8192n), segmentSize: size('wal_segment_size', 16n << 20n) };
  // The insert position, not the write position: with synchronous_commit off, a commit returns
  // before its record is written, and the write position could still be short of it.
  const primaryLsn = async () => {
    const { rows } = await positions.query<{ lsn: string }>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
    return insertToEnd(parseLsn(rows[0]?.lsn), wal);
  };
  const set = new ReplicaSet(replicas, { primaryLsn, maxLagMs: options.replicaMaxLagMs, pollMs: options.replicaPollMs, close: () => positions.end() });
  await set.start();
  return set;
}

/** A pool whose wait for a connection past the deadline fails as a QueryTimeoutError (503). */
function withDeadline<P extends { connect(): Promise<pg.PoolClient>; end(): Promise<void> }>(pool: P, timeoutMs: number) {
  return {
    async connect() {
      try {
        return await pool.connect();
      } catch (err) {
        if ((err as Error)?.message === POOL_WAIT_TIMEOUT) throw new QueryTimeoutError(timeoutMs);
        throw err;
      }
    },
    end: () => pool.end(),
  };
}
