/**
 * The body of `POST /api/batch` (spec §1.5) turned into sub-requests: `{requests: [{method, url,
 * headers?, body?}]}`, plus the uploaded files, which the SDK sends as parts named
 * `requests.N.field` or `requests[N].field` and which go to request N as `field`.
 * Shape errors are 400s with field errors under `requests`, as PocketBase's form validation gives.
 */
import { badRequest, fieldError, MESSAGES, type ErrorData, type FieldError } from '../errors.js';
import type { UploadedFile } from '../files/uploaded-file.js';

export interface BatchRequest {
  method: string;
  url: string;
  /** Extra headers of this sub-request (names as sent). */
  headers: Record<string, string>;
  body: Record<string, unknown>;
  files: UploadedFile[];
}

/** PocketBase's InternalRequest rules: the methods it accepts and the longest URL. */
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const MAX_URL_LENGTH = 2000;

const FILE_PART = /^requests(?:\.(\d+)\.|\[(\d+)\]\.)(.+)$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function parseOne(raw: unknown, errors: ErrorData, index: number): BatchRequest {
  const out: BatchRequest = { method: '', url: '', headers: {}, body: {}, files: [] };
  if (!isObject(raw)) {
    errors[String(index)] = fieldError('validation_invalid_type', 'Must be an object with method and url.');
    return out;
  }
  const e: Record<string, FieldError> = {};
  if (typeof raw.method !== 'string' || raw.method.trim() === '') e.method = fieldError('validation_required', 'Missing required value.');
  else if (!METHODS.includes(raw.method.trim().toUpperCase())) e.method = fieldError('validation_in_invalid', `Must be one of ${METHODS.join(', ')}.`);
  else out.method = raw.method.trim().toUpperCase();
  if (typeof raw.url !== 'string' || raw.url.trim() === '') e.url = fieldError('validation_required', 'Missing required value.');
  else if (raw.url.length > MAX_URL_LENGTH) e.url = fieldError('validation_length_too_long', `The length must be no more than ${MAX_URL_LENGTH}.`, { max: MAX_URL_LENGTH });
  else out.url = raw.url.trim();
  if (raw.headers !== undefined && raw.headers !== null) {
    if (!isObject(raw.headers) || Object.values(raw.headers).some((v) => typeof v !== 'string')) {
      e.headers = fieldError('validation_invalid_type', 'Must be an object of header names to string values.');
    } else out.headers = raw.headers as Record<string, string>;
  }
  if (raw.body !== undefined && raw.body !== null) {
    if (!isObject(raw.body)) e.body = fieldError('validation_invalid_type', 'Must be an object.');
    else out.body = raw.body;
  }
  if (Object.keys(e).length > 0) errors[String(index)] = e;
  return out;
}

/**
 * The sub-requests of a batch body, validated; `maxRequests` from the settings.
 * @throws ApiError 400 "Failed to read the submitted batch data." when `requests` is not an
 *   array, 400 "Invalid batch request data." when it is empty, too long or has bad items.
 */
export function batchRequestsFrom(data: Record<string, unknown>, files: UploadedFile[], maxRequests: number): BatchRequest[] {
  const raw = data.requests;
  if (raw !== undefined && raw !== null && !Array.isArray(raw)) {
    throw badRequest(MESSAGES.batchReadFailed, { requests: fieldError('validation_invalid_type', 'Must be an array of requests.') });
  }
  if (!Array.isArray(raw) || raw.length === 0) {
    throw badRequest(MESSAGES.batchInvalid, { requests: fieldError('validation_required', 'Missing required value.') });
  }
  if (raw.length > maxRequests) {
    throw badRequest(MESSAGES.batchInvalid, {
      requests: fieldError('validation_length_too_long', `The length must be no more than ${maxRequests}.`, { max: maxRequests }),
    });
  }
  const itemErrors: ErrorData = {};
  const requests = raw.map((item, i) => parseOne(item, itemErrors, i));
  if (Object.keys(itemErrors).length > 0) throw badRequest(MESSAGES.batchInvalid, { requests: itemErrors });
  for (const file of files) {
    const match = FILE_PART.exec(file.field);
    // Parts that name no request of this batch are ignored, as PocketBase ignores them.
    const target = match ? requests[Number(match[1] ?? match[2])] : undefined;
    if (target) target.files.push({ ...file, field: match![3] });
  }
  return requests;
}
