/**
 * The Content-Type a stored file is served with, and whether browsers may show it inline.
 * The type comes from the content (magic bytes), never from the uploader's claim; the lists
 * are PocketBase's (tools/filesystem: inlineServeContentTypes, manualExtensionContentTypes).
 */
import { fileTypeFromBuffer } from 'file-type';

/** Bytes file-type needs to recognise every format it knows. */
export const SNIFF_BYTES = 4100;

const INLINE_TYPES = new Set([
  // image (no SVG: it can carry script)
  'image/png', 'image/jpg', 'image/jpeg', 'image/gif', 'image/webp', 'image/x-icon', 'image/bmp',
  // video
  'video/webm', 'video/mp4', 'video/3gpp', 'video/quicktime', 'video/x-ms-wmv',
  // audio
  'audio/basic', 'audio/aiff', 'audio/mpeg', 'audio/midi', 'audio/mp3', 'audio/wave',
  'audio/wav', 'audio/x-wav', 'audio/x-mpeg', 'audio/x-m4a', 'audio/aac',
  // document
  'application/pdf', 'application/x-pdf',
]);

/**
 * Served with a type of their extension whatever their content looks like, so that they load
 * (PocketBase: whatwg/mimesniff#7 for SVG, pocketbase#6597 for scripts). None is inline.
 */
const EXTENSION_TYPES: Record<string, string> = {
  svg: 'image/svg+xml',
  css: 'text/css',
  js: 'text/javascript',
  mjs: 'text/javascript',
};

/** The types a thumbnail can be made of (PocketBase's imageContentTypes). */
const THUMBNAILABLE = new Set(['image/png', 'image/jpg', 'image/jpeg', 'image/gif', 'image/webp']);

// Text without NUL or other C0 controls (tab, LF, CR, FF allowed) and valid UTF-8.
// eslint-disable-next-line no-control-regex -- control characters are what tells text from binary
const BINARY_CONTROL = /[\u0000-\u0008\u000b\u000e-\u001a\u001c-\u001f]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function looksLikeText(head: Buffer): boolean {
  // The sniffed head may end inside a multi-byte character: drop up to 3 trailing bytes.
  for (let cut = 0; cut <= Math.min(3, head.length); cut++) {
    try {
      return !BINARY_CONTROL.test(utf8.decode(head.subarray(0, head.length - cut)));
    } catch {
      // try a shorter prefix
    }
  }
  return false;
}

/** The type detected from the first bytes of a file (up to SNIFF_BYTES). */
export async function sniffContentType(head: Buffer): Promise<string> {
  const detected = await fileTypeFromBuffer(head).catch(() => undefined);
  if (detected) return detected.mime;
  return looksLikeText(head) ? 'text/plain; charset=utf-8' : 'application/octet-stream';
}

/** The Content-Type header for a file of `name` whose content was detected as `sniffed`. */
export function servedContentType(name: string, sniffed: string): string {
  const dot = name.lastIndexOf('.');
  const ext = dot === -1 ? '' : name.slice(dot + 1).toLowerCase();
  return EXTENSION_TYPES[ext] ?? sniffed;
}

/** Whether a file sent as `type` may be shown inline (`Content-Disposition: inline`). */
export function isInlineType(type: string): boolean {
  return INLINE_TYPES.has(type);
}

export function isThumbnailable(sniffed: string): boolean {
  return THUMBNAILABLE.has(sniffed);
}
