/**
 * Multipart bodies, read with busboy only by the handlers that want a body. (The @fastify/multipart
 * plugin adds two async hooks to every request of the server, GETs included, to clean up the
 * disk mode Basalt does not use: a tenth of a primary-key read.)
 */
import { Busboy } from '@fastify/busboy';
import type { FastifyInstance, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body is multipart/form-data, still unread (readMultipart reads it). */
    multipartPending: boolean;
  }
}

export interface MultipartLimits {
  fieldSize: number;
  fields: number;
  files: number;
  parts: number;
  fileSize: number;
}

export type MultipartPart =
  | { type: 'field'; name: string; value: string; truncated: boolean }
  /**
   * A file part. `truncated`: it was larger than `limits.fileSize`; `data` holds only its first
   * `fileSize` bytes, the rest was read and discarded (so memory stays bounded by the limit).
   */
  | { type: 'file'; name: string; filename: string; mimetype: string; data: Buffer; truncated: boolean };

/** Why a multipart body was refused: too large (413) or malformed / over a count limit (400). */
export class MultipartError extends Error {
  constructor(readonly tooLarge: boolean, message: string) {
    super(message);
    this.name = 'MultipartError';
  }
}

/** Leaves multipart bodies unread until a handler asks (readMultipart). */
export function registerMultipart(server: FastifyInstance): void {
  server.decorateRequest('multipartPending', false);
  server.addContentTypeParser('multipart/form-data', (request, _payload, done) => {
    request.multipartPending = true;
    done(null, undefined);
  });
}

/**
 * Reads every part of the request's multipart body; `onPart` may throw to stop (the error is the
 * result). `maxBytes` bounds the raw body, bytes of discarded file tails included: a
 * MultipartError (tooLarge) past it, Content-Length or not.
 */
export function readMultipart(
  request: FastifyRequest,
  limits: MultipartLimits,
  onPart: (part: MultipartPart) => void,
  maxBytes = Infinity,
): Promise<void> {
  request.multipartPending = false;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (err: unknown) => {
      if (settled) return;
      settled = true;
      request.raw.unpipe();
      request.raw.resume(); // drain what is left, so the connection stays usable
      reject(err);
    };
    let bb: InstanceType<typeof Busboy>;
    try {
      bb = new Busboy({ headers: request.headers as never, limits });
    } catch (err) {
      return fail(new MultipartError(false, (err as Error).message));
    }
    let pending = 0;
    let finished = false;
    const maybeDone = () => {
      if (finished && pending === 0 && !settled) {
        settled = true;
        resolve();
      }
    };
    const emit = (part: MultipartPart) => {
      try {
        onPart(part);
      } catch (err) {
        fail(err);
      }
    };
    bb.on('field', (name, value, _nameTruncated, valueTruncated) => emit({ type: 'field', name, value, truncated: valueTruncated }));
    bb.on('file', (name, stream, filename, _encoding, mimetype) => {
      pending++;
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', fail);
      stream.on('end', () => {
        pending--;
        emit({ type: 'file', name, filename, mimetype, data: Buffer.concat(chunks), truncated: Boolean((stream as { truncated?: boolean }).truncated) });
        maybeDone();
      });
    });
    for (const event of ['partsLimit', 'filesLimit', 'fieldsLimit'] as const) bb.on(event, () => fail(new MultipartError(false, `too many parts (${event})`)));
    bb.on('error', (err) => fail(new MultipartError(false, (err as Error).message)));
    bb.on('finish', () => {
      finished = true;
      maybeDone();
    });
    request.raw.on('error', fail);
    if (maxBytes !== Infinity) {
      let seen = 0;
      const countRaw = (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > maxBytes) {
          request.raw.off('data', countRaw);
          fail(new MultipartError(true, 'the body is over the size limit'));
        }
      };
      request.raw.on('data', countRaw);
    }
    request.raw.pipe(bb);
  });
}
