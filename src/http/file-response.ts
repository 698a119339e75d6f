/**
 * Sends a stored file the way PocketBase's filesystem.Serve + Go's http.ServeContent do:
 * PocketBase's headers (spec §1.7), validators (ETag, Last-Modified), conditional requests
 * (RFC 9110 §13: If-Match / If-Unmodified-Since → 412, If-None-Match / If-Modified-Since →
 * 304) and one byte range (→ 206; unsatisfiable → 416). Several ranges get the whole file
 * (200), which RFC 9110 §14.2 allows. The body is streamed from storage.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ServedFile } from '../core/files/file-downloads.js';
import { isInlineType, servedContentType } from '../core/files/served-content-type.js';
import { ApiError, MESSAGES, notFound } from '../core/errors.js';
import type { FileStorage } from '../core/ports.js';

export const FILE_CSP = "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox";
export const FILE_CACHE_CONTROL = 'max-age=2592000, stale-while-revalidate=86400';

/** Go's strconv.ParseBool true values: what PocketBase accepts for `?download=`. */
const TRUE_VALUES = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);

export const isForcedDownload = (value: string | undefined) => value !== undefined && TRUE_VALUES.has(value);

/** `inline; filename=x.png`, PocketBase's form; names outside plain tokens are quoted (RFC 6266). */
export function contentDisposition(type: 'inline' | 'attachment', name: string): string {
  if (/^[A-Za-z0-9._-]+$/.test(name)) return `${type}; filename=${name}`;
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `${type}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

/** A strong validator from what storage knows: size and modification time. */
export const etagOf = (file: ServedFile) => `"${file.info.size.toString(16)}-${file.info.modified.getTime().toString(16)}"`;

const header = (request: FastifyRequest, name: string): string | undefined => {
  const v = request.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** HTTP dates have whole seconds: compare at that precision. */
const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

function parseHttpDate(value: string | undefined): number | null {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : Math.floor(t / 1000);
}

/** `If-Match`/`If-None-Match` lists: `*` or comma-separated (possibly weak) entity tags. */
function etagListMatches(list: string, etag: string, weak: boolean): boolean {
  if (list.trim() === '*') return true;
  return list.split(',').some((raw) => {
    const tag = raw.trim();
    if (tag === etag) return true;
    return weak && tag.startsWith('W/') && tag.slice(2) === etag;
  });
}

type Range = { start: number; end: number };

/**
 * The one range of a `Range: bytes=…` header; `null` to send the whole file (absent, another
 * unit, malformed, or several ranges); `'unsatisfiable'` when no byte of it exists.
 */
export function parseRange(value: string | undefined, size: number): Range | null | 'unsatisfiable' {
  if (!value) return null;
  const m = /^bytes=([^,]*)$/.exec(value.trim());
  if (!m) return null;
  const spec = /^\s*(\d*)-(\d*)\s*$/.exec(m[1]);
  if (!spec || (spec[1] === '' && spec[2] === '')) return null;
  if (spec[1] === '') {
    // Suffix range: the last N bytes.
    const n = Number(spec[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(spec[1]);
  if (spec[2] !== '' && Number(spec[2]) < start) return null;
  if (start >= size) return 'unsatisfiable';
  const end = spec[2] === '' ? size - 1 : Math.min(Number(spec[2]), size - 1);
  return { start, end };
}

/**
 * Answers with `file`. Headers are set only once the answer is known, so an error leaves
 * through the error handler in the standard shape without a file's headers.
 */
export async function sendStoredFile(request: FastifyRequest, reply: FastifyReply, storage: FileStorage, file: ServedFile, forceDownload: boolean): Promise<FastifyReply> {
  const etag = etagOf(file);
  const modified = seconds(file.info.modified);
  const validators = { etag, 'last-modified': file.info.modified.toUTCString(), 'cache-control': FILE_CACHE_CONTROL };

  // RFC 9110 §13.2.2: the order in which preconditions are evaluated.
  const ifMatch = header(request, 'if-match');
  const ifUnmodified = parseHttpDate(header(request, 'if-unmodified-since'));
  if ((ifMatch !== undefined && !etagListMatches(ifMatch, etag, false)) || (ifMatch === undefined && ifUnmodified !== null && modified > ifUnmodified)) {
    throw new ApiError(412, MESSAGES.fileChanged);
  }
  const ifNoneMatch = header(request, 'if-none-match');
  const ifModified = parseHttpDate(header(request, 'if-modified-since'));
  if ((ifNoneMatch !== undefined && etagListMatches(ifNoneMatch, etag, true)) || (ifNoneMatch === undefined && ifModified !== null && modified <= ifModified)) {
    // RFC 9110 §15.4.5: no representation metadata beyond the validators.
    return reply.code(304).headers(validators).send();
  }

  const size = file.info.size;
  let range = parseRange(header(request, 'range'), size);
  // If-Range (RFC 9110 §13.1.5): the range only holds for the representation the client has.
  const ifRange = header(request, 'if-range');
  if (range !== null && ifRange !== undefined) {
    const holds = ifRange.startsWith('"') ? ifRange === etag : parseHttpDate(ifRange) === modified;
    if (!holds) range = null;
  }
  if (range === 'unsatisfiable') {
    reply.header('content-range', `bytes */${size}`);
    throw new ApiError(416, MESSAGES.rangeNotSatisfiable);
  }

  const bodyless = request.method === 'HEAD' || size === 0;
  const stream = bodyless ? null : await storage.read(file.key, range ?? undefined);
  // Deleted after the lookup: the same answer as a file that never was.
  if (!bodyless && !stream) throw notFound();

  // Both decided from the type actually sent: content sniffed as video but named .svg is sent as
  // image/svg+xml, and so must be an attachment.
  const contentType = servedContentType(file.name, file.sniffedType);
  const disposition = !forceDownload && isInlineType(contentType) ? 'inline' : 'attachment';
  reply.headers({
    ...validators,
    'content-disposition': contentDisposition(disposition, file.name),
    'content-type': contentType,
    'content-security-policy': FILE_CSP,
    'x-content-type-options': 'nosniff',
    'accept-ranges': 'bytes',
    'content-length': String(range ? range.end - range.start + 1 : size),
  });
  if (range) reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`);
  return stream ? reply.send(stream) : reply.send();
}
