/**
 * What rules see of one batch sub-request (`@request.*`): context `batch`, the sub-request's own
 * method and query, the batch's headers overlaid with the sub-request's, and the batch caller's
 * auth. As in PocketBase, a sub-request never authenticates on its own: its `Authorization` (and
 * Basalt's `X-API-Key`) header is dropped, so a rule cannot be fed a header the auth ignored.
 */
import { ruleHeaderName, type RequestInfo } from '../rules/request-info.js';

const AUTH_HEADERS = new Set(['authorization', 'x_api_key']);

export class BatchRequestInfo implements RequestInfo {
  readonly context = 'batch' as const;
  readonly body: Record<string, unknown> = {};
  readonly auth: RequestInfo['auth'];
  private headersCache: Record<string, string> | undefined;

  constructor(
    private readonly base: RequestInfo,
    readonly method: string,
    readonly query: Record<string, string>,
    private readonly extraHeaders: Record<string, string>,
  ) {
    this.auth = base.auth;
  }

  /** Built on first use: the batch's headers are themselves computed lazily. */
  get headers(): Record<string, string> {
    if (this.headersCache) return this.headersCache;
    const headers = { ...this.base.headers };
    for (const [name, value] of Object.entries(this.extraHeaders)) {
      const key = ruleHeaderName(name);
      if (!AUTH_HEADERS.has(key)) headers[key] = value;
    }
    return (this.headersCache = headers);
  }
}
