/**
 * Writes batches of stored logs into `auxiliary.db` from a worker thread. A flush is a transaction
 * of a few hundred INSERTs plus its commit (and, every ~1,000 pages, SQLite's checkpoint): on the
 * main thread it took ~5 % of a getOne's time under load, the biggest part of what stored logs
 * cost. Here the main thread only hands over the packed batch (log-batch.ts: its buffer is
 * transferred, not copied) and the worker's own connection does the rest, checkpoints included.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { LogBatch } from '../../core/logs/log-batch.js';

type Reply = { id: number } | { id: number; error: string };

/** The worker's code, as a CommonJS script (no file of its own to compile or bundle). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const insert = db.prepare(workerData.insert);
// Reads the layout of core/logs/log-batch.ts (the counterpart of unpackLogBatch).
const insertAll = db.transaction((bytes) => {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 0;
  while (o < b.length) {
    const idEnd = o + 1 + b[o];
    const id = b.toString('latin1', o + 1, idEnd);
    const level = b.readInt32LE(idEnd);
    o = idEnd + 4;
    const createdEnd = o + 1 + b[o];
    const created = b.toString('latin1', o + 1, createdEnd);
    o = createdEnd;
    const messageEnd = o + 4 + b.readUInt32LE(o);
    const message = b.toString('utf8', o + 4, messageEnd);
    o = messageEnd;
    const dataEnd = o + 4 + b.readUInt32LE(o);
    insert.run(id, level, message, b.toString('utf8', o + 4, dataEnd), created);
    o = dataEnd;
  }
});
parentPort.on('message', (message) => {
  if (message === 'close') {
    db.close();
    process.exit(0);
  }
  try {
    insertAll(message.bytes);
    parentPort.postMessage({ id: message.id });
  } catch (err) {
    parentPort.postMessage({ id: message.id, error: String((err && err.message) || err) });
  }
});
`;

export class SqliteLogWriter {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(): void; reject(err: Error): void }>();
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly insertSql: string,
  ) {}

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
      worker.postMessage({ id, bytes }, [bytes.buffer as ArrayBuffer]);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, file: this.file, insert: this.insertSql } });
    worker.unref();
    worker.on('message', (reply: Reply) => {
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
    worker.postMessage('close');
    const late = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 5000).unref());
    if ((await Promise.race([exited, late])) === 'late') await worker.terminate();
  }
}
