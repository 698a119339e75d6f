/**
 * Checks what code hands the job queue — names, handlers, options and payloads — before anything
 * is written, with a message that says what to change. These are programming errors of the
 * caller (a hook, a route, a job), so they are plain errors, not API errors.
 */
import type { Backoff, EnqueueOptions, JobDefinitionOptions, JobHandler } from './job-types.js';
import { DEFAULT_BACKOFF } from './backoff.js';

export class JobInputError extends Error {
  override readonly name = 'JobInputError';
}

export const JOB_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:/-]{0,99}$/;
/** setTimeout's limit (about 24.8 days). */
const MAX_MS = 2 ** 31 - 1;
const MAX_ATTEMPTS = 1000;
const MAX_CONCURRENCY = 1000;
const MAX_PRIORITY = 2 ** 31 - 1;
const MAX_KEY_LENGTH = 255;

export const DEFAULT_TIMEOUT_MS = 300_000;
export const DEFAULT_MAX_ATTEMPTS = 3;

export interface JobDefinition {
  name: string;
  handler: JobHandler;
  concurrency: number;
  maxAttempts: number;
  backoff: Backoff;
  timeout: number;
  /** Lease past the timeout: a tenth of it, between 1 s and 30 s. */
  leaseMargin: number;
}

function fail(message: string): never {
  throw new JobInputError(message);
}

function integerIn(what: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(`${what} must be an integer between ${min} and ${max} (got ${describe(value)})`);
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  return String(value);
}

function checkKeys(what: string, options: object, allowed: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) fail(`unknown ${what} option "${key}" (allowed: ${allowed.join(', ')})`);
  }
}

export function checkJobName(name: unknown): string {
  if (typeof name !== 'string' || !JOB_NAME_PATTERN.test(name)) {
    fail(`job name ${describe(name)} is invalid: use 1 to 100 letters, digits and _ . : / - (starting with a letter or digit)`);
  }
  return name;
}

function checkBackoff(name: string, backoff: unknown): Backoff {
  if (backoff === undefined) return DEFAULT_BACKOFF;
  if (typeof backoff === 'function') return backoff as Backoff;
  if (typeof backoff !== 'object' || backoff === null) fail(`job "${name}": backoff must be { baseMs, maxMs } or a function of the attempt`);
  checkKeys('backoff', backoff, ['baseMs', 'maxMs']);
  const b = backoff as { baseMs?: unknown; maxMs?: unknown };
  const baseMs = b.baseMs === undefined ? DEFAULT_BACKOFF.baseMs : integerIn(`job "${name}": backoff.baseMs`, b.baseMs, 0, MAX_MS);
  const maxMs = b.maxMs === undefined ? Math.max(baseMs, DEFAULT_BACKOFF.maxMs) : integerIn(`job "${name}": backoff.maxMs`, b.maxMs, 0, MAX_MS);
  if (maxMs < baseMs) fail(`job "${name}": backoff.maxMs (${maxMs}) is less than backoff.baseMs (${baseMs})`);
  return { baseMs, maxMs };
}

export function checkDefinition(name: unknown, handler: unknown, options: unknown): JobDefinition {
  const jobName = checkJobName(name);
  if (typeof handler !== 'function') fail(`job "${jobName}": the handler must be a function`);
  if (options !== undefined && (typeof options !== 'object' || options === null)) fail(`job "${jobName}": options must be an object`);
  const o = (options ?? {}) as JobDefinitionOptions;
  checkKeys('job definition', o, ['concurrency', 'maxAttempts', 'backoff', 'timeout']);
  const timeout = o.timeout === undefined ? DEFAULT_TIMEOUT_MS : integerIn(`job "${jobName}": timeout (ms)`, o.timeout, 1, MAX_MS);
  return {
    name: jobName,
    handler: handler as JobHandler,
    concurrency: o.concurrency === undefined ? 1 : integerIn(`job "${jobName}": concurrency`, o.concurrency, 0, MAX_CONCURRENCY),
    maxAttempts: o.maxAttempts === undefined ? DEFAULT_MAX_ATTEMPTS : integerIn(`job "${jobName}": maxAttempts`, o.maxAttempts, 1, MAX_ATTEMPTS),
    backoff: checkBackoff(jobName, o.backoff),
    timeout,
    leaseMargin: Math.min(30_000, Math.max(1000, Math.round(timeout / 10))),
  };
}

