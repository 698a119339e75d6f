/**
 * A realtime subscription as the SDK sends it (spec §1.6): a topic — `posts/*`, `posts/<id>`, a
 * bare `posts`, or `@oauth2` — optionally followed by `?options=<urlencoded JSON>` carrying the
 * `query` (filter, expand, fields, and anything a rule reads as `@request.query.*`) and the
 * `headers` (`@request.headers.*`). The whole string is the SSE event name of its messages.
 */
import { fieldError, type FieldError } from '../errors.js';
import type { ClientQuery } from '../records/client-query.js';
import type { RecordModel } from '../model/record-model.js';
import { ruleHeaderName, type RequestInfo } from '../rules/request-info.js';

export const MAX_SUBSCRIPTIONS = 1000;
export const MAX_SUBSCRIPTION_LENGTH = 2500;
/**
 * Distinct option sets (query + headers) one client may use. Each is its own rule check and
 * serialisation per event, so a client with many distinct filters costs every event that much;
 * real apps use a handful (the same options on many record topics count once).
 */
export const MAX_DISTINCT_OPTIONS = 100;

export interface Subscription {
  /** As submitted: the SSE event name. */
  raw: string;
  topic: string;
  query: Record<string, string>;
  /** Rule-style names (`X-Token` → `x_token`). */
  headers: Record<string, string>;
  /** Identical for subscriptions whose rule checks and payloads are identical (query + headers). */
  optionsKey: string;
}

const asText = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

function textMap(value: unknown, key: (k: string) => string = (k) => k): Record<string, string> | null {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) return null;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[key(k)] = asText(v);
  return out;
}

export function parseSubscription(raw: unknown): Subscription | FieldError {
  if (typeof raw !== 'string' || raw.trim() === '') return fieldError('validation_required', 'Missing required value.');
  if (raw.length > MAX_SUBSCRIPTION_LENGTH) {
    return fieldError('validation_length_out_of_range', `Must be at most ${MAX_SUBSCRIPTION_LENGTH} characters.`, { max: MAX_SUBSCRIPTION_LENGTH });
  }
  const q = raw.indexOf('?');
  const topic = q === -1 ? raw : raw.slice(0, q);
  if (topic === '') return fieldError('validation_required', 'Missing topic.');
  let query: Record<string, string> = {};
  let headers: Record<string, string> = {};
  let optionsKey = '';
  if (q !== -1) {
    const text = new URLSearchParams(raw.slice(q + 1)).get('options');
    if (text !== null && text !== '') {
      let options: unknown;
      try {
        options = JSON.parse(text);
      } catch {
        return fieldError('validation_invalid_options', 'The subscription options must be a JSON object.');
      }
      if (typeof options !== 'object' || options === null || Array.isArray(options)) {
        return fieldError('validation_invalid_options', 'The subscription options must be a JSON object.');
      }
      const o = options as { query?: unknown; headers?: unknown };
      const parsedQuery = textMap(o.query);
      const parsedHeaders = textMap(o.headers, ruleHeaderName);
      if (!parsedQuery || !parsedHeaders) return fieldError('validation_invalid_options', 'The options "query" and "headers" must be objects.');
      query = parsedQuery;
      headers = parsedHeaders;
      optionsKey = JSON.stringify([query, headers]);
    }
  }
  return { raw, topic, query, headers, optionsKey };
}

/** A subscription whose options passed the client-query gate for its client's principal. */
export interface CheckedSubscription extends Subscription {
  readonly checked: ClientQuery;
}

/** What rules see of a subscriber: its options as `@request.query`/`@request.headers`. */
export function subscriptionRequest(subscription: Subscription, auth: RecordModel | null): RequestInfo {
  return { context: 'realtime', method: 'GET', headers: subscription.headers, query: subscription.query, body: {}, auth };
}

export const isFieldError = (v: Subscription | FieldError): v is FieldError => !('topic' in v);
