/**
 * `cronAdd` from hook code, applied to the cron scheduler: the handler gets PocketBase's nothing
 * plus Basalt's `{ id, tick, signal, app }`. An invalid expression or time zone is reported with
 * the file that declared it, and leaves the crons as they were.
 */
import type { CronScheduler } from '../cron/cron-scheduler.js';
import type { CronBinding } from './hook-bindings.js';
import type { HookApp } from './hook-app.js';

export function applyCronBindings(crons: CronScheduler, bindings: CronBinding[], app: () => HookApp): () => void {
  const added: string[] = [];
  try {
    for (const b of bindings) {
      if (crons.has(b.id) && !added.includes(b.id)) throw new Error(`cronAdd: the id "${b.id}" is already registered`);
      try {
        crons.add(b.id, b.expression, (run) => b.handler({ ...run, app: app() }), b.options);
      } catch (err) {
        throw new Error(`${b.source}: ${(err as Error).message}`);
      }
      added.push(b.id);
    }
  } catch (err) {
    for (const id of added) crons.remove(id);
    throw err;
  }
  return () => {
    for (const id of added) crons.remove(id);
  };
}
