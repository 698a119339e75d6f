/**
 * Backups in an S3 bucket (`settings.backups.s3`), at the bucket's top level as PocketBase keeps
 * them. A zip is uploaded in one PUT from its file on disk (S3's limit for one PUT is 5 GiB).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { stat as statFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from './s3-client.js';
import type { BackupFileInfo, BackupS3Target, BackupStore } from '../core/ports.js';

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.Code === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

export class S3BackupStore implements BackupStore {
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(target: BackupS3Target) {
    this.bucket = target.bucket;
    // Backups are large: no overall deadline, but a server that stops answering (2 min without a
    // byte) fails the request.
    this.client = createS3Client(target, { connectionTimeout: 5000, requestTimeout: 120_000, socketTimeout: 120_000, maxAttempts: 3 });
  }

  async list(): Promise<BackupFileInfo[]> {
    const items: BackupFileInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Delimiter: '/', ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) items.push({ key: o.Key, size: Number(o.Size ?? 0), modified: o.LastModified ?? new Date(0) });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return items;
  }

  async stat(key: string): Promise<BackupFileInfo | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, size: Number(head.ContentLength ?? 0), modified: head.LastModified ?? new Date(0) };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async save(key: string, path: string): Promise<void> {
    const { size } = await statFile(path);
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: createReadStream(path), ContentLength: size, ContentType: 'application/zip' }));
  }

  async read(key: string): Promise<Readable | null> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (object.Body as Readable | undefined) ?? null;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async localCopy(key: string, temp: string): Promise<string | null> {
    const body = await this.read(key);
    if (!body) return null;
    await pipeline(body, createWriteStream(temp));
    return temp;
  }

  async delete(key: string): Promise<boolean> {
    if (!(await this.stat(key))) return false;
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    return true;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
