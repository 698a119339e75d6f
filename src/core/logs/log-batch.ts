/**
 * The write buffer's format: log entries packed into bytes outside the JS heap as they are queued,
 * raw, and formatted only where a batch is written (a worker thread on SQLite).
 *
 * Why raw: the request path is the one thread every request shares. Measured on getOne under
 * load, building an entry there (its JSON text, id and date, then four native writes into the
 * buffer) cost the main thread several µs a request, far more than the same code in isolation.
 * Capturing copies a request's fields with one native write; the JSON, the redaction of the URL,
 * the id and the date are made by the writer.
 *
 * Why packed: entries held as objects (the entry, its strings) outlived the young generation's
 * collections and were copied by each of them, then promoted. Packed, an entry is garbage the
 * moment it is queued, and a batch crosses to a worker thread as one transferred buffer.
 *
 * Layout of an entry (little-endian): u32 length of its text in UTF-16 units; u8 kind (0 an app
 * entry, 1 a request); i8 level; u8 flags (requests: which optional fields are present); u8
 * unused; u16 status; f64 time (ms); f64 execTime (ms, NaN when unknown); a u32 length per field
 * but the last (UTF-16 units); the fields' text, concatenated, as UTF-16 (lengths in UTF-16 units
 * survive any string, lone surrogates included, which UTF-8 byte lengths would not without
 * encoding each field on its own).
 */
import { newTimeOrderedId } from '../ids.js';
import { formatDate } from '../time.js';
import type { NewLogEntry } from './log-store.js';
import { formatRequest, type CapturedRequest } from './request-log-format.js';

/** A sealed run of packed entries. */
export interface LogBatch {
  /** The packed entries, a view from offset 0 of a buffer of their own (transferable). */
  readonly bytes: Uint8Array;
  readonly count: number;
}

/** Bytes of a chunk: about 700 request entries. */
const CHUNK_BYTES = 128 * 1024;

/** The fixed part of an entry, before the field lengths. */
const HEADER_BYTES = 4 + 1 + 1 + 1 + 1 + 2 + 8 + 8;

const KIND_ENTRY = 0;
const KIND_REQUEST = 1;

/** Request fields: method, url, referer, userAgent, auth, authId, userIP, remoteIP, error, details. */
const REQUEST_LENGTHS = 9;
/** App entry fields: message, data. */
const ENTRY_LENGTHS = 1;

const HAS_AUTH_ID = 1;
const HAS_IP = 2;
const HAS_ERROR = 4;
const HAS_DETAILS = 8;

/** Chunks kept for reuse once their batch is written. */
const SPARE_CHUNKS = 4;

export class LogBatchBuilder {
  private chunk: Buffer;
  private offset = 0;
  /** Entries in the chunk being filled. */
  count = 0;
  /** Written batches' chunks, given back (recycle): filled again instead of new memory. */
  private readonly spare: Buffer[] = [];

  constructor(private readonly chunkBytes: number = CHUNK_BYTES) {
    this.chunk = Buffer.allocUnsafeSlow(chunkBytes);
  }

  /**
   * Takes back the bytes of a batch its store has written, to fill again. Measured on getOne
   * under load: a fresh chunk per batch (its pages faulted in, later unmapped while other threads
   * run) slowed every request on the main thread, not only the logging.
   */
  recycle(bytes: Uint8Array): void {
    if (bytes.buffer.byteLength !== this.chunkBytes || bytes.byteOffset !== 0 || this.spare.length >= SPARE_CHUNKS) return;
    this.spare.push(Buffer.from(bytes.buffer as ArrayBuffer, 0, this.chunkBytes));
  }

  /** Room for an entry of `chars` UTF-16 units with `lengths` field lengths; false when the chunk is full. */
  private reserve(lengths: number, chars: number): boolean {
    const size = HEADER_BYTES + 4 * lengths + 2 * chars;
    if (this.offset + size <= this.chunk.length) return true;
    if (this.count > 0) return false;
    // An entry larger than a whole chunk gets a chunk of its own.
    this.chunk = Buffer.allocUnsafeSlow(Math.max(this.chunkBytes, size));
    this.offset = 0;
    return true;
  }

  private header(chars: number, kind: number, level: number, flags: number, status: number, time: number, execTime: number): number {
    const c = this.chunk;
    let o = this.offset;
    c.writeUInt32LE(chars, o);
    c[o + 4] = kind;
    // Levels are slog's (-4…8) and statuses HTTP's: clamped, as a write out of range would throw.
    c.writeInt8(Math.max(-128, Math.min(127, level | 0)), o + 5);
    c[o + 6] = flags;
    c[o + 7] = 0;
    c.writeUInt16LE(status & 0xffff, o + 8);
    c.writeDoubleLE(time, o + 10);
    c.writeDoubleLE(execTime, o + 18);
    o += HEADER_BYTES;
    return o;
  }

