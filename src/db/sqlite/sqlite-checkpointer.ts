/**
 * WAL checkpoints off the main thread. SQLite's own automatic checkpoint runs inside the COMMIT
 * that takes the WAL past 1,000 frames and copies every page written since the previous one back
 * into the database file — on the main thread, about 5 µs a page here: measured, 40–60 % of a
 * create's commit time, and more the more pages a write touches (a second table, an index), so
 * every write paid for the pages of the writes before it.
 *
 * Here a worker thread with a connection of its own does the copying, in two steps:
 * 1. a bulk pass (PASSIVE) while the writer goes on writing: it copies nearly everything;
 * 2. a short tail pass holding the writer's lock — taken like any write, asynchronously, so the
 *    main thread keeps serving meanwhile — which copies what arrived during the bulk pass. The
 *    WAL can only start over from its beginning at a write that finds every frame copied, and
 *    under a steady write load the bulk pass alone never gets there (frames keep arriving while
 *    it copies): without the tail the WAL would grow until the safety net below.
 *
 * The writer keeps SQLite's automatic checkpoint as a safety net at SAFETY_NET_FRAMES, for a
 * worker that falls behind; if the worker fails, the writer goes back to SQLite's default.
 */
import type BetterSqlite3 from 'better-sqlite3';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Writes after which a checkpoint starts at once; fewer wait for QUIET_MS. */
const BATCH_WRITES = 64;
/** A checkpoint after a quiet moment, so a trickle of writes does not leave a long WAL behind. */
const QUIET_MS = 1000;
/** Frames left after the bulk pass that the tail pass may copy while writes wait (else another bulk pass). */
const TAIL_FRAMES = 2000;
/** The writer's own automatic checkpoint, should the worker fall behind (~40 MB of WAL). */
const SAFETY_NET_FRAMES = 10_000;
/** SQLite's default, back in force if the worker fails. */
const DEFAULT_AUTOCHECKPOINT = 1000;

/** SQLite's `wal_checkpoint` answer: frames in the WAL, frames copied into the database. */
interface CheckpointResult {
  log: number;
  checkpointed: number;
}

/** Worker → main thread: one reply per request. */
type Reply = CheckpointResult | { error: string };

/**
 * The worker's code, as a CommonJS script (no file of its own to compile or bundle): one
 * read-write connection, one PASSIVE checkpoint per message, closed on 'close'.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    process.exit(0);
  }
  try {
    const row = db.pragma('wal_checkpoint(PASSIVE)')[0];
    parentPort.postMessage({ log: row.log, checkpointed: row.checkpointed });
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err) });
  }
});
`;

export interface CheckpointerOptions {
  /** Takes the writer's lock (the one every write transaction takes). */
  lockWriter: () => Promise<() => void>;
  /** The worker failed; the writer went back to SQLite's own checkpoints. */
  onFailure?: (message: string) => void;
}

export class SqliteCheckpointer {
  private worker: Worker | null = null;
  private pending: { resolve(r: CheckpointResult): void; reject(err: Error): void } | null = null;
  private writes = 0;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private holdingLock = false;
  private failed = false;
  private closed = false;

  constructor(
    private readonly writer: BetterSqlite3.Database,
    private readonly file: string,
    private readonly options: CheckpointerOptions,
  ) {
    writer.pragma(`wal_autocheckpoint = ${SAFETY_NET_FRAMES}`);
    // A WAL that grew during a burst goes back to this size when it restarts.
    writer.pragma('journal_size_limit = 67108864');
  }

  /** Called each time the writer's lock is released: counts the write, schedules a checkpoint. */
  writeReleased(): void {
    if (this.failed || this.closed || this.holdingLock) return;
    this.writes++;
    if (this.running) return;
    if (this.writes >= BATCH_WRITES) {
      this.clearTimer();
      void this.cycle();
    } else {
      this.armTimer();
    }
  }

  private async cycle(): Promise<void> {
    if (this.failed || this.closed || this.running) return;
    this.running = true;
    this.writes = 0;
    try {
      const bulk = await this.request();
      if (bulk.log === 0) return;
      if (bulk.log - bulk.checkpointed > TAIL_FRAMES) {
        // A reader still needs old frames, or a burst outran the copy: try again shortly.
        this.armTimer();
        return;
      }
      const release = await this.options.lockWriter();
      this.holdingLock = true;
      try {
        const tail = await this.request();
        if (tail.log > tail.checkpointed) this.armTimer();
      } finally {
        this.holdingLock = false;
        release();
      }
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err));
    } finally {
      this.running = false;
    }
  }

  private armTimer(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.cycle();
    }, QUIET_MS);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private request(): Promise<CheckpointResult> {
    if (this.closed || this.failed) return Promise.reject(new Error('the checkpointer is closed'));
    const worker = this.start();
    // Referenced while a pass runs: the tail pass holds the writer's lock, and a script awaiting a
    // write behind it must not see its event loop end (an idle worker keeps nothing alive).
    worker.ref();
    return new Promise<CheckpointResult>((resolve, reject) => {
      this.pending = { resolve, reject };
      worker.postMessage('checkpoint');
    }).finally(() => this.worker?.unref());
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file: this.file } });
    worker.unref();
    worker.on('message', (reply: Reply) => {
      const pending = this.pending;
      this.pending = null;
      if ('error' in reply) pending?.reject(new Error(reply.error));
      else pending?.resolve(reply);
    });
    worker.on('error', (err) => this.fail(err.message));
    worker.on('exit', (code) => {
      if (!this.closed) this.fail(`the checkpoint worker exited (code ${code})`);
    });
    this.worker = worker;
    return worker;
  }

  private settlePending(message: string): void {
    const pending = this.pending;
    this.pending = null;
    pending?.reject(new Error(message));
  }

  private fail(message: string): void {
    if (this.failed || this.closed) return;
    this.failed = true;
    this.clearTimer();
    this.settlePending(message);
    void this.worker?.terminate();
    this.worker = null;
    try {
      this.writer.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT}`);
    } catch {
      // The writer is closing.
    }
    this.options.onFailure?.(message);
  }

  /** Stops the worker (letting it close its connection); a pass waiting on it gives up its lock. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearTimer();
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // Referenced until it exits, so `await db.close()` in a script does not end with the loop.
    worker.ref();
    worker.postMessage('close');
    const late = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 2000).unref());
    if ((await Promise.race([exited, late])) === 'late') await worker.terminate();
    this.settlePending('the checkpointer is closed');
  }
}
