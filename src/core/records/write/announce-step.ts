/**
 * Step 7, after commit: a committed write is announced (`recordCreated`, `recordUpdated`,
 * `recordDeleted` for realtime, caches and the rest) and its after-success hooks run. Nothing
 * here runs for a write that rolled back, and nothing here can undo the write: failures are
 * logged by the unit of work.
 */
import type { RecordWriteHooks } from '../../hooks/record-write-hooks.js';
import type { WriteContext, WriterDeps } from './write-context.js';

export function announceAfterCommit(w: WriteContext, deps: WriterDeps, hooks: RecordWriteHooks): void {
  w.tx.afterCommit(async () => {
    const { record, previous } = w;
    if (w.action === 'create') await deps.events.emit('recordCreated', { record });
    else if (w.action === 'update') await deps.events.emit('recordUpdated', { record, previous: previous! });
    else await deps.events.emit('recordDeleted', { record });
    await hooks.afterSuccess(w);
    if (w.transition) await hooks.afterTransition(w);
  });
}
