/**
 * Log entries packed into bytes outside the JS heap as they are queued, so the write buffer holds
 * no JS objects. Measured on getOne under load: queued entries held as objects (the entry, its
 * strings) outlived the young generation's collections and were copied by each of them, then
 * promoted; that cost the request path more than building the entries. Packed, an entry is
 * garbage the moment it is queued, and a batch crosses to a worker thread as one transferred
 * buffer instead of a structured clone of every row.
 *
 * Layout of an entry: id (u8 length, latin1), level (i32), created (u8 length, latin1), message
 * (u32 length, UTF-8), data (u32 length, UTF-8, JSON text). Little-endian. The SQLite writer's
 * worker reads the same layout (db/sqlite/sqlite-log-writer.ts); a test writes through both.
 */
import type { NewLogEntry } from './log-store.js';

/** A sealed run of packed entries. */
export interface LogBatch {
  /** The packed entries, a view from offset 0 of a buffer of their own (transferable). */
  readonly bytes: Uint8Array;
  readonly count: number;
}

/** Bytes of a chunk: about 350 request entries. */
const CHUNK_BYTES = 128 * 1024;

/** The fixed part of an entry: two u8 lengths, the level, two u32 lengths. */
const FIXED_BYTES = 1 + 4 + 1 + 4 + 4;

export class LogBatchBuilder {
  private chunk: Buffer;
  private offset = 0;
  /** Entries in the chunk being filled. */
  count = 0;

  constructor(private readonly chunkBytes: number = CHUNK_BYTES) {
    this.chunk = Buffer.allocUnsafeSlow(chunkBytes);
  }

  /**
   * Packs `entry` into the chunk being filled; false when it does not fit (seal, then append
   * again). An entry larger than a whole chunk gets a chunk of its own.
   */
  append(entry: NewLogEntry): boolean {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit: checked without measuring the strings.
    const worst = FIXED_BYTES + entry.id.length + entry.created.length + 3 * (entry.message.length + entry.data.length);
    if (this.offset + worst > this.chunk.length) {
      if (this.count > 0) return false;
      this.chunk = Buffer.allocUnsafeSlow(Math.max(this.chunkBytes, worst));
      this.offset = 0;
    }
    const c = this.chunk;
    let o = this.offset;
    // ids and dates are short ASCII (15 and 24 characters); latin1 copies them byte for byte.
    const id = c.write(entry.id.slice(0, 255), o + 1, 'latin1');
    c[o] = id;
    o += 1 + id;
    c.writeInt32LE(entry.level | 0, o);
    o += 4;
    const created = c.write(entry.created.slice(0, 255), o + 1, 'latin1');
    c[o] = created;
    o += 1 + created;
    const m = c.write(entry.message, o + 4, 'utf8');
    c.writeUInt32LE(m, o);
    o += 4 + m;
    const d = c.write(entry.data, o + 4, 'utf8');
    c.writeUInt32LE(d, o);
    this.offset = o + 4 + d;
    this.count++;
    return true;
  }

  /** Bytes used in the chunk being filled. */
  get bytes(): number {
    return this.offset;
  }

  /** The entries packed so far, as a batch; the builder starts a new chunk. */
  seal(): LogBatch {
    const batch = { bytes: new Uint8Array(this.chunk.buffer, this.chunk.byteOffset, this.offset), count: this.count };
    this.chunk = Buffer.allocUnsafeSlow(this.chunkBytes);
    this.offset = 0;
    this.count = 0;
    return batch;
  }
}

/** The entries of a batch, unpacked (the engines that write from this thread). */
export function unpackLogBatch(batch: LogBatch): NewLogEntry[] {
  const b = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
  const entries: NewLogEntry[] = [];
  let o = 0;
  while (o < b.length) {
    const idEnd = o + 1 + b[o];
    const id = b.toString('latin1', o + 1, idEnd);
    const level = b.readInt32LE(idEnd);
    o = idEnd + 4;
    const createdEnd = o + 1 + b[o];
    const created = b.toString('latin1', o + 1, createdEnd);
    o = createdEnd;
    const messageEnd = o + 4 + b.readUInt32LE(o);
    const message = b.toString('utf8', o + 4, messageEnd);
    o = messageEnd;
    const dataEnd = o + 4 + b.readUInt32LE(o);
    const data = b.toString('utf8', o + 4, dataEnd);
    o = dataEnd;
    entries.push({ id, level, message, data, created });
  }
  return entries;
}
