/**
 * The message loop of a log writer's worker thread (log-worker-client.ts): one batch at a time,
 * each answered once it is written (or with the reason it was not); `close` ends the thread.
 */
import { parentPort } from 'node:worker_threads';

export type LogWorkerRequest = { id: number; bytes: Uint8Array } | 'close';
/** `bytes`: the batch's buffer, moved back to be filled again. */
export type LogWorkerReply = { id: number; bytes: Uint8Array } | { id: number; error: string };

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
        // `write` keeps nothing of the bytes (the entries were decoded into strings): they go back.
        port.postMessage({ id: message.id, bytes: message.bytes } satisfies LogWorkerReply, [message.bytes.buffer as ArrayBuffer]);
      } catch (err) {
        port.postMessage({ id: message.id, error: String((err as Error | undefined)?.message ?? err) } satisfies LogWorkerReply);
      }
    });
  });
}
