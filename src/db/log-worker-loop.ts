/**
 * The message loop of a log writer's worker thread (log-worker-client.ts). Two kinds of work, one
 * at a time, in the order they came: `store` keeps a batch as it is, raw (one row), and `expand`
 * turns the oldest raw batches into `_logs` rows (core/logs/log-expansion.ts says when). Each
 * message is answered once done (or with the reason it was not); `close` ends the thread.
 */
import { parentPort } from 'node:worker_threads';

/** What the worker is asked to do. */
export type LogWorkerWork = { op: 'store'; bytes: Uint8Array; count: number } | { op: 'expand'; limit: number };
export type LogWorkerRequest = (LogWorkerWork & { id: number }) | 'close';
/** `bytes`: a stored batch's buffer, moved back to be filled again; `raw`: entries still raw after an expansion. */
export type LogWorkerReply = { id: number; bytes: Uint8Array } | { id: number; raw: number } | { id: number; error: string };

export interface LogWorkerHandlers {
  /** Keeps a batch (`count` entries) raw; keeps nothing of `bytes` once it returns. */
  store(bytes: Uint8Array, count: number): void | Promise<void>;
  /** Expands the oldest raw batches, `limit` entries or a little more (whole batches), or all there are; returns the entries still raw. */
  expand(limit: number): number | Promise<number>;
  close(): void | Promise<void>;
}

export function serveLogBatches(handlers: LogWorkerHandlers): void {
  const port = parentPort!;
  // In the order they came, one at a time, whether the handlers are sync or not.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (message: LogWorkerRequest) => {
    queue = queue.then(async () => {
      if (message === 'close') {
        await Promise.resolve(handlers.close()).catch(() => {});
        process.exit(0);
      }
      try {
        if (message.op === 'store') {
          await handlers.store(message.bytes, message.count);
          port.postMessage({ id: message.id, bytes: message.bytes } satisfies LogWorkerReply, [message.bytes.buffer as ArrayBuffer]);
        } else {
          const raw = await handlers.expand(message.limit);
          port.postMessage({ id: message.id, raw } satisfies LogWorkerReply);
        }
      } catch (err) {
        port.postMessage({ id: message.id, error: String((err as Error | undefined)?.message ?? err) } satisfies LogWorkerReply);
      }
    });
  });
}
