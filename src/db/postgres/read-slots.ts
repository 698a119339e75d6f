/**
 * Slots for the reads that may be slow (lists, counts, expansions, realtime checks: everything
 * outside a transaction but the compiled primary-key reads). They may hold all but a few of the
 * pool's connections, so that five slow lists on a pool of five leave getOne, sign-ins and writes
 * a connection instead of queueing them behind the deadline. Waiting for a slot counts against
 * the same deadline as waiting for a connection: past it, a QueryTimeoutError (503).
 */
import { QueryTimeoutError } from '../query-timeout-error.js';

/** Connections kept for point reads and transactions. */
export const RESERVED_CONNECTIONS = 2;

export class ReadSlots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(
    poolSize: number,
    private readonly timeoutMs: number,
  ) {
    this.free = Math.max(1, poolSize - RESERVED_CONNECTIONS);
  }

  /** Runs `fn` in a slot; `waitedMs` says how much of the deadline the wait for it used. */
  async run<T>(fn: (waitedMs: number) => Promise<T>): Promise<T> {
    const started = Date.now();
    await this.acquire();
    try {
      return await fn(Date.now() - started);
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(grant);
        if (i !== -1) this.waiting.splice(i, 1);
        reject(new QueryTimeoutError(this.timeoutMs));
      }, this.timeoutMs);
      this.waiting.push(grant);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter (it stays taken).
    if (next) next();
    else this.free++;
  }
}
