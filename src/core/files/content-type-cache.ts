/**
 * Sniffed content types of stored files, remembered by key, size and modification time: the
 * type is read from the first bytes, and without this every download would read them twice
 * (one extra GET per request on S3). A replaced file has a new mtime, so it is sniffed again.
 */
import type { FileStorage, StoredFileInfo } from '../ports.js';
import { readAll } from './read-stream.js';
import { SNIFF_BYTES, sniffContentType } from './served-content-type.js';

/** Entries kept; the oldest is dropped first. @default 2000 */
const MAX_ENTRIES = 2000;

export class ContentTypeCache {
  private readonly entries = new Map<string, string>();

  constructor(private readonly storage: FileStorage) {}

  /** The detected type of `key`, or null when the file disappeared in between. */
  async typeOf(key: string, info: StoredFileInfo): Promise<string | null> {
    const id = `${key}\u0000${info.size}\u0000${info.modified.getTime()}`;
    const known = this.entries.get(id);
    if (known !== undefined) return known;
    let head: Buffer = Buffer.alloc(0);
    if (info.size > 0) {
      const end = Math.min(info.size, SNIFF_BYTES) - 1;
      const stream = await this.storage.read(key, { start: 0, end });
      if (!stream) return null;
      head = await readAll(stream, end + 1);
    }
    const type = await sniffContentType(head);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(id, type);
    return type;
  }
}
