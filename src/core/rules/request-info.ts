import type { RecordModel } from '../records/record.js';

/** Values of `@request.context` (spec §2.1). */
export type RequestContext = 'default' | 'oauth2' | 'otp' | 'password' | 'realtime' | 'protectedFile' | 'expand' | 'batch';

/**
 * What rules may read about the request (`@request.*`). Built once per request by the HTTP
 * layer; header keys are lowercase and snake_cased (`X-Token` → `x_token`).
 */
export interface RequestInfo {
  context: RequestContext;
  method: string;
  headers: Record<string, string>;
  query: Record<string, string>;
  /** Submitted data: canonical values for the collection's fields, raw values for other keys. */
  body: Record<string, unknown>;
  /** The authenticated record, or null for a guest. */
  auth: RecordModel | null;
}

export function guestRequest(partial: Partial<RequestInfo> = {}): RequestInfo {
  return { context: 'default', method: 'GET', headers: {}, query: {}, body: {}, auth: null, ...partial };
}

/** `X-Token` → `x_token`: the form in which rules name headers. */
export function ruleHeaderName(header: string): string {
  return header.toLowerCase().replace(/[^a-z0-9]+/g, '_');
}
