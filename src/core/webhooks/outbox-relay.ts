/**
 * The webhook outbox and its relay. A record write adds one row per delivery to `_webhookOutbox`
 * in its own transaction — one narrow append, the cheapest durable write there is — and the relay
 * moves the committed rows into the job queue in batches (up to RELAY_BATCH per transaction),
 * where the delivery jobs run. Writing the delivery job itself in the record's transaction would
 * cost that transaction the job table's five indexes: on SQLite it made a create 2.7 times slower.
 *
 * Never lost: a row leaves the outbox only in the transaction that enqueues its job. The relay
 * runs after each commit that wrote rows (on this node), and every `sweepMs` on every sending
 * node, so a node that dies between its commit and its relay leaves rows the others (or its own
 * restart) move. Nodes that do not send (`--webhook-concurrency 0`) do not relay either. Two relays at once (several nodes on PostgreSQL) take rows `FOR UPDATE`: a row already
 * moved by one is gone when the other's lock is granted, and is not read twice.
 */
import { sql, type RawBuilder } from 'kysely';
import { compiledTemplate } from '../compiled-query.js';
import type { Tx } from '../events/transaction.js';
import { transact } from '../events/transaction.js';
import type { JobQueue } from '../jobs/job-queue.js';
import type { Clock, Database, Logger } from '../ports.js';
import { WEBHOOK_OUTBOX_TABLE } from '../internal-tables.js';
import type { StoredTrace, Tracing } from '../tracing/tracing.js';

export const DELIVERY_JOB = 'basalt:webhook';
/** Outbox rows moved into the job queue per transaction. */
export const RELAY_BATCH = 500;
/** How long a relay waits after the first commit that calls it, gathering the next ones. */
const RELAY_DELAY_MS = 5;

export interface RelayDeps {
  db: Database;
  jobs: JobQueue;
  clock: Clock;
  logger: Logger;
  /** How often every node looks for rows left behind (a node that died before relaying). */
  sweepMs: number;
  /** Called before rows are moved (defines the delivery job on this node if it is not yet). */
  beforeMove: () => void;
  /**
   * Whether this node moves rows at all: only a node that sends deliveries does (a node started
   * with `--webhook-concurrency 0` only writes outbox rows, so its writes pay for one insert and
   * nothing else; the sending nodes move and send them).
   */
  moves: boolean;
  /** Relay runs are background work, outside the request whose commit kicked them (they move many writes' rows). @default null */
  tracing?: Tracing | null;
}

/** One outbox row: the message id, the delivery job's payload as JSON, the write's span context (null when tracing is off). */
export interface OutboxRow {
  id: string;
  job: string;
  trace: StoredTrace | null;
}

export class OutboxRelay {
  private scheduled = false;
  private waiting = false;
  private sweep: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private readonly stopper = new AbortController();

  constructor(private readonly deps: RelayDeps) {}

  /** Adds a delivery (its message id, its job payload as JSON, the write's span context) to the outbox on `tx`; the relay moves it once `tx` commits. */
  async add(tx: Tx, row: OutboxRow): Promise<void> {
    const insert = compiledTemplate(tx.db, tx.db.filter, 'webhook-outbox-insert', () => sql`INSERT INTO ${sql.id(WEBHOOK_OUTBOX_TABLE)} (${sql.id('id')}, ${sql.id('job')}, ${sql.id('trace')}) VALUES (${''}, ${''}, ${''})`);
    await tx.db.query(insert.text, [row.id, row.job, row.trace]);
    this.added(tx);
  }

  /** The INSERT of `rows`, for a statement that writes them as part of its own (OutboxWrite.companion); call `added` once it ran. */
  insertRows(rows: readonly OutboxRow[]): RawBuilder<unknown> {
    return sql`INSERT INTO ${sql.id(WEBHOOK_OUTBOX_TABLE)} (${sql.id('id')}, ${sql.id('job')}, ${sql.id('trace')}) VALUES ${sql.join(rows.map((r) => sql`(${r.id}, ${r.job}, ${r.trace})`))}`;
  }

  /** Rows were written on `tx`: the relay moves them once it commits (on a node that moves them). */
  added(tx: Tx): void {
    if (this.deps.moves && !this.scheduled) {
      this.scheduled = true;
      tx.afterCommit(() => {
        this.scheduled = false;
        this.kick();
      });
    }
  }

  /** Starts the periodic sweep (and moves what an earlier run left behind). */
  start(): void {
    if (!this.deps.moves) return;
    this.kick();
    // NB: a plain timer, not the Clock: a safety net, not business time (a manual clock in tests must not see it).
    this.sweep = setInterval(() => this.kick(), this.deps.sweepMs);
    this.sweep.unref();
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    if (this.sweep) clearInterval(this.sweep);
    await this.running;
  }

  /**
   * Runs the relay soon (RELAY_DELAY_MS: the writes of a busy moment share one relay transaction
   * instead of paying one each), or once more after the run in progress.
   */
  kick(): void {
    if (this.stopper.signal.aborted || this.waiting) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.waiting = true;
    // NB: a plain timer, not the Clock: batching, not business time (a test's manual clock must not hold deliveries).
    const later = () =>
      setTimeout(() => {
        this.waiting = false;
        this.run();
      }, RELAY_DELAY_MS).unref();
    // NB: a timer set inside a request keeps its trace context, but the relay's batch is many
    // writes' housekeeping: no spans (each delivery job continues its own write's trace).
    if (this.deps.tracing) this.deps.tracing.background(later);
    else later();
  }

  private run(): void {
    if (this.stopper.signal.aborted) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          while ((await this.relayBatch()) === RELAY_BATCH && !this.stopper.signal.aborted);
        } while (this.again && !this.stopper.signal.aborted);
      } catch (err) {
        this.deps.logger.warn({ err }, 'webhooks: relaying the outbox failed; the next sweep tries again');
      } finally {
        this.running = null;
      }
    })();
  }

  /** Moves up to RELAY_BATCH rows into the job queue in one transaction; how many it moved. */
  async relayBatch(): Promise<number> {
    return transact(this.deps.db, async (tx) => {
      // The row key: SQLite's rowid (the table has no other index, see internal-tables.ts), the primary key elsewhere.
      const key = tx.db.engine === 'sqlite' ? tx.db.filter.rowid('o') : sql.ref('o.id');
      const outbox = sql`${sql.id(WEBHOOK_OUTBOX_TABLE)} AS ${sql.id('o')}`;
      const rows = await tx.db.rows<{ k: string | number; job: string; trace: StoredTrace | null }>(
        sql`SELECT ${key} AS ${sql.id('k')}, ${sql.ref('o.job')} AS ${sql.id('job')}, ${sql.ref('o.trace')} AS ${sql.id('trace')} FROM ${outbox} ORDER BY ${key} LIMIT ${RELAY_BATCH} ${tx.db.filter.forUpdate()}`,
      );
      if (rows.length === 0) return 0;
      this.deps.beforeMove();
      // Each delivery job runs under the trace of the write that produced its row, not the relay's.
      await this.deps.jobs.enqueueSerialized(DELIVERY_JOB, rows.map((r) => ({ payload: r.job, trace: r.trace })), tx);
      await tx.db.rows(sql`DELETE FROM ${outbox} WHERE ${key} IN (${sql.join(rows.map((r) => r.k))})`);
      return rows.length;
    }, undefined, this.deps.logger);
  }
}
