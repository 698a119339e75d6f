/**
 * One file part of a multipart body as a stream, for uploads too large to hold in memory (backup
 * zips): the caller writes it where it belongs. Other parts are read and dropped.
 */
import { Busboy } from '@fastify/busboy';
import type { FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { badRequest, MESSAGES } from '../core/errors.js';

export interface StreamedFile {
  filename: string;
  stream: Readable;
}

/** The first file part named `field`, or null when the body is not multipart or has none. */
export function streamUploadedFile(request: FastifyRequest, field: string): Promise<StreamedFile | null> {
  if (!request.multipartPending) return Promise.resolve(null);
  request.multipartPending = false;
  return new Promise((resolve, reject) => {
    let bb: InstanceType<typeof Busboy>;
    try {
      bb = new Busboy({ headers: request.headers as never, limits: { fields: 100, fieldSize: 64 << 10, parts: 101 } });
    } catch {
      request.raw.resume();
      return reject(badRequest(MESSAGES.invalidBody));
    }
    let found: Readable | null = null;
    bb.on('file', (name, stream, filename) => {
      if (found || name !== field) {
        stream.resume();
        return;
      }
      found = stream;
      resolve({ filename, stream });
    });
    bb.on('finish', () => {
      if (!found) resolve(null);
    });
    bb.on('error', (err) => {
      // After the file was handed over, its stream carries the error to whoever reads it.
      if (found) found.destroy(err as Error);
      else reject(badRequest(MESSAGES.invalidBody));
      request.raw.unpipe(bb);
      request.raw.resume();
    });
    request.raw.on('error', (err) => {
      if (found) found.destroy(err);
      else reject(badRequest(MESSAGES.invalidBody));
    });
    request.raw.pipe(bb);
  });
}
