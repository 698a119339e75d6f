/** Times one database call for the metrics (QueryObserver), failed calls included. */
import type { QueryKind, QueryObserver } from '../core/ports.js';

export async function timed<T>(observe: QueryObserver, kind: QueryKind, run: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await run();
  } finally {
    observe(kind, (performance.now() - start) / 1000);
  }
}

/** A statement's kind from its text: a SELECT (or a WITH … SELECT) reads, anything else writes. */
export function statementKind(text: string): QueryKind {
  return /^\s*(?:select|with|values|explain)\b/i.test(text) && !/\b(?:insert|update|delete)\b/i.test(text.slice(0, 200)) ? 'read' : 'write';
}
