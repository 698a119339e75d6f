/**
 * The one FileStorage every consumer holds (record files, thumbnails, downloads, deletes),
 * forwarding each call to the storage in force. Switching it (the `s3` settings section saved at
 * runtime) changes where every later call goes; a call already started finishes where it began.
 */
import type { Readable } from 'node:stream';
import type { FileStorage, StoredFileInfo } from '../ports.js';

export class SwitchableFileStorage implements FileStorage {
  constructor(private target: FileStorage) {}

  /** The storage calls go to now. */
  get current(): FileStorage {
    return this.target;
  }

  /** Sends every later call to `next`; returns the storage it replaces (not closed: the caller decides when). */
  switchTo(next: FileStorage): FileStorage {
    const previous = this.target;
    this.target = next;
    return previous;
  }

  put(key: string, data: Buffer, contentType: string): Promise<void> {
    return this.target.put(key, data, contentType);
  }

  stat(key: string): Promise<StoredFileInfo | null> {
    return this.target.stat(key);
  }

  read(key: string, range?: { start: number; end: number }): Promise<Readable | null> {
    return this.target.read(key, range);
  }

  delete(key: string): Promise<void> {
    return this.target.delete(key);
  }

  deletePrefix(prefix: string): Promise<void> {
    return this.target.deletePrefix(prefix);
  }

  list(prefix: string): Promise<string[]> {
    return this.target.list(prefix);
  }

  /** NB: closes only the current storage; FileStorageSwitch closes the others it opened. */
  close(): Promise<void> {
    return this.target.close();
  }
}
