/**
 * The built dashboard's files (`dist/dashboard/`), read into memory once with their gzip and
 * brotli encodings. Requests are answered from this table, keyed by the file's relative path:
 * a request path that is not exactly one of the built files (`..`, encoded slashes, NUL bytes,
 * anything) is simply not found, so no path from a client ever reaches the file system.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

export interface DashboardFile {
  readonly body: Buffer;
  readonly gzip: Buffer | null;
  readonly br: Buffer | null;
  readonly type: string;
  readonly etag: string;
  /** Vite's content-hashed output (`assets/`): cached for a year, never revalidated. */
  readonly immutable: boolean;
}

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json; charset=utf-8',
  webmanifest: 'application/manifest+json; charset=utf-8',
  svg: 'image/svg+xml',
  png: 'image/png',
  ico: 'image/x-icon',
  webp: 'image/webp',
  woff2: 'font/woff2',
  txt: 'text/plain; charset=utf-8',
};

const COMPRESSIBLE = new Set(['html', 'js', 'mjs', 'css', 'json', 'webmanifest', 'svg', 'txt']);

/** A built dashboard is a few hundred KiB; these bound what a misplaced directory could make us hold. */
const MAX_FILES = 2000;
const MAX_TOTAL_BYTES = 64 << 20;

/** How often a missing build is looked for again (the dashboard may be built while Basalt runs). */
const RETRY_MS = 1000;

function listFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    // Dot files are never part of a build; symbolic links could point anywhere.
    if (entry.name.startsWith('.') || entry.isSymbolicLink()) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) listFiles(path, out);
    else if (entry.isFile()) out.push(path);
    if (out.length > MAX_FILES) throw new Error(`the dashboard directory ${dir} has more than ${MAX_FILES} files: is it a dashboard build?`);
  }
  return out;
}

function smaller(encoded: Buffer, body: Buffer): Buffer | null {
  return encoded.length < body.length ? encoded : null;
}

function load(dir: string): Map<string, DashboardFile> {
  const files = new Map<string, DashboardFile>();
  let total = 0;
  for (const path of listFiles(dir)) {
    const body = readFileSync(path);
    total += body.length;
    if (total > MAX_TOTAL_BYTES) throw new Error(`the dashboard directory ${dir} holds more than ${MAX_TOTAL_BYTES >> 20} MiB`);
    const key = relative(dir, path).split(sep).join('/');
    const ext = key.slice(key.lastIndexOf('.') + 1).toLowerCase();
    const compressible = COMPRESSIBLE.has(ext) && body.length > 256;
    files.set(key, {
      body,
      gzip: compressible ? smaller(gzipSync(body, { level: 9 }), body) : null,
      br: compressible ? smaller(brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } }), body) : null,
      type: TYPES[ext] ?? 'application/octet-stream',
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      immutable: key.startsWith('assets/'),
    });
  }
  return files;
}

export class DashboardFiles {
  private files: Map<string, DashboardFile> | null = null;
  private indexMtime = 0;
  private checkedAt = -Infinity;

  constructor(private readonly dir: string) {}

  /**
   * The built files, or null while the dashboard is not built (no `index.html`). Read on first
   * use, not at start-up: a server that never serves the dashboard never pays for it. A rebuild
   * while Basalt runs (a new index.html) is picked up: at most one stat a second looks for one.
   */
  table(now: number): Map<string, DashboardFile> | null {
    if (now - this.checkedAt < RETRY_MS) return this.files;
    this.checkedAt = now;
    const index = join(this.dir, 'index.html');
    const stat = existsSync(index) ? statSync(index) : null;
    if (!stat?.isFile()) return (this.files = null);
    if (this.files && stat.mtimeMs === this.indexMtime) return this.files;
    this.files = load(this.dir);
    this.indexMtime = stat.mtimeMs;
    return this.files;
  }
}

/** The encoding to send, from an `Accept-Encoding` header (RFC 9110 §12.5.3: `q=0` refuses one). */
export function chooseEncoding(header: string | undefined, file: DashboardFile): 'br' | 'gzip' | null {
  if (!header || (!file.br && !file.gzip)) return null;
  const accepted = new Set<string>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const refused = params.some((p) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(p));
    if (!refused) accepted.add(name.trim());
  }
  if (file.br && accepted.has('br')) return 'br';
  if (file.gzip && (accepted.has('gzip') || accepted.has('*'))) return 'gzip';
  return null;
}
