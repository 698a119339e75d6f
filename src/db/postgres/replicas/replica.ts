/**
 * One read replica (`--db-replica URL`): its own small pool, and what the last poll saw of it
 * (how far it has replayed the primary's log, whether it answered). The replica set decides
 * from these cached figures, so routing a read costs no round trip.
 */
import pg from 'pg';
import { CompiledQuery, Kysely, PostgresDialect, type RawBuilder } from 'kysely';
import { withExtendedProtocol } from '../extended-protocol.js';
import { parseLsn } from './lsn.js';

export interface ReplicaOptions {
  url: string;
  /** Connections to this replica; a read finding them all busy goes to the primary instead of waiting. */
  poolSize: number;
  /** The query deadline, as on the primary (connection-level `statement_timeout`). */
  timeoutMs: number;
  /** The pg type parsers of the primary's pool (counts as numbers). */
  types: pg.CustomTypesConfig;
}

/** What one poll of a replica returns. */
interface ReplayState {
  lsn: string | null;
  in_recovery: boolean;
}

/** What tells a replica of this primary from another server: the cluster's id and the database's name. */
export interface ServerIdentity {
  system: string;
  database: string;
  in_recovery: boolean;
}

export const IDENTIFY = 'SELECT system_identifier::text AS system, current_database() AS database, pg_is_in_recovery() AS in_recovery FROM pg_control_system()';

export class Replica {
  readonly kysely: Kysely<any>;
  private readonly pool: pg.Pool;
  /** How far it has replayed, as of the last successful poll. */
  replayLsn = 0n;
  /** When the last poll succeeded (0: never), by the set's clock. */
  seenAt = 0;
  /** False after a failed poll or a failed read, until a poll succeeds again. */
  up = false;
  /** Reads this node is running on it now (least-busy routing; bounded by the pool). */
  inFlight = 0;
  /** A poll is running (the next one is skipped rather than piled up). */
  polling = false;

  constructor(
    /** Its position in `--db-replica` order, the label of its metrics (never the URL: it may carry a password). */
    readonly index: number,
    private readonly options: ReplicaOptions,
  ) {
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize,
      types: options.types,
      // A replica that does not accept a connection quickly is skipped: the primary serves the read.
      connectionTimeoutMillis: Math.min(1000, options.timeoutMs),
      statement_timeout: options.timeoutMs,
      // A replica that stops answering (a frozen host) cannot enforce statement_timeout itself.
      query_timeout: options.timeoutMs + 1000,
      // Kept short: the pool is reopened on demand after a replica comes back.
      idleTimeoutMillis: 10_000,
    });
    // A replica going away must not crash the process: the next poll takes it out of rotation.
    // NB: pg-pool listens for errors of idle clients only; a client in use that loses its server
    // emits 'error' besides failing its query, and without a listener that is an uncaught exception.
    this.pool.on('error', () => {});
    this.pool.on('connect', (client) => client.on('error', () => {}));
    this.kysely = new Kysely<any>({ dialect: new PostgresDialect({ pool: withExtendedProtocol(this.pool) }) });
  }

  /** Whether a read may be sent now without waiting for a connection. */
  get hasRoom(): boolean {
    return this.inFlight < this.options.poolSize;
  }

  /** Asks the replica how far it has replayed; a failure (or `timeoutMs` without answer) marks it down. */
  async poll(now: () => number, timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const answer = this.kysely.executeQuery<ReplayState>(
        CompiledQuery.raw('SELECT pg_last_wal_replay_lsn()::text AS lsn, pg_is_in_recovery() AS in_recovery'),
      );
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('replica poll timed out')), timeoutMs);
      });
      const { rows } = await Promise.race([answer, timeout]);
      const row = rows[0];
      // A promoted server is no longer a copy of the primary: out of rotation.
      if (!row || !row.in_recovery) {
        this.up = false;
        return;
      }
      this.replayLsn = parseLsn(row.lsn);
      this.seenAt = now();
      this.up = true;
    } catch {
      this.up = false;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Which cluster and database it serves, and whether it is a standby; null when it cannot be
   * reached (it may be down for now).
   */
  async identify(): Promise<ServerIdentity | null> {
    try {
      return (await this.kysely.executeQuery<ServerIdentity>(CompiledQuery.raw(IDENTIFY))).rows[0] ?? null;
    } catch {
      return null;
    }
  }

  async rows<T>(query: RawBuilder<unknown>): Promise<T[]> {
    return (await query.execute(this.kysely)).rows as T[];
  }

  async query<T>(text: string, params: readonly unknown[]): Promise<T[]> {
    return (await this.kysely.executeQuery(CompiledQuery.raw(text, [...params]))).rows as T[];
  }

  stats(): { total: number; idle: number; waiting: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  close(): Promise<void> {
    return this.kysely.destroy();
  }
}