export interface CheckedEnqueue {
  runAt: number;
  priority: number;
  key: string;
  maxAttempts: number | null;
}

/** Checks enqueue options; `now` resolves `delay`. */
export function checkEnqueueOptions(name: string, options: unknown, now: number): CheckedEnqueue {
  if (options !== undefined && (typeof options !== 'object' || options === null)) fail(`enqueue "${name}": options must be an object`);
  const o = (options ?? {}) as EnqueueOptions;
  checkKeys('enqueue', o, ['runAt', 'delay', 'priority', 'key', 'maxAttempts']);
  if (o.runAt !== undefined && o.delay !== undefined) fail(`enqueue "${name}": give runAt or delay, not both`);
  let runAt = now;
  if (o.delay !== undefined) runAt = now + integerIn(`enqueue "${name}": delay (ms)`, o.delay, 0, Number.MAX_SAFE_INTEGER);
  if (o.runAt !== undefined) {
    const ms = o.runAt instanceof Date ? o.runAt.getTime() : o.runAt;
    // The API date format covers years 0000-9999.
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < -62167219200000 || ms > 253402300799999) {
      fail(`enqueue "${name}": runAt must be a valid Date or a time in ms since the epoch (got ${describe(o.runAt)})`);
    }
    runAt = Math.round(ms);
  }
  if (runAt > 253402300799999) fail(`enqueue "${name}": delay puts the job after the year 9999`);
  const priority = o.priority === undefined ? 0 : integerIn(`enqueue "${name}": priority`, o.priority, -MAX_PRIORITY, MAX_PRIORITY);
  let key = '';
  if (o.key !== undefined) {
    if (typeof o.key !== 'string' || o.key === '' || o.key.length > MAX_KEY_LENGTH) fail(`enqueue "${name}": key must be a non-empty string of at most ${MAX_KEY_LENGTH} characters`);
    key = o.key;
  }
  const maxAttempts = o.maxAttempts === undefined ? null : integerIn(`enqueue "${name}": maxAttempts`, o.maxAttempts, 1, MAX_ATTEMPTS);
  return { runAt, priority, key, maxAttempts };
}

/**
 * The payload as JSON text, refusing what JSON cannot carry faithfully: undefined (at the top),
 * functions, symbols, BigInts, NaN and infinities (anywhere), and cycles.
 */
export function serializePayload(name: string, payload: unknown): string {
  if (payload === undefined) fail(`enqueue "${name}": the payload is undefined (pass null or an object)`);
  let text: string | undefined;
  try {
    text = JSON.stringify(payload, (key, value: unknown) => {
      const where = key === '' ? 'the payload' : `payload key "${key}"`;
      switch (typeof value) {
        case 'function':
        case 'symbol':
          fail(`enqueue "${name}": ${where} is a ${typeof value}, which JSON cannot carry`);
          break;
        case 'bigint':
          fail(`enqueue "${name}": ${where} is a BigInt, which JSON cannot carry (convert it to a string)`);
          break;
        case 'number':
          if (!Number.isFinite(value)) fail(`enqueue "${name}": ${where} is ${value}, which JSON cannot carry`);
          break;
      }
      return value;
    });
  } catch (err) {
    if (err instanceof JobInputError) throw err;
    // A cycle (TypeError: Converting circular structure to JSON) or a throwing toJSON.
    fail(`enqueue "${name}": the payload is not JSON-serialisable: ${(err as Error).message.split('\n')[0]}`);
  }
  if (text === undefined) fail(`enqueue "${name}": the payload is not JSON-serialisable`);
  return text;
}
