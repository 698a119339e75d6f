/**
 * The message loop of a log writer's worker thread (log-worker-client.ts): one batch at a time,
 * each answered once it is written (or with the reason it was not); `close` ends the thread.
 */
import { parentPort } from 'node:worker_threads';

export type LogWorkerRequest = { id: number; bytes: Uint8Array } | 'close';
export type LogWorkerReply = { id: number } | { id: number; error: string };

export function serveLogBatches(write: (bytes: Uint8Array) => void | Promise<void>, close: () => void | Promise<void>): void {
  const port = parentPort!;
  // Batches are written in the order they came, one at a time, whether `write` is sync or not.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (message: LogWorkerRequest) => {
    queue = queue.then(async () => {
      if (message === 'close') {
        await Promise.resolve(close()).catch(() => {});
        process.exit(0);
      }
      try {
        await write(message.bytes);
        port.postMessage({ id: message.id } satisfies LogWorkerReply);
      } catch (err) {
        port.postMessage({ id: message.id, error: String((err as Error | undefined)?.message ?? err) } satisfies LogWorkerReply);
      }
    });
  });
}
