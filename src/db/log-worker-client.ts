/**
 * Writes batches of stored logs from a worker thread: the SQLite worker (sqlite-log-worker.ts)
 * inserts into `auxiliary.db` on a connection of its own, the PostgreSQL one
 * (postgres-log-worker.ts) COPYs into `_logs` on its own connection. Either formats the entries
 * too (core/logs/log-batch.ts). A flush is a transaction of a few hundred rows plus its commit:
 * on the main thread, with the entries' formatting, it cost several µs a request under load.
 * Here the main thread only hands over the packed batch (its buffer is transferred, not copied).
 */
import { Worker } from 'node:worker_threads';
import type { LogBatch } from '../core/logs/log-batch.js';
import type { LogWorkerReply, LogWorkerRequest } from './log-worker-loop.js';

export class LogWorkerClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(bytes: Uint8Array): void; reject(err: Error): void }>();
  private closed = false;

  constructor(
    /** The worker's entry (db/worker-entry.ts). */
    private readonly entry: () => URL,
    private readonly workerData: Record<string, unknown>,
  ) {}

  /**
   * Writes the batch's entries in one transaction, in the worker; resolves once committed, with
   * the batch's bytes (its buffer moves to the worker and back).
   */
  insert(batch: LogBatch): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new Error('the log writer is closed'));
    const worker = this.start();
    const id = this.nextId++;
    // Referenced while a batch is in flight: a flush awaited at shutdown must not see the loop end.
    worker.ref();
    return new Promise<Uint8Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const bytes = batch.bytes;
      // The buffer is the batch's own (log-batch.ts): moved, not copied.
      worker.postMessage({ id, bytes } satisfies LogWorkerRequest, [bytes.buffer as ArrayBuffer]);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.entry(), { workerData: this.workerData });
    worker.unref();
    worker.on('message', (reply: LogWorkerReply) => {
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if ('error' in reply) waiting?.reject(new Error(reply.error));
      else waiting?.resolve(reply.bytes);
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
