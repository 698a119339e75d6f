/**
 * Writes batches of stored logs into `auxiliary.db` from a worker thread (sqlite-log-worker.ts).
 * A flush formats its entries and inserts them in one transaction (and, every ~1,000 pages, runs
 * SQLite's checkpoint): on the main thread it took ~5 % of a getOne's time under load. Here the
 * main thread only hands over the packed batch (log-batch.ts: its buffer is transferred, not
 * copied) and the worker's own connection does the rest.
 */
import { Worker } from 'node:worker_threads';
import type { LogBatch } from '../../core/logs/log-batch.js';
import { workerEntry } from '../worker-entry.js';
import type { LogWorkerReply, LogWorkerRequest } from './sqlite-log-worker.js';

export class SqliteLogWriter {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(): void; reject(err: Error): void }>();
  private closed = false;

  constructor(private readonly file: string) {}

  /** Inserts the batch's entries in one transaction, in the worker; resolves once committed. The batch's buffer moves to the worker. */
  insert(batch: LogBatch): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the log writer is closed'));
    const worker = this.start();
    const id = this.nextId++;
    // Referenced while a batch is in flight: a flush awaited at shutdown must not see the loop end.
    worker.ref();
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const bytes = batch.bytes;
      // The buffer is the batch's own (log-batch.ts): moved, not copied.
      worker.postMessage({ id, bytes } satisfies LogWorkerRequest, [bytes.buffer as ArrayBuffer]);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(workerEntry(import.meta.url, 'sqlite-log-worker', ['better-sqlite3']), { workerData: { file: this.file } });
    worker.unref();
    worker.on('message', (reply: LogWorkerReply) => {
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ('error' in reply) waiting?.reject(new Error(reply.error));
      else waiting?.resolve();
    });
    const fail = (message: string) => {
      this.worker = null;
      for (const waiting of this.pending.values()) waiting.reject(new Error(message));
      this.pending.clear();
    };
    worker.on('error', (err) => fail(err.message));
    worker.on('exit', (code) => {
      if (!this.closed) fail(`the log writer exited (code ${code})`);
    });
    this.worker = worker;
    return worker;
  }

  /** Lets the batches in flight finish, then closes the worker's connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('close' satisfies LogWorkerRequest);
    const late = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 5000).unref());
    if ((await Promise.race([exited, late])) === 'late') await worker.terminate();
  }
}
