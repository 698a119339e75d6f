/**
 * Basalt's job queue as the dashboard reads it (`/api/jobs`, docs/jobs.md): the states, the
 * list's filter from the chosen queue and state, and which operator action a job's state allows.
 */

export const JOB_STATES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface Job {
  id: string;
  name: string;
  payload: unknown;
  state: JobState;
  priority: number;
  runAt: string;
  attempts: number;
  maxAttempts: number;
  lockedBy: string;
  lockedUntil: string;
  lastError: string;
  lastStack: string;
  key: string;
  created: string;
  updated: string;
  finished: string;
}

export type StateCounts = Record<JobState, number>;

/** `GET /api/jobs/stats`. */
export interface JobStats {
  total: StateCounts;
  names: Record<string, StateCounts>;
}

/** A filter-language string literal: the quotes and backslashes of a name escaped. */
export function quoteFilterValue(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The list's filter for a queue (job name) and a state; '' for everything. Unknown states are ignored. */
export function jobsFilter(queue: string, state: string): string {
  const parts: string[] = [];
  if (queue !== '') parts.push(`name = ${quoteFilterValue(queue)}`);
  if ((JOB_STATES as readonly string[]).includes(state)) parts.push(`state = ${quoteFilterValue(state)}`);
  return parts.join(' && ');
}

/** What an operator may do with a job in this state (the API answers 400 otherwise). */
export function jobActions(state: JobState): { retry: boolean; cancel: boolean } {
  return { retry: state === 'failed' || state === 'cancelled', cancel: state === 'queued' || state === 'running' };
}

/** The queues of the stats, by name, each with its counts (zeros filled in). */
export function queueRows(stats: JobStats | null): { name: string; counts: StateCounts }[] {
  if (!stats) return [];
  return Object.keys(stats.names)
    .sort()
    .map((name) => ({ name, counts: { ...emptyCounts(), ...stats.names[name] } }));
}

export function emptyCounts(): StateCounts {
  return { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
}

/** JSON for reading (a payload, headers): indented; text that is not JSON as it is. */
export function prettyJson(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}
