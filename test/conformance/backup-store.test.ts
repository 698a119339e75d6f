/**
 * One conformance suite for the BackupStore port, run against every implementation: a local
 * folder and an S3 bucket (s3rver on 127.0.0.1). Save (the file is taken over), stat, list (only
 * top-level keys, no temporary files), read, a local copy, delete (false when missing), and the
 * local folder's refusal of keys that are not plain file names.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBackupStore } from '../../src/adapters/local-backup-store.js';
import { S3BackupStore } from '../../src/adapters/s3-backup-store.js';
import type { BackupStore } from '../../src/core/ports.js';
import { startTestS3, type TestS3 } from '../harness/s3-server.js';

async function text(stream: Readable | null): Promise<string | null> {
  if (!stream) return null;
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

function conformance(name: string, make: () => Promise<{ store: BackupStore; close(): Promise<void> }>) {
  describe(name, () => {
    let store: BackupStore;
    let close: () => Promise<void>;
    let work: string;

    beforeAll(async () => {
      ({ store, close } = await make());
      work = mkdtempSync(join(tmpdir(), 'basalt-backup-store-'));
    });
    afterAll(async () => {
      await store?.close();
      await close?.();
      rmSync(work, { recursive: true, force: true });
    });

    const file = (name: string, content: string) => {
      const path = join(work, name);
      writeFileSync(path, content);
      return path;
    };

    it('an empty store lists nothing; a missing key is null or false, never a throw', async () => {
      expect(await store.list()).toEqual([]);
      expect(await store.stat('missing.zip')).toBeNull();
      expect(await store.read('missing.zip')).toBeNull();
      expect(await store.localCopy('missing.zip', join(work, 'copy.zip'))).toBeNull();
      expect(await store.delete('missing.zip')).toBe(false);
    });

    it('save, then stat, list, read and a local copy', async () => {
      await store.save('one.zip', file('one.tmp', 'first backup'));
      await store.save('@auto_two.zip', file('two.tmp', 'second'));
      const info = await store.stat('one.zip');
      expect(info).toMatchObject({ key: 'one.zip', size: 12 });
      expect(info!.modified).toBeInstanceOf(Date);
      expect((await store.list()).map((i) => i.key).sort()).toEqual(['@auto_two.zip', 'one.zip']);
      expect(await text(await store.read('one.zip'))).toBe('first backup');
      const copy = await store.localCopy('@auto_two.zip', join(work, 'copy.zip'));
      expect(readFileSync(copy!, 'utf8')).toBe('second');
    });

    it('save replaces a key; delete removes it', async () => {
      await store.save('one.zip', file('three.tmp', 'replaced'));
      expect(await text(await store.read('one.zip'))).toBe('replaced');
      expect(await store.delete('one.zip')).toBe(true);
      expect(await store.stat('one.zip')).toBeNull();
      expect((await store.list()).map((i) => i.key)).toEqual(['@auto_two.zip']);
    });
  });
}

conformance('LocalBackupStore', async () => {
  const root = mkdtempSync(join(tmpdir(), 'basalt-backups-'));
  return { store: new LocalBackupStore(root), close: async () => rmSync(root, { recursive: true, force: true }) };
});

let s3: TestS3;
conformance('S3BackupStore', async () => {
  s3 = await startTestS3('basalt-backup-store');
  const { endpoint, bucket, region, accessKey, secret } = s3.options;
  return { store: new S3BackupStore({ endpoint: endpoint!, bucket, region: region ?? 'us-east-1', accessKey, secret, forcePathStyle: true }), close: () => s3.close() };
});

describe('LocalBackupStore refuses keys that are not plain file names', () => {
  const root = mkdtempSync(join(tmpdir(), 'basalt-backups-'));
  const store = new LocalBackupStore(root);
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  for (const key of ['../x.zip', 'a/b.zip', 'a\\b.zip', '.hidden.zip', '', 'a\u0000.zip']) {
    it(JSON.stringify(key), async () => {
      await expect(store.stat(key)).rejects.toThrow(/unsafe backup key/);
      await expect(store.delete(key)).rejects.toThrow(/unsafe backup key/);
    });
  }
});
