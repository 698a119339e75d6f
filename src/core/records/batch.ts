/**
 * `POST /api/batch` (spec §1.5): every sub-request runs in one transaction, in order. The first
 * failure rolls everything back and answers 400 "Batch transaction failed." with the failing
 * request's own error under `data.requests.<index>.response`. After-commit events (realtime,
 * hooks…) fire once the whole batch has committed, never for a rolled-back one. A batch that
 * runs past its timeout, or whose client goes away, is aborted and rolled back.
 */
import type { CollectionModel, SchemaView } from '../model/collection-model.js';
import { ApiError, badRequest, fieldError, isApiError, MESSAGES, notFound } from '../errors.js';
import { abortableTx } from '../events/abortable-tx.js';
import { transact, type Tx } from '../events/transaction.js';
import type { Clock, Database, Logger } from '../ports.js';
import type { RecordEnricher } from './record-query.js';
import { resolveBatchAction, type BatchAction } from './batch-action.js';
import type { BatchRequest } from './batch-request.js';
import { BatchRequestInfo } from './batch-request-info.js';
import { systemCaller, type Caller } from './caller.js';
import { checkClientQuery, type ClientQuery } from './client-query.js';
import { presentRecords } from './record-presenter.js';
import { findRecord } from './record-reader.js';
import type { RecordWriter } from './record-writer.js';
import type { HookResponse, RequestOrigin } from '../hooks/request-origin.js';

export interface BatchDeps {
  db: Database;
  schema: SchemaView;
  clock: Clock;
  writer: RecordWriter;
  /** The onRecordEnrich hooks, applied to the answers. */
  enrich?: RecordEnricher;
  logger: Logger;
}

/** One answer of a successful batch: what the request alone would have answered. */
export interface BatchResult {
  status: number;
  body: unknown;
}

export interface BatchOptions {
  /** How long the whole transaction may take. */
  timeoutMs: number;
  /** Aborts the batch (the client went away). */
  signal?: AbortSignal;
  /**
   * Shapes a successful body with the sub-request's query (the HTTP layer's `fields` picking);
   * may throw an ApiError, which fails that request like any other error.
   */
  shape?: (body: unknown, query: ClientQuery) => unknown;
  /**
   * Called with the batch's transaction before its first request: work that must commit or roll
   * back with the batch registers there (an idempotency key's commit marker).
   */
  join?: (tx: Tx) => void;
}

/** Why a batch was stopped from outside its requests. */
class BatchAborted extends Error {
  constructor(readonly reason: 'timeout' | 'interrupted') {
    super(`batch ${reason}`);
  }
}

function requestFailed(index: number, err: ApiError): ApiError {
  return badRequest(MESSAGES.batchFailed, {
    requests: { [String(index)]: { code: 'batch_request_failed', message: MESSAGES.batchRequestFailed, response: err.toJSON() } },
  });
}

function timedOut(timeoutMs: number): ApiError {
  const seconds = timeoutMs / 1000;
  return badRequest(MESSAGES.batchFailed, {
    timeout: fieldError('batch_timeout', `The batch did not finish within ${seconds} s and nothing was saved.`, { timeout: seconds }),
  });
}

const unknownAction = () =>
  badRequest('Unknown batch request action.', {
    url: fieldError(
      'validation_batch_action_unsupported',
      'A batch may only create (POST /api/collections/{collection}/records), upsert (PUT …/records), update (PATCH …/records/{id}) or delete (DELETE …/records/{id}) records.',
    ),
  });

export class BatchRunner {
  constructor(private readonly deps: BatchDeps) {}

