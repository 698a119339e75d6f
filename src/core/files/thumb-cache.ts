/**
 * Thumbnails are made on first request and stored next to the original (spec §1.7:
 * `<collectionId>/<recordId>/thumbs_<filename>/<size>_<filename>`), then served from storage.
 * Concurrent first requests for one thumb share one generation (single-flight, per process),
 * and at most a few generations run at once: each decodes a whole image in memory.
 */
import type { FileStorage, Logger, StoredFileInfo, Thumbnailer, ThumbSize } from '../ports.js';
import { readAll } from './read-stream.js';

export interface ThumbCacheOptions {
  /** Generations running at the same time; the rest wait their turn. @default 4 */
  maxConcurrent?: number;
  /**
   * How long a failed thumb is not tried again (the original is served meanwhile): without it
   * every request for a thumb of a broken image would decode it again. @default 300000 (5 min)
   */
  retryAfterMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** Failed thumbs remembered at most; the oldest is forgotten first. */
const MAX_FAILURES = 1000;

export class ThumbCache {
  private readonly pending = new Map<string, Promise<boolean>>();
  private readonly waiting: (() => void)[] = [];
  private running = 0;
  private readonly maxConcurrent: number;
  private readonly retryAfterMs: number;
  private readonly now: () => number;
  /** Thumb key → when it may be tried again. */
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly storage: FileStorage,
    private readonly thumbnailer: Thumbnailer,
    private readonly logger: Logger,
    options: ThumbCacheOptions = {},
  ) {
    this.maxConcurrent = Math.max(1, options.maxConcurrent ?? 4);
    this.retryAfterMs = options.retryAfterMs ?? 300_000;
    this.now = options.now ?? Date.now;
  }

  /**
   * The stored thumb at `thumbKey`, generated from `originalKey` first if needed. Null when it
   * could not be made: the caller then serves the original, as PocketBase does.
   */
  async ensure(originalKey: string, thumbKey: string, size: ThumbSize, originalSize: number): Promise<StoredFileInfo | null> {
    const retryAt = this.failures.get(thumbKey);
    if (retryAt !== undefined) {
      if (this.now() < retryAt) return null;
      this.failures.delete(thumbKey);
    }
    const existing = await this.storage.stat(thumbKey);
    if (existing) return existing;
    let job = this.pending.get(thumbKey);
    if (!job) {
      job = this.generate(originalKey, thumbKey, size, originalSize).finally(() => this.pending.delete(thumbKey));
      this.pending.set(thumbKey, job);
    }
    // Every waiter stats the new thumb itself (it may be gone again: the record changed).
    return (await job) ? this.storage.stat(thumbKey) : null;
  }

  private async generate(originalKey: string, thumbKey: string, size: ThumbSize, originalSize: number): Promise<boolean> {
    await this.acquire();
    try {
      // Another node (or an earlier flight of this one) may have made it while this one waited.
      if (await this.storage.stat(thumbKey)) return true;
      const stream = await this.storage.read(originalKey);
      if (!stream) return false;
      const source = await readAll(stream, originalSize);
      const thumb = await this.thumbnailer.make(source, size);
      await this.storage.put(thumbKey, thumb.data, thumb.contentType);
      // The original may have been replaced or deleted while the thumb was made (its thumbs
      // folder removed after that commit): a thumb written back now would be an orphan.
      if (!(await this.storage.stat(originalKey))) {
        await this.storage.delete(thumbKey);
        return false;
      }
      return true;
    } catch (err) {
      this.logger.warn({ thumb: thumbKey, error: (err as Error).message }, 'thumbnail failed: serving the original');
      if (this.failures.size >= MAX_FAILURES) this.failures.delete(this.failures.keys().next().value!);
      this.failures.set(thumbKey, this.now() + this.retryAfterMs);
      return false;
    } finally {
      this.release();
    }
  }

  private acquire(): Promise<void> {
    if (this.running < this.maxConcurrent) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter: `running` stays the same.
    if (next) next();
    else this.running--;
  }
}
