/**
 * S3FileStorage's paging against a scripted client: list and deletePrefix follow
 * ListObjectsV2 continuation tokens to the end, DeleteObjects gets at most 1000 keys per call,
 * and a refused delete is an error. (The conformance suite runs against s3rver, which cannot
 * page: see test/conformance/file-storage.test.ts.)
 */
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { S3FileStorage, type S3StorageOptions } from '../../src/adapters/s3-file-storage.js';

const OPTIONS: S3StorageOptions = { endpoint: 'http://127.0.0.1:1', bucket: 'b', region: 'us-east-1', accessKey: 'k', secret: 's', forcePathStyle: true };

/** A fake bucket holding `keys`, answering List pages of `pageSize` and recording deletes. */
function fakeClient(keys: string[], pageSize: number, refuse = false) {
  const deletes: string[][] = [];
  const listCalls: Record<string, unknown>[] = [];
  const client = {
    async send(command: unknown) {
      if (command instanceof ListObjectsV2Command) {
        const input = command.input;
        listCalls.push({ ...input });
        const matching = keys.filter((k) => k.startsWith(input.Prefix ?? '')).sort();
        const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
        const page = matching.slice(start, start + pageSize);
        const next = start + pageSize;
        return { Contents: page.map((Key) => ({ Key })), IsTruncated: next < matching.length, NextContinuationToken: next < matching.length ? String(next) : undefined };
      }
      if (command instanceof DeleteObjectsCommand) {
        const batch = (command.input.Delete?.Objects ?? []).map((o) => o.Key!);
        deletes.push(batch);
        return refuse ? { Errors: [{ Key: batch[0], Code: 'AccessDenied' }] } : {};
      }
      throw new Error('unexpected command');
    },
    destroy() {},
  };
  return { client: client as never, deletes, listCalls };
}

describe('S3FileStorage paging', () => {
  it('list follows continuation tokens and strips the key prefix', async () => {
    const keys = Array.from({ length: 7 }, (_, i) => `app/c/r${i}/f.txt`).concat(['app/other/x.txt', 'elsewhere/c/r/f.txt']);
    const { client, listCalls } = fakeClient(keys, 3);
    const storage = new S3FileStorage({ ...OPTIONS, prefix: 'app' }, client);
    expect((await storage.list('c')).sort()).toEqual(Array.from({ length: 7 }, (_, i) => `c/r${i}/f.txt`));
    expect(listCalls.map((c) => c.ContinuationToken)).toEqual([undefined, '3', '6']);
    expect(listCalls[0].Prefix).toBe('app/c/');
  });

  it('deletePrefix deletes every page, at most 1000 keys per DeleteObjects', async () => {
    const keys = Array.from({ length: 2500 }, (_, i) => `c/r/f${i}.txt`);
    const { client, deletes } = fakeClient(keys, 1000);
    const storage = new S3FileStorage(OPTIONS, client);
    await storage.deletePrefix('c/r');
    expect(deletes.map((d) => d.length)).toEqual([1000, 1000, 500]);
    expect(new Set(deletes.flat()).size).toBe(2500);
  });

  it('a key the server refuses to delete is an error', async () => {
    const { client } = fakeClient(['c/r/f.txt'], 1000, true);
    await expect(new S3FileStorage(OPTIONS, client).deletePrefix('c/r')).rejects.toThrow(/refused to delete 1 object/);
  });
});
