/**
 * A body limit decided per request instead of once per route (the batch limit follows
 * `settings.batch.maxBodySize`, which a superuser can change at any time). Fastify's `bodyLimit`
 * is fixed when the route is registered, so such a route registers with a ceiling no setting
 * reaches and this preParsing hook enforces the current limit: a declared Content-Length over
 * it is refused before anything is read, and the parsers (JSON, forms) read through a counter
 * that stops at the limit. Multipart bodies are read by readBody, which takes the same limit.
 */
import { Transform } from 'node:stream';
import type { FastifyReply, FastifyRequest, preParsingHookHandler } from 'fastify';
import { ApiError, MESSAGES } from '../core/errors.js';

/** The route's registered bodyLimit: larger than any limit the hook applies. */
export const BODY_LIMIT_CEILING = Number.MAX_SAFE_INTEGER;

const tooLarge = () => new ApiError(413, MESSAGES.bodyTooLarge);

/** The preParsing hook; `limitOf` gives the limit of this request (it may also throw, e.g. a 403). */
export function dynamicBodyLimit(limitOf: (request: FastifyRequest) => number): preParsingHookHandler {
  return (request: FastifyRequest, _reply: FastifyReply, payload, done) => {
    let limit: number;
    try {
      limit = limitOf(request);
    } catch (err) {
      return done(err as Error);
    }
    const declared = Number(request.headers['content-length']);
    if (declared > limit) return done(tooLarge());
    // NB: multipart is read from the raw request by readBody (given the same limit): a counter
    // piped here would have no reader, fill up and stall the request through backpressure.
    if (String(request.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/')) return done(null, payload);
    let seen = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        seen += chunk.length;
        if (seen > limit) callback(tooLarge());
        else callback(null, chunk);
      },
    });
    payload.on('error', (err) => counter.destroy(err));
    done(null, payload.pipe(counter));
  };
}
