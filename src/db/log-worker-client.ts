/**
 * The worker thread that writes the stored logs: the SQLite worker (sqlite-log-worker.ts) on a
 * connection of its own to `auxiliary.db`, the PostgreSQL one (postgres-log-worker.ts) on its own
 * connection to the data database. A batch is first kept raw, one row of its packed bytes
 * (`_logsRaw`), which costs about one write a batch; expanding it into `_logs` rows (formatting
 * each entry, one insert each) is separate work the main thread asks for when the server has
 * room, or before the logs are read (core/logs/log-expansion.ts). The main thread only hands
 * over the packed batch (its buffer is transferred, not copied).
 */
import { Worker } from 'node:worker_threads';
import type { LogBatch } from '../core/logs/log-batch.js';
import type { LogWorkerReply, LogWorkerRequest, LogWorkerWork } from './log-worker-loop.js';

export class LogWorkerClient {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(reply: LogWorkerReply): void; reject(err: Error): void }>();
  private closed = false;

  constructor(
    /** The worker's entry (db/worker-entry.ts). */
    private readonly entry: () => URL,
    private readonly workerData: Record<string, unknown>,
  ) {}

  /**
   * Keeps the batch raw, in one write; resolves once committed, with the batch's bytes (its
   * buffer moves to the worker and back).
   */
  async store(batch: LogBatch): Promise<Uint8Array> {
    const bytes = batch.bytes;
    // The buffer is the batch's own (log-batch.ts): moved, not copied.
    const reply = await this.send({ op: 'store', bytes, count: batch.count }, [bytes.buffer as ArrayBuffer]);
    return 'bytes' in reply ? reply.bytes : new Uint8Array(0);
  }

  /** Expands the oldest raw batches (about `limit` entries); resolves with the entries still raw. */
  async expand(limit: number): Promise<number> {
    const reply = await this.send({ op: 'expand', limit });
    return 'raw' in reply ? reply.raw : 0;
  }

  private send(work: LogWorkerWork, transfer: ArrayBuffer[] = []): Promise<LogWorkerReply> {
    if (this.closed) return Promise.reject(new Error('the log writer is closed'));
    const worker = this.start();
    const id = this.nextId++;
    // Referenced while work is in flight: a flush awaited at shutdown must not see the loop end.
    worker.ref();
    return new Promise<LogWorkerReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...work } satisfies LogWorkerRequest, transfer);
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
      else waiting?.resolve(reply);
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

  /** Lets the work in flight finish, then closes the worker's connection. */
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
