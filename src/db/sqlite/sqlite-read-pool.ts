/**
 * Reads off the main thread. better-sqlite3 runs a statement synchronously, so one expensive
 * read on the main thread stops every other request, `/api/health` included, for as long as it
 * runs (12–35 s for one guest filter in a probe). Here each read runs in a worker thread with its
 * own read-only connection, under a deadline that counts the wait for a free worker too.
 *
 * better-sqlite3 cannot interrupt a running statement: at the deadline the read is rejected at
 * once, and its worker is terminated (it exits when the statement returns) and replaced. Those
 * abandoned workers still hold a core, so their number is capped: beyond `maxAbandoned` no
 * replacement starts until one of them exits, the pool runs with fewer workers, and reads that
 * cannot get one within their deadline are rejected like slow ones (503) — the main thread, and
 * so every request that does not need a worker, keeps answering.
 */
import BetterSqlite3 from 'better-sqlite3';
import { Worker } from 'node:worker_threads';
import { QueryTimeoutError } from '../query-timeout-error.js';
import { workerEntry } from '../worker-entry.js';

/** A SQL console statement (core/sql-console): see sqlite-sql-console.ts. */
export interface ConsoleTask {
  sql: string;
  /** false: on the worker's read-only connection; true: on its own writable one, in BEGIN IMMEDIATE. */
  write: boolean;
  maxRows: number;
  maxBytes: number;
  /** Lower-cased existing tables a write may not change the definition of (`_…` and `sqlite_…` always). */
  protectedTables: string[];
}

/** What a console statement answers, every value as text (PocketBase's shape). */
export interface ConsoleRows {
  columns: { name: string; type: string; nullable: boolean }[];
  rows: (string | null)[][];
  affectedRows: number;
  truncated: boolean;
}

/** Main thread → worker. */
export type ReadRequest =
  | { type: 'read'; id: number; sql: string; params: readonly unknown[] }
  | ({ type: 'console'; id: number } & ConsoleTask)
  | { type: 'clear' };

/** Worker → main thread: `ready` once its connection is open, then one reply per read. */
export type ReadReply =
  | { id: number; ready: true }
  | { id: number; rows: Record<string, unknown>[]; blobs: boolean }
  | { id: number; console: ConsoleRows }
  | { id: number; error: { message: string; code?: string } };

export interface SqliteReadPoolOptions {
  /** The database file; every worker opens its own read-only connection to it (WAL mode). */
  file: string;
  /** Worker threads, started on first use. @default 2 */
  size?: number;
  /** Deadline of a read in milliseconds, waiting for a free worker included. @default 5000 */
  timeoutMs?: number;
  /** Terminated workers that may still be finishing their statement before no replacement starts. @default 4 */
  maxAbandoned?: number;
}

interface Task {
  id: number;
  message: ReadRequest;
  /** Told when the task's worker is abandoned at the deadline, with the promise of its exit. */
  onAbandon?: (exited: Promise<void>) => void;
  resolve(result: unknown): void;
  reject(err: unknown): void;
  timer: NodeJS.Timeout | null;
  slot: Slot | null;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  task: Task | null;
}

