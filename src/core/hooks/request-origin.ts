/**
 * The HTTP request a write or a route answers, as core sees it: enough for the `…Request` hooks
 * (`e.request`, `e.auth`, `e.requestInfo()`, `e.pathValue()`) and for a hook to answer in the
 * action's place (`e.json()`). http/ builds it; core never sees Fastify.
 */
import type { RecordModel } from '../model/record-model.js';
import type { RequestInfo } from '../rules/request-info.js';
import type { Tx } from '../events/transaction.js';

export interface HookResponse {
  status: number;
  /** JSON body (or text when `type` says so); undefined: no body. */
  body: unknown;
  type?: string;
  headers?: Record<string, string>;
}

export interface RequestOrigin {
  readonly method: string;
  /** Path and query, as received. */
  readonly url: string;
  readonly ip: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Path parameters of the route (`{id}` → `params.id`). */
  readonly params: Readonly<Record<string, string>>;
  /** What rules see of the request (auth, body, query, headers, method, context). */
  readonly info: RequestInfo;
  readonly auth: RecordModel | null;
  /** What a hook answered in the action's place, if it did. */
  response: HookResponse | null;
  /**
   * Called by the record writer with the write's transaction as it starts (again if the write
   * starts over): work that must commit or roll back with the write registers there, as the
   * commit marker of an `Idempotency-Key` request does.
   */
  joinTransaction?: (tx: Tx) => void;
}
