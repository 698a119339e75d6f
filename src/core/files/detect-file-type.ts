/**
 * The type of an uploaded file, detected from its content: the client's Content-Type and the
 * file's extension are claims anyone can forge (an HTML page named `x.png`, sent as image/png,
 * must not pass a field that only accepts images). Binary formats are recognised by their magic
 * bytes (file-type); texts have none, so a few text formats are sniffed here the way
 * PocketBase's detector (gabriel-vasile/mimetype) does: SVG, XML, HTML, JSON, vCard,
 * iCalendar, WebVTT, CSV, TSV, else plain text.
 * Anything else is application/octet-stream.
 */
import { fileTypeFromBuffer } from 'file-type';

export interface DetectedType {
  /** Lowercase MIME type without parameters. */
  mime: string;
  /** Extension without the dot (`png`), `''` when the type has none. */
  ext: string;
}

export const OCTET_STREAM: DetectedType = { mime: 'application/octet-stream', ext: '' };

/** How much of a file the text sniffing looks at (mimetype reads 3 KiB too). */
const SNIFF_BYTES = 3072;
/** JSON is recognised by parsing it whole: only for files up to this size. */
const MAX_JSON_SNIFF = 1 << 20;

const HTML_STARTS = ['<!doctype html', '<html', '<head', '<script', '<iframe', '<h1', '<div', '<font', '<table', '<a', '<style', '<title', '<b', '<body', '<br', '<p', '<!--'];

/** Control characters other than tab, newline, form feed, carriage return and escape mean binary. */
function looksLikeText(sample: Buffer): boolean {
  for (const byte of sample) {
    if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0c && byte !== 0x0d && byte !== 0x1b) return false;
    if (byte === 0x7f) return false;
  }
  // A multi-byte character cut at the end of the sample is fine; invalid UTF-8 elsewhere is not.
  const text = sample.toString('utf8');
  const bad = text.indexOf('\ufffd');
  return bad === -1 || bad >= text.length - 3;
}

function startsWithTag(head: string, tag: string): boolean {
  if (!head.startsWith(tag)) return false;
  // `<a` must be a tag, not the start of `<abbr…>` text: the next character ends the name.
  const next = head.charAt(tag.length);
  return next === '' || next === '>' || next === ' ' || next === '\t' || next === '\n' || next === '\r' || next === '/' || tag === '<!--';
}

function sniffText(data: Buffer): DetectedType {
  const sample = data.subarray(0, SNIFF_BYTES);
  if (!looksLikeText(sample)) return OCTET_STREAM;
  const head = sample.toString('utf8').replace(/^\ufeff/, '').trimStart().toLowerCase();
  if (head.startsWith('<?xml') || head.startsWith('<svg') || head.startsWith('<!doctype svg')) {
    return head.includes('<svg') ? { mime: 'image/svg+xml', ext: 'svg' } : { mime: 'text/xml', ext: 'xml' };
  }
  if (HTML_STARTS.some((tag) => startsWithTag(head, tag))) return { mime: 'text/html', ext: 'html' };
  if ((head.startsWith('{') || head.startsWith('[')) && data.length <= MAX_JSON_SNIFF) {
    try {
      JSON.parse(data.toString('utf8'));
      return { mime: 'application/json', ext: 'json' };
    } catch {
      // Not JSON after all: plain text.
    }
  }
  const text = sample.toString('utf8').replace(/^\ufeff/, '');
  const upper = text.trimStart().slice(0, 16).toUpperCase();
  if (upper.startsWith('BEGIN:VCARD')) return { mime: 'text/vcard', ext: 'vcf' };
  if (upper.startsWith('BEGIN:VCALENDAR')) return { mime: 'text/calendar', ext: 'ics' };
  if (/^WEBVTT(\s|$)/.test(text)) return { mime: 'text/vtt', ext: 'vtt' };
  if (isSeparatedValues(text, ',', sample.length < data.length)) return { mime: 'text/csv', ext: 'csv' };
  if (isSeparatedValues(text, '\t', sample.length < data.length)) return { mime: 'text/tab-separated-values', ext: 'tsv' };
  return { mime: 'text/plain', ext: 'txt' };
}

/** Lines with a constant number (> 1) of `separator`-separated fields, quotes respected (as mimetype's CSV check). */
function isSeparatedValues(text: string, separator: string, cut: boolean): boolean {
  const lines = text.split(/\r?\n/);
  // The last line of a cut sample may be incomplete; a trailing newline leaves an empty one.
  if (cut || lines[lines.length - 1] === '') lines.pop();
  const sampleLines = lines.slice(0, 10);
  if (sampleLines.length < 2) return false;
  let expected = -1;
  for (const line of sampleLines) {
    let fields = 1;
    let quoted = false;
    for (const ch of line) {
      if (ch === '"') quoted = !quoted;
      else if (ch === separator && !quoted) fields++;
    }
    // A quoted field spanning lines is beyond this check: call it text.
    if (quoted || fields < 2 || (expected !== -1 && fields !== expected)) return false;
    expected = fields;
  }
  return true;
}

export async function detectFileType(data: Buffer): Promise<DetectedType> {
  if (data.length === 0) return OCTET_STREAM;
  const found = await fileTypeFromBuffer(data);
  // file-type calls every `<?xml` document XML: an SVG is one, and must be named as such.
  if (found && found.mime !== 'application/xml') return { mime: found.mime.toLowerCase(), ext: found.ext.toLowerCase() };
  return sniffText(data);
}

/** Types that are the same thing under two names (both detectors and browsers use either). */
const ALIASES: Readonly<Record<string, readonly string[]>> = {
  'text/xml': ['application/xml'],
  'application/xml': ['text/xml'],
  'audio/wav': ['audio/x-wav', 'audio/wave'],
  'audio/x-wav': ['audio/wav', 'audio/wave'],
  'application/x-zip-compressed': ['application/zip'],
  'application/zip': ['application/x-zip-compressed'],
  'application/rtf': ['text/rtf'],
  'text/rtf': ['application/rtf'],
};

const bare = (mime: string) => mime.split(';')[0].trim().toLowerCase();

/** Whether the detected type is one of `allowed` (parameters and case ignored, aliases matched). */
export function mimeTypeAllowed(detected: string, allowed: readonly string[]): boolean {
  const names = new Set([bare(detected), ...(ALIASES[bare(detected)] ?? [])]);
  return allowed.some((a) => names.has(bare(a)));
}
