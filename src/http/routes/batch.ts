/**
 * `POST /api/batch` (spec §1.5): several record writes in one transaction. The body is JSON or,
 * as the SDK always sends it, multipart with `@jsonPayload` and file parts `requests.N.field`.
 * Its size limit is `settings.batch.maxBodySize`, read per request (see dynamic-body-limit.ts).
 * The default `/api/batch` rate-limit rule applies by path, like any path rule.
 */
import type { FastifyInstance } from 'fastify';
import type { App } from '../../core/app.js';
import { ApiError, forbidden, MESSAGES, type FieldError } from '../../core/errors.js';
import { BatchRunner } from '../../core/records/batch.js';
import { batchRequestsFrom } from '../../core/records/batch-request.js';
import { batchLimits } from '../../core/settings/settings.js';
import { largestUploadKept } from '../../core/files/body-limit.js';
import { readBody } from '../body.js';
import { callerOf } from '../context.js';
import { BODY_LIMIT_CEILING, dynamicBodyLimit } from '../dynamic-body-limit.js';
import { pickListOrRecord } from '../../core/records/fields-picker.js';
import { commitMarker, markRetryable } from '../idempotency.js';

const isBatchTimeout = (err: unknown): boolean => err instanceof ApiError && (err.data.timeout as FieldError | undefined)?.code === 'batch_timeout';

export function registerBatchRoutes(server: FastifyInstance, app: App): void {
  const runner = new BatchRunner({ db: app.db, schema: app.registry, clock: app.clock, enrich: app.query.enrich, writer: app.records.writer, logger: app.logger });

  /** The limits in force; a disabled batch (or one allowing 0 requests) is a 403 before the body is read. */
  const limits = () => {
    const batch = app.settings.get().batch;
    if (!batch.enabled || batch.maxRequests <= 0) throw forbidden(MESSAGES.batchDisabled);
    return batchLimits(batch);
  };

  server.post('/api/batch', { bodyLimit: BODY_LIMIT_CEILING, config: { idempotent: true }, preParsing: dynamicBodyLimit(() => limits().maxBodySize) }, async (request, reply) => {
    const { maxRequests, timeoutMs, maxBodySize } = limits();
    // File parts are kept up to the largest maxSize of any collection: a larger one is refused by
    // its field's size check (400), its excess never buffered.
    const { data, files } = await readBody(request, { limit: maxBodySize, maxFileSize: largestUploadKept(app.registry.all()) });
    const requests = batchRequestsFrom(data, files, maxRequests);
    // A client that hangs up gets no answer: stop the batch and roll it back.
    const gone = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableEnded) gone.abort();
    };
    reply.raw.once('close', onClose);
    try {
      return await runner.run(requests, callerOf(request), {
        timeoutMs,
        signal: gone.signal,
        shape: (body, query) => pickListOrRecord(body, query.fields),
        join: commitMarker(app, request),
      });
    } catch (err) {
      // Stopped by its timeout or by the client leaving: nothing was written, and the same batch
      // may well succeed when sent again, so an Idempotency-Key does not keep this answer.
      if (gone.signal.aborted || isBatchTimeout(err)) markRetryable(request);
      throw err;
    } finally {
      reply.raw.off('close', onClose);
    }
  });
}
