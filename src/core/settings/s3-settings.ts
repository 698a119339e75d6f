/**
 * Checks on an S3 section (`s3`, and `backups.s3` where the backups section embeds one): what
 * PocketBase's `S3Config.Validate` requires, plus bounds. Shared by every section holding one.
 */
import { fieldError, type FieldError } from '../errors.js';
import type { S3Settings } from './settings.js';

/** Longest value accepted per key: a bucket name is at most 63 characters, the rest is generous. */
const MAX_LENGTH: Record<Exclude<keyof S3Settings, 'enabled' | 'forcePathStyle'>, number> = {
  bucket: 255,
  region: 100,
  endpoint: 2048,
  accessKey: 255,
  secret: 1024,
};

/**
 * The endpoint as a URL the S3 client takes: `https://` added to a bare `host[:port]` (PocketBase's
 * `is.URL` accepts one). Null when it is not an http(s) URL, or carries credentials (they belong in
 * accessKey/secret, and an error message may quote the URL).
 */
export function normalizeS3Endpoint(endpoint: string): string | null {
  if (endpoint === '' || /\s/.test(endpoint)) return null;
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '' || url.username !== '' || url.password !== '') return null;
  return text;
}

/** Field errors of an S3 section (empty when valid): an enabled one needs every connection value. */
export function validateS3Settings(s3: S3Settings): Record<string, FieldError> {
  const errors: Record<string, FieldError> = {};
  for (const [key, max] of Object.entries(MAX_LENGTH) as [keyof typeof MAX_LENGTH, number][]) {
    const value = s3[key];
    if (value.length > max) errors[key] = fieldError('validation_length_too_long', `Must be no more than ${max} characters.`, { max });
    else if (s3.enabled && value === '') errors[key] = fieldError('validation_required', 'Missing required value.');
  }
  if (!errors.endpoint && s3.endpoint !== '' && normalizeS3Endpoint(s3.endpoint) === null) {
    errors.endpoint = fieldError('validation_is_url', 'Must be a valid http(s) URL (without credentials).');
  }
  return errors;
}