export class SqliteReadPool {
  readonly size: number;
  readonly timeoutMs: number;
  readonly maxAbandoned: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private abandoned = 0;
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: SqliteReadPoolOptions) {
    this.size = Math.max(1, options.size ?? 2);
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxAbandoned = Math.max(0, options.maxAbandoned ?? 4);
  }

  /** Workers terminated at a deadline that have not exited yet (their statement still runs). */
  get abandonedWorkers(): number {
    return this.abandoned;
  }

  /** Live workers (starting, idle or busy). */
  get workers(): number {
    return this.slots.length;
  }

  /** Workers running a statement now. */
  get busy(): number {
    let n = 0;
    for (const slot of this.slots) if (slot.task) n++;
    return n;
  }

  /** Reads waiting for a worker. */
  get queued(): number {
    return this.queue.length;
  }

  /** Rows of a read-only statement, as plain objects exactly like `Statement.all` on the main thread. */
  read<T>(sql: string, params: readonly unknown[]): Promise<T[]> {
    if (this.closed) return Promise.reject(new Error('the database is closed'));
    const id = this.nextId++;
    return this.submit<T[]>({ type: 'read', id, sql, params }, id);
  }

  /**
   * Runs a SQL console statement in a worker, under the same deadline as reads. A write's caller
   * holds the writer's lock: `onAbandon` tells it when the worker was left running at the
   * deadline, and when that worker has exited (its connection closed, its transaction rolled
   * back), so the lock is not released while SQLite's own write lock is still held.
   */
  console(task: ConsoleTask, onAbandon?: (exited: Promise<void>) => void): Promise<ConsoleRows> {
    if (this.closed) return Promise.reject(new Error('the database is closed'));
    const id = this.nextId++;
    return this.submit<ConsoleRows>({ type: 'console', id, ...task }, id, onAbandon);
  }

  private submit<T>(message: ReadRequest, id: number, onAbandon?: (exited: Promise<void>) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const task: Task = { id, message, onAbandon, resolve: resolve as (result: unknown) => void, reject, timer: null, slot: null };
      this.queue.push(task);
      this.dispatch();
      // A worker's start-up (opening its connection; loading tsx in tests) is not the read's
      // cost: the clock starts once a worker of the pool is ready, or now if none can start.
      if (!task.slot && this.slots.length > 0 && !this.slots.some((s) => s.ready)) return;
      this.arm(task);
    });
  }

  /** After DDL: cached statements may describe old table shapes. */
  clearStatementCache(): void {
    for (const slot of this.slots) slot.worker.postMessage({ type: 'clear' } satisfies ReadRequest);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) this.settle(task, new Error('the database is closed'));
    // A worker busy with a statement exits only when it returns: not waited for, like at a deadline.
    const idle: Promise<number>[] = [];
    for (const slot of this.slots.splice(0)) {
      if (slot.task) this.settle(slot.task, new Error('the database is closed'));
      const exited = slot.worker.terminate();
      if (!slot.task) idle.push(exited);
    }
    await Promise.all(idle);
  }

  private arm(task: Task): void {
    if (task.timer) return;
    task.timer = setTimeout(() => this.expire(task), this.timeoutMs);
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find((s) => s.ready && !s.task) ?? this.spawn();
      if (!slot || !slot.ready) return;
      const task = this.queue.shift()!;
      task.slot = slot;
      slot.task = task;
      slot.worker.postMessage(task.message);
    }
  }

  /** Starts a worker when the pool is below its size and the abandoned ones leave room. */
  private spawn(): Slot | null {
    if (this.closed || this.slots.length >= this.size || this.slots.length + this.abandoned >= this.size + this.maxAbandoned) return null;
    if (this.slots.some((s) => !s.ready)) return null; // one start at a time is enough to drain the queue
    const worker = new Worker(workerEntry(import.meta.url, 'sqlite-read-worker', ['better-sqlite3']), { workerData: { file: this.options.file } });
    const slot: Slot = { worker, ready: false, task: null };
    this.slots.push(slot);
    worker.on('message', (reply: ReadReply) => this.onReply(slot, reply));
    worker.on('error', (err) => this.onExit(slot, err));
    worker.on('exit', () => this.onExit(slot, new Error('a read worker exited')));
    return slot;
  }

  private onReply(slot: Slot, reply: ReadReply): void {
    if ('ready' in reply) {
      slot.ready = true;
      for (const task of this.queue) this.arm(task);
      this.dispatch();
      return;
    }
    const task = slot.task;
    if (!task || task.id !== reply.id) return;
    slot.task = null;
    task.slot = null;
    if ('error' in reply) this.settle(task, new BetterSqlite3.SqliteError(reply.error.message, reply.error.code ?? 'SQLITE_ERROR'));
    else if ('console' in reply) this.settle(task, null, reply.console);
    else this.settle(task, null, reply.blobs ? reply.rows.map(toBuffers) : reply.rows);
    this.dispatch();
  }

  /** A worker that crashed or failed to start: its read fails, and a new worker takes its place. */
  private onExit(slot: Slot, err: unknown): void {
    const index = this.slots.indexOf(slot);
    if (index === -1) return;
    this.slots.splice(index, 1);
    if (slot.task) this.settle(slot.task, err);
    // Nothing can start if the entry itself is broken: fail the queue rather than loop.
    if (!slot.ready) for (const task of this.queue.splice(0)) this.settle(task, err);
    this.dispatch();
  }

  /** The deadline passed: reject now; a running statement's worker is abandoned and replaced. */
  private expire(task: Task): void {
    task.timer = null;
    const slot = task.slot;
    if (slot) {
      this.slots.splice(this.slots.indexOf(slot), 1);
      this.abandoned++;
      slot.worker.removeAllListeners();
      slot.worker.on('error', () => {});
      const exited = new Promise<void>((resolve) =>
        slot.worker.once('exit', () => {
          this.abandoned--;
          this.dispatch();
          resolve();
        }),
      );
      task.onAbandon?.(exited);
      void slot.worker.terminate();
    } else {
      const index = this.queue.indexOf(task);
      if (index !== -1) this.queue.splice(index, 1);
    }
    this.settle(task, new QueryTimeoutError(this.timeoutMs));
    this.dispatch();
  }

  private settle(task: Task, err: unknown, rows?: unknown): void {
    if (task.timer) clearTimeout(task.timer);
    task.timer = null;
    task.slot = null;
    if (err) task.reject(err);
    else task.resolve(rows!);
  }
}

/** better-sqlite3 returns BLOBs as Buffers; structured cloning made them plain Uint8Arrays. */
function toBuffers(row: Record<string, unknown>): Record<string, unknown> {
  for (const key in row) {
    const value = row[key];
    if (value instanceof Uint8Array && !Buffer.isBuffer(value)) row[key] = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  return row;
}