  /**
   * Runs `requests` in one transaction as `caller` (every sub-request is the batch caller's: its
   * own Authorization header is ignored). Resolves with one result per request.
   * @throws ApiError 400 "Batch transaction failed." (nothing was written); non-ApiErrors (bugs)
   *   are rethrown as they are, after the rollback.
   */
  async run(requests: BatchRequest[], caller: Caller, options: BatchOptions): Promise<BatchResult[]> {
    return transact(this.deps.db, async (outer) => {
      options.join?.(outer);
      const abort = new AbortController();
      // Started inside the transaction, as PocketBase does: waiting for the write lock is not the batch's time.
      const timer = setTimeout(() => abort.abort(new BatchAborted('timeout')), options.timeoutMs);
      const onClientGone = () => abort.abort(new BatchAborted('interrupted'));
      if (options.signal?.aborted) onClientGone();
      else options.signal?.addEventListener('abort', onClientGone);
      const tx = abortableTx(outer, abort.signal);
      const results: BatchResult[] = [];
      try {
        for (let i = 0; i < requests.length; i++) {
          // NB: each request runs to its end (or to its next statement after an abort) before
          // anything else happens: the transaction must not end under a running request.
          try {
            if (abort.signal.aborted) throw abort.signal.reason;
            results.push(await this.runOne(tx, requests[i], caller, options));
          } catch (err) {
            if (abort.signal.aborted) {
              const reason = abort.signal.reason as BatchAborted;
              throw reason.reason === 'timeout' ? timedOut(options.timeoutMs) : badRequest(MESSAGES.batchFailed);
            }
            if (isApiError(err)) throw requestFailed(i, err);
            throw err;
          }
        }
        return results;
      } finally {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', onClientGone);
      }
    }, undefined, this.deps.logger);
  }

  private async runOne(tx: Tx, request: BatchRequest, caller: Caller, options: BatchOptions): Promise<BatchResult> {
    const action = resolveBatchAction(request.method, request.url);
    if (!action) throw unknownAction();
    const collection = this.deps.schema.find(action.collection);
    if (!collection) throw notFound(MESSAGES.missingCollection);
    const { kind, id } = await this.resolveUpsert(tx, collection, action, request);
    const sub: Caller = { ...caller, info: new BatchRequestInfo(caller.info, kind === 'create' ? 'POST' : kind === 'update' ? 'PATCH' : 'DELETE', action.query, request.headers) };
    const query = checkClientQuery(action.query, sub);
    const { writer } = this.deps;
    const origin = batchOrigin(request, sub, action.collection, id);
    if (kind === 'delete') {
      await writer.delete(collection, id!, sub, tx, origin);
      return origin.response ? hookAnswer(origin.response) : { status: 204, body: null };
    }
    const input = { data: request.body, files: request.files };
    const record = kind === 'create' ? await writer.create(collection, input, sub, tx, origin) : await writer.update(collection, id!, input, sub, tx, origin);
    if (origin.response) return hookAnswer(origin.response);
    // Presented inside the transaction: an expand may name records written earlier in the batch.
    const [json] = await presentRecords({ db: tx.db, schema: this.deps.schema, clock: this.deps.clock, enrich: this.deps.enrich }, [record], sub, query);
    return { status: 200, body: options.shape ? options.shape(json, query) : json };
  }

  /**
   * An upsert is an update when `body.id` names an existing record (whatever the caller may see:
   * the update's own rule then decides), else a create — PocketBase's behaviour.
   */
  private async resolveUpsert(tx: Tx, collection: CollectionModel, action: BatchAction, request: BatchRequest): Promise<{ kind: 'create' | 'update' | 'delete'; id?: string }> {
    if (action.kind !== 'upsert') return { kind: action.kind, id: action.id };
    const id = request.body.id;
    if (typeof id !== 'string' || id === '') return { kind: 'create' };
    const existing = await findRecord({ db: tx.db, schema: this.deps.schema, clock: this.deps.clock }, collection, id, systemCaller(), collection.rules.view);
    return existing ? { kind: 'update', id } : { kind: 'create' };
  }
}

/** What the `…Request` hooks see of a sub-request. */
function batchOrigin(request: BatchRequest, sub: Caller, collection: string, id: string | undefined): RequestOrigin {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  const params: Record<string, string> = { collection };
  if (id) params.id = id;
  return { method: sub.info.method, url: request.url, ip: '', headers, params, info: sub.info, auth: sub.info.auth, response: null };
}

/** A hook answered a sub-request itself (`e.json()`): its status and body are the sub-request's. */
function hookAnswer(response: HookResponse): BatchResult {
  return { status: response.status, body: response.body === undefined ? null : (response.body as BatchResult['body']) };
}
