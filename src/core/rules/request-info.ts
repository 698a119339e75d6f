import type { RecordModel } from '../model/record-model.js';

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

/** A request seen with some values replaced; headers and query read through the original. */
class DerivedRequestInfo implements RequestInfo {
  readonly context: RequestContext;
  readonly method: string;
  readonly body: Record<string, unknown>;
  readonly auth: RequestInfo['auth'];

  constructor(
    private readonly base: RequestInfo,
    patch: Partial<Omit<RequestInfo, 'headers' | 'query'>>,
  ) {
    this.context = patch.context ?? base.context;
    this.method = patch.method ?? base.method;
    this.body = patch.body ?? base.body;
    this.auth = patch.auth !== undefined ? patch.auth : base.auth;
  }

  get headers(): Record<string, string> {
    return this.base.headers;
  }

  get query(): Record<string, string> {
    return this.base.query;
  }
}

/**
 * The same request with some values replaced (`body` for a write, `context`, `auth`). Headers
 * and query are read through the original, so a lazily built RequestInfo stays lazy.
 * NB: never spread a RequestInfo (`{...info}`): implementations compute headers and query on
 * first use through accessors, which a spread does not copy.
 */
export function deriveRequest(info: RequestInfo, patch: Partial<Omit<RequestInfo, 'headers' | 'query'>>): RequestInfo {
  return new DerivedRequestInfo(info, patch);
}

export function guestRequest(partial: Partial<RequestInfo> = {}): RequestInfo {
  return { context: 'default', method: 'GET', headers: {}, query: {}, body: {}, auth: null, ...partial };
}

/** `X-Token` → `x_token`: the form in which rules name headers. */
export function ruleHeaderName(header: string): string {
  return header.toLowerCase().replace(/[^a-z0-9]+/g, '_');
}