  /** Packs a request's raw fields; false when the chunk is full (seal, then append again). */
  appendRequest(r: CapturedRequest): boolean {
    const authId = r.authId ?? '';
    const userIP = r.userIP ?? '';
    const remoteIP = r.remoteIP ?? '';
    const error = r.error ?? '';
    const details = r.details ?? '';
    const text = r.method + r.url + r.referer + r.userAgent + r.auth + authId + userIP + remoteIP + error + details;
    if (!this.reserve(REQUEST_LENGTHS, text.length)) return false;
    const flags = (r.authId !== null ? HAS_AUTH_ID : 0) | (r.userIP !== null ? HAS_IP : 0) | (r.error !== null ? HAS_ERROR : 0) | (r.details !== null ? HAS_DETAILS : 0);
    let o = this.header(text.length, KIND_REQUEST, r.level, flags, r.status, r.time, r.execTime);
    const c = this.chunk;
    c.writeUInt32LE(r.method.length, o);
    c.writeUInt32LE(r.url.length, o + 4);
    c.writeUInt32LE(r.referer.length, o + 8);
    c.writeUInt32LE(r.userAgent.length, o + 12);
    c.writeUInt32LE(r.auth.length, o + 16);
    c.writeUInt32LE(authId.length, o + 20);
    c.writeUInt32LE(userIP.length, o + 24);
    c.writeUInt32LE(remoteIP.length, o + 28);
    c.writeUInt32LE(error.length, o + 32);
    o += 4 * REQUEST_LENGTHS;
    this.offset = o + c.write(text, o, 'utf16le');
    this.count++;
    return true;
  }

  /** Packs an app log entry (`data`: JSON text of an object); false when the chunk is full. */
  appendEntry(time: number, level: number, message: string, data: string): boolean {
    const chars = message.length + data.length;
    if (!this.reserve(ENTRY_LENGTHS, chars)) return false;
    let o = this.header(chars, KIND_ENTRY, level, 0, 0, time, NaN);
    const c = this.chunk;
    c.writeUInt32LE(message.length, o);
    o += 4 * ENTRY_LENGTHS;
    this.offset = o + c.write(message + data, o, 'utf16le');
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
    this.chunk = this.spare.pop() ?? Buffer.allocUnsafeSlow(this.chunkBytes);
    this.offset = 0;
    this.count = 0;
    return batch;
  }
}

/**
 * Calls `each` with every entry of a batch, formatted for the store: its id and `created` from
 * the time it was captured, a request's message and data (request-log-format.ts).
 */
export function readLogBatch(bytes: Uint8Array, each: (entry: NewLogEntry) => void): void {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Every part of an entry has an even size, so each text starts at an even byte: the whole batch
  // is decoded as UTF-16 once (headers become junk characters, never read) and each field is a
  // slice of that one string, instead of a decoding call per entry.
  const all = b.toString('utf16le');
  let o = 0;
  while (o < b.length) {
    const chars = b.readUInt32LE(o);
    const kind = b[o + 4];
    const level = b.readInt8(o + 5);
    const time = b.readDoubleLE(o + 10);
    const at = o + HEADER_BYTES;
    // Time-ordered ids: each insert appends to an id index instead of touching a random page of
    // it (measured: 4.2 µs a row instead of 9.8 µs in the writer).
    const id = newTimeOrderedId(time);
    const created = formatDate(new Date(time));
    if (kind !== KIND_REQUEST) {
      const start = (at + 4 * ENTRY_LENGTHS) >> 1;
      const split = start + b.readUInt32LE(at);
      o = at + 4 * ENTRY_LENGTHS + 2 * chars;
      each({ id, level, message: all.slice(start, split), data: all.slice(split, o >> 1), created });
      continue;
    }
    const flags = b[o + 6];
    const start = (at + 4 * REQUEST_LENGTHS) >> 1;
    const end = start + chars;
    const methodEnd = start + b.readUInt32LE(at);
    const urlEnd = methodEnd + b.readUInt32LE(at + 4);
    const refererEnd = urlEnd + b.readUInt32LE(at + 8);
    const userAgentEnd = refererEnd + b.readUInt32LE(at + 12);
    const authEnd = userAgentEnd + b.readUInt32LE(at + 16);
    const authIdEnd = authEnd + b.readUInt32LE(at + 20);
    const userIPEnd = authIdEnd + b.readUInt32LE(at + 24);
    const remoteIPEnd = userIPEnd + b.readUInt32LE(at + 28);
    const errorEnd = remoteIPEnd + b.readUInt32LE(at + 32);
    const { message, data } = formatRequest({
      time,
      level,
      status: b.readUInt16LE(o + 8),
      execTime: b.readDoubleLE(o + 18),
      method: all.slice(start, methodEnd),
      url: all.slice(methodEnd, urlEnd),
      referer: all.slice(urlEnd, refererEnd),
      userAgent: all.slice(refererEnd, userAgentEnd),
      auth: all.slice(userAgentEnd, authEnd),
      authId: flags & HAS_AUTH_ID ? all.slice(authEnd, authIdEnd) : null,
      userIP: flags & HAS_IP ? all.slice(authIdEnd, userIPEnd) : null,
      remoteIP: flags & HAS_IP ? all.slice(userIPEnd, remoteIPEnd) : null,
      error: flags & HAS_ERROR ? all.slice(remoteIPEnd, errorEnd) : null,
      details: flags & HAS_DETAILS ? all.slice(errorEnd, end) : null,
    });
    o = at + 4 * REQUEST_LENGTHS + 2 * chars;
    each({ id, level, message, data, created });
  }
}

/** The entries of a batch, formatted (the engines that write from this thread). */
export function unpackLogBatch(batch: LogBatch): NewLogEntry[] {
  const entries: NewLogEntry[] = [];
  readLogBatch(batch.bytes, (entry) => entries.push(entry));
  return entries;
}
