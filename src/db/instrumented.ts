/**
 * One database call as the metrics (a duration by kind) and the tracing (a span) see it, when
 * either is on — both engines' transaction, statement and read entry points go through here. When
 * both are off it is the call itself: no timer, no span, no statement text looked at.
 */
import type { QueryKind, QueryObserver } from '../core/ports.js';
import type { Tracing } from '../core/tracing/tracing.js';
import { dbSpanAttributes } from './db-spans.js';
import { timed } from './timed-query.js';

export interface Instruments {
  observe: QueryObserver | undefined;
  tracing: Tracing | null;
  system: 'sqlite' | 'postgresql';
}

/**
 * Runs `run` timed as `kind` and in a span named by the statement's operation. `text`: the
 * statement (read only when tracing; a function when it costs something to produce), or null
 * for a whole transaction.
 */
export function instrumented<T>(on: Instruments, kind: QueryKind | (() => QueryKind), text: string | null | (() => string), run: () => Promise<T>): Promise<T> {
  const { observe, tracing } = on;
  if (!observe && !tracing) return run();
  const traced = tracing
    ? () => {
        const attributes = dbSpanAttributes(on.system, typeof text === 'function' ? text() : text);
        return tracing.inSpan(String(attributes['db.operation.name']), { kind: 'client', attributes }, run);
      }
    : run;
  return observe ? timed(observe, typeof kind === 'function' ? kind() : kind, traced) : traced();
}
