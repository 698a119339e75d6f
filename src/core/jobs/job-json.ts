/** A `_jobs` row as the API shows it: the payload parsed, numbers as numbers. */
import type { JobRow } from './job-store.js';
import type { JobJson } from './job-types.js';

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function jobToJson(row: JobRow): JobJson {
  return {
    id: row.id,
    name: row.name,
    payload: parsePayload(row.payload),
    state: row.state,
    priority: Number(row.priority),
    runAt: row.runAt,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.maxAttempts),
    lockedBy: row.lockedBy,
    lockedUntil: row.lockedUntil,
    lastError: row.lastError,
    lastStack: row.lastStack,
    key: row.key,
    created: row.created,
    updated: row.updated,
    finished: row.finished,
  };
}
