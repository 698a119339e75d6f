/**
 * Unpacking a backup zip for a restore: only what a restore uses is extracted (the manifest, this
 * engine's database copy, the stored files), within bounds — at most 200 times the zip's size
 * (plus 64 MiB) once inflated, and never more than the free disk space — and the result is
 * refused with a 400 saying why when it is not a Basalt backup of this engine.
 */
import { readdir, readFile, stat, statfs } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { badRequest } from '../errors.js';
import { isSafeStorageKey } from '../files/storage-key.js';
import { BackupZipError, extractZip } from './backup-zip.js';

/** The manifest every Basalt backup starts with. */
export const MANIFEST_NAME = 'basalt-backup.json';
export const MANIFEST_FORMAT = 'basalt-backup';
/** The folder of the stored files inside a backup. */
export const STORAGE_DIR = 'storage';

const MAX_INFLATE_RATIO = 200;
const INFLATE_ALLOWANCE = 64 << 20;
const MAX_ENTRIES = 5_000_000;

/** Extracts `zipPath` into `dir`; returns the database copy's path. */
export async function unpackBackup(zipPath: string, dir: string, dbName: string, engine: string): Promise<string> {
  const size = (await stat(zipPath)).size;
  const maxTotalBytes = Math.min(await freeBytes(dir), size * MAX_INFLATE_RATIO + INFLATE_ALLOWANCE);
  const accept = (name: string): string | null => {
    if (name === MANIFEST_NAME || name === dbName) return name;
    if (name.startsWith(`${STORAGE_DIR}/`) && isSafeStorageKey(name.slice(STORAGE_DIR.length + 1))) return name;
    return null; // another engine's copy, PocketBase's auxiliary.db…: not ours to restore
  };
  try {
    await extractZip(zipPath, dir, accept, { maxEntries: MAX_ENTRIES, maxTotalBytes });
  } catch (err) {
    if (err instanceof BackupZipError) throw badRequest(`Invalid backup file: ${err.message}.`);
    throw err;
  }
  const manifest = await readManifest(join(dir, MANIFEST_NAME));
  if (manifest && manifest.engine !== engine) {
    throw badRequest(`Invalid backup file: it was made on ${String(manifest.engine)}, and this server runs on ${engine}.`);
  }
  const dbFile = join(dir, dbName);
  if (!(await stat(dbFile).catch(() => null))?.isFile()) throw badRequest(`Invalid backup file: it has no ${dbName} (not a Basalt backup of a ${engine} database).`);
  return dbFile;
}

async function readManifest(path: string): Promise<Record<string, unknown> | null> {
  const info = await stat(path).catch(() => null);
  if (!info || info.size > 64 << 10) return null;
  try {
    const value: unknown = JSON.parse(await readFile(path, 'utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) && (value as Record<string, unknown>).format === MANIFEST_FORMAT ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The storage keys of the files under `dir` (none when it does not exist). */
export async function storedKeysUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .filter(isSafeStorageKey)
    .sort();
}

async function freeBytes(dir: string): Promise<number> {
  try {
    const s = await statfs(dir);
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return Number.MAX_SAFE_INTEGER;
  }
}
