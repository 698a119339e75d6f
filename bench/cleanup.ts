/**
 * Everything the benchmark must undo (child processes, temp dirs, the PostgreSQL database), run
 * last-registered first, once: on normal completion, on an error, or on Ctrl-C / SIGTERM.
 */

type Task = { name: string; run: () => Promise<unknown> | void; sync?: () => void };

const tasks: Task[] = [];
let running: Promise<void> | null = null;
let installed = false;
let signalled = false;

/** True once Ctrl-C / SIGTERM arrived: nothing new should start. */
export function interrupted(): boolean {
  return signalled;
}

/**
 * Registers an undo step; returns a function that runs it now (and forgets it). `sync` is a
 * best-effort fallback for `process.on('exit')`, where nothing asynchronous can run.
 */
export function onCleanup(name: string, run: () => Promise<unknown> | void, sync?: () => void): () => Promise<void> {
  const task: Task = { name, run, sync };
  tasks.push(task);
  return async () => {
    const i = tasks.indexOf(task);
    if (i < 0) return;
    tasks.splice(i, 1);
    await task.run();
  };
}

/** Runs every registered step (each at most once), newest first; failures are reported, not thrown. */
export function cleanupAll(): Promise<void> {
  running ??= (async () => {
    while (tasks.length > 0) {
      const task = tasks.pop()!;
      try {
        await task.run();
      } catch (err) {
        console.error(`cleanup "${task.name}" failed: ${(err as Error).message}`);
      }
    }
  })();
  return running;
}

/** Installs the signal and exit handlers once; `onInterrupt` runs first (e.g. to stop autocannon). */
export function installCleanupHandlers(onInterrupt: () => void): void {
  if (installed) return;
  installed = true;
  const interrupt = (signal: NodeJS.Signals) => {
    signalled = true;
    console.error(`\n${signal}: stopping servers and removing temporary data…`);
    onInterrupt();
    void cleanupAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  // Last resort (process.exit from elsewhere): kill children and remove dirs synchronously.
  process.once('exit', () => {
    for (const task of tasks.reverse()) task.sync?.();
  });
}
