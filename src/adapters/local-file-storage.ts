/**
 * FileStorage on local disk, under one root folder (`<--dir>/storage` by default). Writes go to
 * a temporary file first and are renamed into place, so a reader never sees half a file; the
 * temporary names start with a dot, which no key may (storage-key.ts). Folders left empty by a
 * delete are removed, so a record's folder goes with its last file.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { assertStorageKey } from '../core/files/storage-key.js';
import type { FileStorage, StoredFileInfo } from '../core/ports.js';

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR';

export class LocalFileStorage implements FileStorage {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  private path(key: string): string {
    assertStorageKey(key);
    const path = resolve(this.root, ...key.split('/'));
    // Defence in depth: the key check already rules this out.
    if (!path.startsWith(this.root + sep)) throw new Error(`storage key outside the root: ${JSON.stringify(key)}`);
    return path;
  }

  async put(key: string, data: Buffer): Promise<void> {
    const path = this.path(key);
    const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
    // A delete emptying the same folder may remove it between mkdir and the write: try again once.
    for (let attempt = 0; ; attempt++) {
      await mkdir(dirname(path), { recursive: true });
      try {
        await writeFile(temp, data);
        await rename(temp, path);
        return;
      } catch (err) {
        await unlink(temp).catch(() => {});
        if (attempt > 0 || !isMissing(err)) throw err;
      }
    }
  }

  /** Removes the now-empty folders above `path`, up to (not including) the root. */
  private async pruneEmptyParents(path: string): Promise<void> {
    for (let dir = dirname(path); dir.startsWith(this.root + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir); // not recursive: fails, and stops here, unless the folder is empty
      } catch {
        return;
      }
    }
  }

  async stat(key: string): Promise<StoredFileInfo | null> {
    try {
      const s = await stat(this.path(key));
      return s.isFile() ? { size: s.size, modified: s.mtime } : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async read(key: string, range?: { start: number; end: number }): Promise<Readable | null> {
    const path = this.path(key);
    if (!(await this.stat(key))) return null;
    const stream = createReadStream(path, range ? { start: range.start, end: range.end } : {});
    // Opening can still fail (deleted in between): surface it as a missing file.
    return new Promise((resolveStream) => {
      stream.once('open', () => resolveStream(stream));
      stream.once('error', () => resolveStream(null));
    });
  }

  async delete(key: string): Promise<void> {
    const path = this.path(key);
    await unlink(path).catch((err) => {
      if (!isMissing(err)) throw err;
    });
    await this.pruneEmptyParents(path);
  }

  async deletePrefix(prefix: string): Promise<void> {
    const path = this.path(prefix);
    await rm(path, { recursive: true, force: true });
    await this.pruneEmptyParents(path);
  }

  async list(prefix: string): Promise<string[]> {
    const start = prefix === '' ? this.root : this.path(prefix);
    const out: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if (isMissing(err)) return;
        throw err;
      }
      for (const e of entries) {
        const full = join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (e.isFile() && !e.name.startsWith('.')) out.push(relative(this.root, full).split(sep).join('/'));
      }
    };
    await walk(start);
    return out;
  }

  async close(): Promise<void> {}
}
