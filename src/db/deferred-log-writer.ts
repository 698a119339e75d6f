/**
 * A log store's writing side on either engine: batches kept raw by the worker thread
 * (log-worker-client.ts), expanded into `_logs` rows when core/logs/log-expansion.ts says so.
 * The SQLite and PostgreSQL stores differ in where the rows live, not in this.
 */
import type { LogBatch } from '../core/logs/log-batch.js';
import { LogExpansion } from '../core/logs/log-expansion.js';
import type { Logger } from '../core/ports.js';
import type { LogWorkerClient } from './log-worker-client.js';

export class DeferredLogWriter {
  private readonly expansion: LogExpansion;

  constructor(
    private readonly client: LogWorkerClient,
    logger: Logger,
    /** Raw entries found when the store opened (an earlier run's, or another node's). */
    rawAtOpen: number,
  ) {
    this.expansion = new LogExpansion((limit) => client.expand(limit), logger, rawAtOpen);
  }

  /** Keeps the batch raw; resolves with its bytes, to be filled again, once committed. */
  store(batch: LogBatch): Promise<Uint8Array> {
    // Sent before it is counted: an expansion asked for after this counts it in its answer.
    const written = this.client.store(batch);
    this.expansion.added(batch.count);
    return written;
  }

  /** Expands what was stored before the call (the reads of the logs wait for it). */
  settle(): Promise<void> {
    return this.expansion.settle();
  }

  async close(): Promise<void> {
    await this.expansion.close();
    await this.client.close();
  }
}
