/**
 * Backup zips, streamed both ways (a backup is never held in memory): yazl writes, yauzl reads.
 * Reading is hostile-input handling — an uploaded zip is anybody's — so it checks every entry
 * name (no absolute path, no `..`, no backslash: yauzl refuses those, and we check again), the
 * number of entries, and the total uncompressed size declared by the entries (yauzl verifies
 * that each entry really inflates to its declared size), before anything lands on disk.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';
import yazl from 'yazl';

/** One entry of a zip being written: a local file, or a stream opened when its turn comes. */
export type ZipSource =
  | { name: string; file: string }
  | { name: string; text: string }
  | { name: string; open: () => Promise<Readable | null> };

/** Why a zip cannot be used as a backup (answered as a 400). */
export class BackupZipError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupZipError';
  }
}

/** Writes `sources` into a new zip at `path`; streams are opened one at a time, in order. */
export async function writeZip(path: string, sources: Iterable<ZipSource>): Promise<void> {
  const zip = new yazl.ZipFile();
  const written = pipeline(zip.outputStream as unknown as Readable, createWriteStream(path));
  for (const source of sources) {
    if ('file' in source) zip.addFile(source.file, source.name);
    else if ('text' in source) zip.addBuffer(Buffer.from(source.text), source.name);
    else {
      zip.addReadStreamLazy(source.name, (cb) => {
        // A file deleted between the listing and now is written empty rather than failing the backup.
        source.open().then((stream) => cb(null, stream ?? Readable.from([])), (err: unknown) => cb(err, Readable.from([])));
      });
    }
  }
  zip.end();
  await written;
}

export interface ZipLimits {
  /** Most entries a zip may have. */
  maxEntries: number;
  /** Most bytes all entries may inflate to, together. */
  maxTotalBytes: number;
}

/** Whether an entry name is a plain relative path that stays where it is extracted. */
function isSafeEntryName(name: string): boolean {
  if (name === '' || name.length > 1024 || name.includes('\\') || name.includes('\0')) return false;
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return false;
  return name.split('/').every((s, i, all) => s !== '..' && s !== '.' && (s !== '' || i === all.length - 1));
}

/**
 * Extracts the entries `accept` wants (it returns the relative path to write to, or null to skip)
 * into `dir`. Refuses the whole zip — BackupZipError, nothing kept that the caller must trust —
 * when it is not a zip, an entry name is unsafe, or the limits are passed.
 */
export async function extractZip(zipPath: string, dir: string, accept: (name: string) => string | null, limits: ZipLimits): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    zip = await yauzl.openPromise(zipPath, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: true });
  } catch (err) {
    throw new BackupZipError(`not a valid zip file (${(err as Error).message})`);
  }
  const root = resolve(dir);
  try {
    if (zip.entryCount > limits.maxEntries) throw new BackupZipError(`the zip has ${zip.entryCount} entries, more than the ${limits.maxEntries} allowed`);
    let total = 0;
    // First pass over the central directory: names and declared sizes, before writing anything.
    const wanted: { entry: yauzl.Entry; target: string }[] = [];
    for await (const entry of zip.eachEntry()) {
      const name = entry.fileName;
      if (!isSafeEntryName(name)) throw new BackupZipError(`unsafe entry name ${JSON.stringify(name.slice(0, 200))}`);
      if (name.endsWith('/')) continue;
      total += entry.uncompressedSize;
      if (total > limits.maxTotalBytes) throw new BackupZipError(`the zip inflates to more than ${limits.maxTotalBytes} bytes`);
      const relative = accept(name);
      if (relative === null) continue;
      const target = resolve(root, ...relative.split('/'));
      if (!target.startsWith(root + sep)) throw new BackupZipError(`unsafe entry name ${JSON.stringify(name.slice(0, 200))}`);
      wanted.push({ entry, target });
    }
    for (const { entry, target } of wanted) {
      await mkdir(dirname(target), { recursive: true });
      const stream = await zip.openReadStreamPromise(entry);
      await pipeline(stream, createWriteStream(target, { flags: 'wx' }));
    }
  } catch (err) {
    if (err instanceof BackupZipError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    // Disk errors are the server's; anything else (a bad entry, a size mismatch, a CRC error) is the zip's.
    if (code === 'ENOSPC' || code === 'EACCES' || code === 'EROFS' || code === 'EMFILE') throw err;
    throw new BackupZipError(`the zip is damaged (${(err as Error).message})`);
  } finally {
    zip.close();
  }
}

/** `join` for a relative `/` path (an entry name) under `dir`. */
export function underDir(dir: string, relative: string): string {
  return join(dir, ...relative.split('/'));
}
