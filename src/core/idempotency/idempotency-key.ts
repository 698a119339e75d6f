/**
 * The `Idempotency-Key` request header (the IETF httpapi draft "The Idempotency-Key HTTP Header
 * Field", as Stripe uses it): its checks, the scope a stored answer belongs to, and the
 * fingerprint that tells a true retry from a different request reusing the key.
 */
import { createHash } from 'node:crypto';
import { ApiError, fieldError } from '../errors.js';
import type { Principal } from '../auth/principal.js';

/** The request header (lower-case, as Node gives header names). */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** The response header of a replayed answer (Stripe's name). */
export const REPLAYED_HEADER = 'Idempotent-Replayed';
/** Longest key accepted (Stripe's limit); UUIDs need 36. */
export const MAX_KEY_LENGTH = 255;

const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/** 400 unless `value` is one key of 1..255 printable ASCII characters. */
export function checkIdempotencyKey(value: string | string[]): string {
  const key = Array.isArray(value) ? null : value;
  if (key === null || key.length === 0 || key.length > MAX_KEY_LENGTH || !PRINTABLE_ASCII.test(key)) {
    throw new ApiError(400, 'Invalid Idempotency-Key header.', {
      idempotencyKey: fieldError('validation_invalid_idempotency_key', `The Idempotency-Key must be one value of 1 to ${MAX_KEY_LENGTH} printable ASCII characters.`),
    });
  }
  return key;
}

/**
 * Who a stored answer belongs to. Guests share one scope: a guest's key is the only secret
 * between two guests, so it must be unguessable (a UUID v4), as the docs say.
 */
export function principalScope(principal: Principal): string {
  switch (principal.kind) {
    case 'guest':
      return 'guest';
    case 'record':
    case 'superuser':
      return `record:${principal.auth.collection.id}:${String(principal.auth.values.id)}`;
    case 'apiKey':
      return `apiKey:${principal.key.id}`;
    case 'system':
      return 'system';
    case 'installer':
      return 'installer';
  }
}

const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

/** The stored row's id: one per (caller, method, path, key), of a fixed size whatever the key. */
export function scopeId(principal: string, method: string, path: string, key: string): string {
  return sha256(JSON.stringify([principal, method, path, key]));
}

/** JSON with object keys sorted: the same data gives the same text whatever order it came in. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

/** A file part of a multipart body, as the fingerprint sees it (its bytes by their hash). */
export interface FingerprintFile {
  field: string;
  filename: string;
  mimetype: string;
  data: Buffer;
}

/**
 * What makes two requests "the same request": method, path, query string and body. The body is
 * taken in canonical form (parsed fields with sorted keys, each file part by name, type and
 * content hash), not as raw bytes: a multipart body gets a new random boundary on every send,
 * so two retries of one upload never have the same bytes.
 */
export function requestFingerprint(method: string, path: string, query: string, body: unknown, files: readonly FingerprintFile[] = []): string {
  const parts = files.map((f) => [f.field, f.filename, f.mimetype, sha256(f.data)]);
  // No body and an empty one are the same request (a client may send `{}` with a DELETE or not).
  return sha256(canonicalJson([method, path, query, body ?? {}, parts]));
}
