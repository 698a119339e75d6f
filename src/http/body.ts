/**
 * Request bodies as records and auth endpoints read them (spec §1.1): JSON objects,
 * urlencoded forms and multipart forms, where `@jsonPayload` parts hold JSON merged into the
 * body. Malformed bodies are 400s in the standard shape.
 */
import type { FastifyRequest } from 'fastify';
import sjson from 'secure-json-parse';
import { ApiError, badRequest, fieldError, MESSAGES } from '../core/errors.js';

/** A file part of a multipart body (stored by the files feature; refused until then). */
export interface UploadedFile {
  field: string;
  filename: string;
  mimetype: string;
  data: Buffer;
}

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

/** Reads the body of `request` as a flat object of fields (and file parts). */
export async function readBody(request: FastifyRequest): Promise<ParsedBody> {
  if (request.isMultipart()) {
    const data: Record<string, unknown> = {};
    const files: UploadedFile[] = [];
    const payloads: string[] = [];
    // Multipart streams bypass Fastify's bodyLimit: count what is read against the same limit.
    const limit = request.routeOptions.bodyLimit ?? Infinity;
    let total = 0;
    const count = (bytes: number) => {
      total += bytes;
      if (total > limit) throw tooLarge();
    };
    try {
      for await (const part of request.parts({ limits: { ...MULTIPART_LIMITS, fieldSize: Math.min(MULTIPART_LIMITS.fieldSize, limit), fileSize: limit } })) {
        if (part.type === 'file') {
          const buffer = await part.toBuffer();
          count(buffer.length);
          files.push({ field: part.fieldname, filename: part.filename, mimetype: part.mimetype, data: buffer });
        } else {
          const value = String(part.value);
          count(Buffer.byteLength(value) + Buffer.byteLength(part.fieldname));
          if (part.valueTruncated) throw tooLarge();
          if (part.fieldname === '@jsonPayload') payloads.push(value);
          else addValue(data, part.fieldname, value);
        }
      }
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const e = err as { statusCode?: number; code?: string };
      if (e.code === 'FST_REQ_FILE_TOO_LARGE' || e.statusCode === 413) throw tooLarge();
      // Anything else the multipart parser rejects (no boundary, truncated parts…) is bad input.
      invalid();
    }
    for (const p of payloads) mergePayload(data, p);
    return { data, files };
  }
  const body = request.body;
  if (body === undefined || body === null || body === '') return { data: {}, files: [] };
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest(MESSAGES.invalidBody, { '': fieldError('validation_invalid_body', 'The body must be a JSON object.') });
  }
  const data = { ...(body as Record<string, unknown>) };
  if (typeof data['@jsonPayload'] === 'string') {
    const text = data['@jsonPayload'] as string;
    delete data['@jsonPayload'];
    mergePayload(data, text);
  }
  return { data, files: [] };
}
