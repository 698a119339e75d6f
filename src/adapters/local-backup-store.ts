/**
 * Backups on local disk: one folder (`<dataDir>/backups`), one zip per key. A zip is moved into
 * place with a rename (made in the same data directory, so it never crosses a disk): a listing
 * never shows half a backup.
 */
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import type { BackupFileInfo, BackupStore } from '../core/ports.js';

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

export class LocalBackupStore implements BackupStore {
  private readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** Keys are checked by core; this refuses anything but a plain file name again. */
  private path(key: string): string {
    if (key === '' || key.startsWith('.') || key.includes('/') || key.includes('\\') || key.includes('\0')) throw new Error(`unsafe backup key ${JSON.stringify(key)}`);
    const path = resolve(this.root, key);
    if (!path.startsWith(this.root + sep)) throw new Error(`unsafe backup key ${JSON.stringify(key)}`);
    return path;
  }

  async list(): Promise<BackupFileInfo[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch((err: unknown) => {
      if (isMissing(err)) return [];
      throw err;
    });
    const items: BackupFileInfo[] = [];
    for (const e of entries) {
      if (!e.isFile() || e.name.startsWith('.')) continue;
      const info = await this.stat(e.name);
      if (info) items.push(info);
    }
    return items;
  }

  async stat(key: string): Promise<BackupFileInfo | null> {
    try {
      const s = await stat(this.path(key));
      return s.isFile() ? { key, size: s.size, modified: s.mtime } : null;
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  async save(key: string, path: string): Promise<void> {
    const target = this.path(key);
    await mkdir(this.root, { recursive: true });
    try {
      await rename(path, target);
    } catch (err) {
      // Another disk after all (a mounted backups folder): copy, then the rename stays atomic.
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      const temp = join(this.root, `.${key}.tmp`);
      await copyFile(path, temp);
      await rename(temp, target);
    }
  }

  async read(key: string): Promise<Readable | null> {
    const path = this.path(key);
    if (!(await this.stat(key))) return null;
    return createReadStream(path);
  }

  async localCopy(key: string): Promise<string | null> {
    return (await this.stat(key)) ? this.path(key) : null;
  }

  async delete(key: string): Promise<boolean> {
    try {
      await unlink(this.path(key));
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  async close(): Promise<void> {}
}
