/**
 * Request bodies as records and auth endpoints read them (spec §1.1): JSON objects,
 * urlencoded forms and multipart forms, where `@jsonPayload` parts hold JSON merged into the
 * body. Malformed bodies are 400s in the standard shape.
 */
import type { FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import { ApiError, badRequest, fieldError, MESSAGES } from '../core/errors.js';
import type { UploadedFile } from '../core/files/uploaded-file.js';
import { assertJsonKeyLimits } from './json-key-limit.js';
import { MultipartError, readMultipart } from './multipart.js';

export type { UploadedFile };

export interface ParsedBody {
  data: Record<string, unknown>;
  files: UploadedFile[];
}

/** Limits of a multipart body: PocketBase keeps up to 16 MiB of form values in memory. */
const MULTIPART_LIMITS = { fieldSize: 16 << 20, fields: 1000, files: 100, parts: 1100 };

function invalid(message = MESSAGES.invalidBody): never {
  throw badRequest(message);
}

export function parseJsonText(text: string): unknown {
  assertJsonKeyLimits(text);
  try {
    return sjson.parse(text, undefined, { protoAction: 'remove', constructorAction: 'remove' });
  } catch {
    invalid();
  }
}

function mergePayload(target: Record<string, unknown>, text: string): void {
  const payload = parseJsonText(text);
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) invalid();
  Object.assign(target, payload);
}

function addValue(target: Record<string, unknown>, key: string, value: unknown): void {
  if (!(key in target)) target[key] = value;
  else if (Array.isArray(target[key])) (target[key] as unknown[]).push(value);
  else target[key] = [target[key], value];
}

const tooLarge = () => new ApiError(413, MESSAGES.bodyTooLarge);

export interface ReadBodyOptions {
  /**
   * Byte limit of a multipart body, for routes whose limit is decided per request (the batch
   * limit follows the settings; record writes make room for the collection's file fields).
   * @default the route's bodyLimit
   */
  limit?: number;
  /**
   * Largest file part kept in memory. A larger part is not an error here: its first
   * `maxFileSize` bytes are kept, the rest is discarded unread into memory, and the upload is
   * flagged `oversize` for the field's size check to refuse (PocketBase's 400
   * `validation_file_size_limit`, not a 413). Set it above every file field's maxSize.
   * Without it, a file part over `limit` is a 413.
   */
  maxFileSize?: number;
  /** Most file parts accepted (400 beyond). @default 100 */
  maxFiles?: number;
}

/** Reads the body of `request` as a flat object of fields (and file parts). */
export async function readBody(request: FastifyRequest, options: ReadBodyOptions = {}): Promise<ParsedBody> {
  if (request.multipartPending) {
    const data: Record<string, unknown> = {};
    const files: UploadedFile[] = [];
    const payloads: string[] = [];
    // Multipart streams bypass Fastify's bodyLimit: count what is read against the same limit.
    const limit = options.limit ?? request.routeOptions.bodyLimit ?? Infinity;
    let total = 0;
    const count = (bytes: number) => {
      total += bytes;
      if (total > limit) throw tooLarge();
    };
    try {
      const sizeChecked = options.maxFileSize !== undefined;
      const fileSize = Math.min(limit, options.maxFileSize ?? limit);
      const maxFiles = Math.min(MULTIPART_LIMITS.files, options.maxFiles ?? MULTIPART_LIMITS.files);
      const limits = { ...MULTIPART_LIMITS, fieldSize: Math.min(MULTIPART_LIMITS.fieldSize, limit), fileSize, files: maxFiles };
      await readMultipart(request, limits, (part) => {
        if (part.type === 'file') {
          count(part.data.length);
          if (part.truncated && !sizeChecked) throw tooLarge();
          const file: UploadedFile = { field: part.name, filename: part.filename, mimetype: part.mimetype, data: part.data };
          if (part.truncated) file.oversize = true;
          files.push(file);
        } else {
          count(Buffer.byteLength(part.value) + Buffer.byteLength(part.name));
          if (part.truncated) throw tooLarge();
          if (part.name === '@jsonPayload') payloads.push(part.value);
          else addValue(data, part.name, part.value);
        }
      }, limit);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (err instanceof MultipartError && err.tooLarge) throw tooLarge();
      // Anything else the multipart parser rejects (no boundary, truncated parts…) is bad input.
      invalid();
    }
    for (const p of payloads) mergePayload(data, p);
    // An Idempotency-Key request is claimed once its multipart body is known, before any write.
    if (request.idempotency) await request.idempotency.bodyRead(data, files);
    return { data, files };
  }
  const body = request.body;
  if (body === undefined || body === null || body === '') return { data: {}, files: [] };
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(MESSAGES.invalidBody, { '': fieldError('validation_invalid_body', 'The body must be a JSON object.') });
  }
  const parsed = body as Record<string, unknown>;
  // Copied only to merge a payload: copying every body cost seconds for one with 10^6 keys.
  if (typeof parsed['@jsonPayload'] !== 'string') return { data: parsed, files: [] };
  const { '@jsonPayload': text, ...data } = parsed;
  mergePayload(data, text as string);
  return { data, files: [] };
}
