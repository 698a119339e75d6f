/**
 * A client-facing query cancelled at its deadline (Config.queryTimeoutMs), or one that waited
 * that long for a connection or a read worker. Each engine's `classifyError` reports it as
 * `{kind: 'timeout'}`, which the HTTP error handler answers with a 503.
 */
export class QueryTimeoutError extends Error {
  readonly code = 'BASALT_QUERY_TIMEOUT';

  constructor(readonly ms: number) {
    super(`query cancelled after ${ms} ms`);
    this.name = 'QueryTimeoutError';
  }
}
