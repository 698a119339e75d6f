/**
 * ThumbCache against a real local-disk storage: a thumb whose original is replaced or deleted
 * while the thumb is being made is not written back (it would be an orphan nothing deletes).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalFileStorage } from '../../src/adapters/local-file-storage.js';
import { ThumbCache } from '../../src/core/files/thumb-cache.js';
import { silentLogger, type FileStorage, type Thumbnailer } from '../../src/core/ports.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function storage(): FileStorage {
  const dir = mkdtempSync(join(tmpdir(), 'basalt-thumbs-'));
  dirs.push(dir);
  return new LocalFileStorage(dir);
}

const SIZE = { width: 10, height: 10, mode: 'center' as const };

describe('ThumbCache', () => {
  it('stores a thumb once and reuses it', async () => {
    const files = storage();
    await files.put('c/r/a.png', Buffer.from('original'), 'image/png');
    let made = 0;
    const thumbnailer: Thumbnailer = { make: async () => (made++, { data: Buffer.from('thumb'), contentType: 'image/png' }) };
    const cache = new ThumbCache(files, thumbnailer, silentLogger);
    expect(await cache.ensure('c/r/a.png', 'c/r/thumbs_a.png/10x10_a.png', SIZE, 8)).not.toBeNull();
    expect(await cache.ensure('c/r/a.png', 'c/r/thumbs_a.png/10x10_a.png', SIZE, 8)).not.toBeNull();
    expect(made).toBe(1);
  });

  it('does not keep a thumb whose original went away while it was made', async () => {
    const files = storage();
    await files.put('c/r/a.png', Buffer.from('original'), 'image/png');
    const thumbnailer: Thumbnailer = {
      make: async () => {
        // An update replaces the file meanwhile: the original and its thumbs folder go.
        await files.delete('c/r/a.png');
        await files.deletePrefix('c/r/thumbs_a.png');
        return { data: Buffer.from('thumb'), contentType: 'image/png' };
      },
    };
    const cache = new ThumbCache(files, thumbnailer, silentLogger);
    expect(await cache.ensure('c/r/a.png', 'c/r/thumbs_a.png/10x10_a.png', SIZE, 8)).toBeNull();
    expect(await files.list('')).toEqual([]);
  });
});
