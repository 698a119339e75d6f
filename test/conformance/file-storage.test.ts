/**
 * One conformance suite for the FileStorage port, run against every implementation: local
 * disk (a temporary folder) and S3 (an s3rver on 127.0.0.1, a random port and a temporary
 * folder; the bucket is created through the S3 API). Whole and ranged reads, overwrite,
 * missing keys (null, never a throw), deletes by key and by folder, listing, and the keys
 * every implementation must refuse.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalFileStorage } from '../../src/adapters/local-file-storage.js';
import { S3FileStorage } from '../../src/adapters/s3-file-storage.js';
import type { FileStorage } from '../../src/core/ports.js';
import { startTestS3, type TestS3 } from '../harness/s3-server.js';

async function text(stream: Readable | null): Promise<string | null> {
  if (!stream) return null;
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

const UNSAFE_KEYS = ['../x', 'a/../b', 'a//b', 'a\\b', 'a\u0000b', './a', 'a/.', '/a', 'a/', ''];

function conformance(name: string, make: () => Promise<{ storage: FileStorage; close(): Promise<void> }>) {
  describe(name, () => {
    let storage: FileStorage;
    let close: () => Promise<void>;

    beforeAll(async () => {
      ({ storage, close } = await make());
    });
    afterAll(async () => {
      await close?.();
    });

    it('put then stat and read the whole file', async () => {
      const before = Date.now();
      await storage.put('c1/r1/hello.txt', Buffer.from('hello world'), 'text/plain');
      const info = await storage.stat('c1/r1/hello.txt');
      expect(info?.size).toBe(11);
      expect(info?.modified).toBeInstanceOf(Date);
      // Object stores keep whole seconds.
      expect(info!.modified.getTime()).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 - 1000);
      expect(await text(await storage.read('c1/r1/hello.txt'))).toBe('hello world');
    });

    it('reads an inclusive byte range', async () => {
      await storage.put('c1/r1/range.txt', Buffer.from('0123456789'), 'text/plain');
      expect(await text(await storage.read('c1/r1/range.txt', { start: 2, end: 5 }))).toBe('2345');
      expect(await text(await storage.read('c1/r1/range.txt', { start: 9, end: 9 }))).toBe('9');
      expect(await text(await storage.read('c1/r1/range.txt', { start: 0, end: 9 }))).toBe('0123456789');
    });

    it('binary content round-trips byte for byte', async () => {
      const data = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));
      await storage.put('c1/r1/blob.bin', data, 'application/octet-stream');
      const chunks: Buffer[] = [];
      for await (const c of (await storage.read('c1/r1/blob.bin'))!) chunks.push(Buffer.from(c as Uint8Array));
      expect(Buffer.concat(chunks).equals(data)).toBe(true);
    });

    it('put replaces an existing file', async () => {
      await storage.put('c1/r1/over.txt', Buffer.from('first version'), 'text/plain');
      await storage.put('c1/r1/over.txt', Buffer.from('second'), 'text/plain');
      expect((await storage.stat('c1/r1/over.txt'))?.size).toBe(6);
      expect(await text(await storage.read('c1/r1/over.txt'))).toBe('second');
      expect((await storage.list('c1/r1')).filter((k) => k.endsWith('over.txt'))).toEqual(['c1/r1/over.txt']);
    });

    it('missing keys: stat and read give null, delete is a no-op', async () => {
      expect(await storage.stat('c1/nope/missing.txt')).toBeNull();
      expect(await storage.read('c1/nope/missing.txt')).toBeNull();
      expect(await storage.read('c1/nope/missing.txt', { start: 0, end: 3 })).toBeNull();
      await expect(storage.delete('c1/nope/missing.txt')).resolves.toBeUndefined();
      await expect(storage.deletePrefix('c1/nope')).resolves.toBeUndefined();
      expect(await storage.list('c1/nope')).toEqual([]);
      // A "folder" is not a file.
      expect(await storage.stat('c1/r1')).toBeNull();
    });

    it('delete removes one file', async () => {
      await storage.put('c2/r1/a.txt', Buffer.from('a'), 'text/plain');
      await storage.put('c2/r1/b.txt', Buffer.from('b'), 'text/plain');
      await storage.delete('c2/r1/a.txt');
      expect(await storage.stat('c2/r1/a.txt')).toBeNull();
      expect(await storage.read('c2/r1/a.txt')).toBeNull();
      expect(await storage.list('c2/r1')).toEqual(['c2/r1/b.txt']);
    });

    it('list gives every key under a folder, not under a sibling sharing its name start', async () => {
      await storage.put('c3/r1/x.png', Buffer.from('x'), 'image/png');
      await storage.put('c3/r1/thumbs_x.png/100x100_x.png', Buffer.from('t'), 'image/png');
      await storage.put('c3/r2/y.png', Buffer.from('y'), 'image/png');
      await storage.put('c3/r10/z.png', Buffer.from('z'), 'image/png');
      expect((await storage.list('c3/r1')).sort()).toEqual(['c3/r1/thumbs_x.png/100x100_x.png', 'c3/r1/x.png']);
      expect((await storage.list('c3')).sort()).toEqual(['c3/r1/thumbs_x.png/100x100_x.png', 'c3/r1/x.png', 'c3/r10/z.png', 'c3/r2/y.png']);
      const all = await storage.list('');
      expect(all).toEqual(expect.arrayContaining(['c1/r1/hello.txt', 'c3/r2/y.png']));
    });

    it('deletePrefix removes a folder and everything in it, and nothing else', async () => {
      await storage.put('c4/r1/x.png', Buffer.from('x'), 'image/png');
      await storage.put('c4/r1/thumbs_x.png/100x100_x.png', Buffer.from('t'), 'image/png');
      await storage.put('c4/r10/z.png', Buffer.from('z'), 'image/png');
      await storage.put('c4/r2/y.png', Buffer.from('y'), 'image/png');
      await storage.deletePrefix('c4/r1');
      expect(await storage.stat('c4/r1/x.png')).toBeNull();
      expect(await storage.stat('c4/r1/thumbs_x.png/100x100_x.png')).toBeNull();
      expect((await storage.list('c4')).sort()).toEqual(['c4/r10/z.png', 'c4/r2/y.png']);
      await storage.deletePrefix('c4');
      expect(await storage.list('c4')).toEqual([]);
    });

    it('many keys: list and deletePrefix see them all', async () => {
      const keys = Array.from({ length: 7 }, (_, i) => `c5/r${i}/f${i}.txt`);
      for (const k of keys) await storage.put(k, Buffer.from(k), 'text/plain');
      expect((await storage.list('c5')).sort()).toEqual([...keys].sort());
      await storage.deletePrefix('c5');
      expect(await storage.list('c5')).toEqual([]);
    });

    it('refuses unsafe keys in every operation', async () => {
      for (const key of UNSAFE_KEYS) {
        await expect(storage.put(key, Buffer.from('x'), 'text/plain'), `put ${JSON.stringify(key)}`).rejects.toThrow(/unsafe storage key/);
        await expect(storage.stat(key), `stat ${JSON.stringify(key)}`).rejects.toThrow(/unsafe storage key/);
        await expect(storage.read(key), `read ${JSON.stringify(key)}`).rejects.toThrow(/unsafe storage key/);
        await expect(storage.delete(key), `delete ${JSON.stringify(key)}`).rejects.toThrow(/unsafe storage key/);
        await expect(storage.deletePrefix(key), `deletePrefix ${JSON.stringify(key)}`).rejects.toThrow(/unsafe storage key/);
        if (key !== '') await expect(storage.list(key), `list ${JSON.stringify(key)}`).rejects.toThrow(/unsafe storage key/);
      }
    });
  });
}

conformance('LocalFileStorage', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'basalt-files-'));
  const storage = new LocalFileStorage(dir);
  return {
    storage,
    close: async () => {
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

let s3: TestS3;
beforeAll(async () => {
  s3 = await startTestS3();
});
afterAll(async () => {
  await s3?.close();
});

// NB: whole listings only. s3rver cannot answer a truncated ListObjectsV2 on Node ≥ 17: its
// continuation tokens use DES, which OpenSSL 3 dropped ("InternalError"). Paging is covered
// with a scripted client in test/unit/s3-file-storage.test.ts.
conformance('S3FileStorage (s3rver)', async () => {
  const storage = new S3FileStorage(s3.options);
  return { storage, close: () => storage.close() };
});

describe('S3FileStorage key prefix', () => {
  it('keeps apps sharing a bucket apart', async () => {
    const a = new S3FileStorage({ ...s3.options, prefix: 'app-a/' });
    const b = new S3FileStorage({ ...s3.options, prefix: 'app-b' });
    try {
      await a.put('c/r/f.txt', Buffer.from('from a'), 'text/plain');
      expect(await b.stat('c/r/f.txt')).toBeNull();
      expect(await a.list('')).toEqual(['c/r/f.txt']);
      expect(await b.list('')).toEqual([]);
      await b.deletePrefix('c');
      expect(await text(await a.read('c/r/f.txt'))).toBe('from a');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses an unsafe prefix at construction', () => {
    expect(() => new S3FileStorage({ ...s3.options, prefix: '../other' })).toThrow(/unsafe storage key/);
  });
});
