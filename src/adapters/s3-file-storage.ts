/**
 * FileStorage on S3-compatible object storage (AWS S3, MinIO, R2, …) through @aws-sdk/client-s3,
 * for clusters: every node reads and writes the same bucket. An optional key prefix lets
 * several apps share one bucket. A PUT is atomic in S3: a reader never sees half an object.
 */
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { assertStorageKey } from '../core/files/storage-key.js';
import type { S3StorageConfig } from '../core/config.js';
import type { FileStorage, StoredFileInfo } from '../core/ports.js';
import { createS3Client } from './s3-client.js';

export type S3StorageOptions = Omit<S3StorageConfig, 'prefix'> & {
  /** @default "" */
  prefix?: string;
  /** Keys per ListObjectsV2 page (S3's maximum is 1000; tests page with fewer). @default 1000 */
  listPageSize?: number;
  /** Short timeouts and no retries: a connection test answers within seconds, even from a silent server. @default false */
  probe?: boolean;
};

/**
 * Per call: time to connect, time until the response headers, longest silence of the socket (a
 * body streaming slowly is fine, a stalled one is not), attempts. For serving files, and for a
 * connection test that must answer quickly.
 */
const TIMEOUTS = {
  serve: { connectionTimeout: 5000, requestTimeout: 60_000, socketTimeout: 60_000, maxAttempts: 3 },
  probe: { connectionTimeout: 3000, requestTimeout: 5000, socketTimeout: 5000, maxAttempts: 1 },
};

/** DeleteObjects takes at most 1000 keys per request (S3 API limit). */
const DELETE_BATCH = 1000;

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.Code === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404;
}

export class S3FileStorage implements FileStorage {
  private readonly client: Pick<S3Client, 'send' | 'destroy'>;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly pageSize: number;

  /** `client`: an already configured client (tests); by default one is built from `options`. */
  constructor(options: S3StorageOptions, client?: Pick<S3Client, 'send' | 'destroy'>) {
    this.bucket = options.bucket;
    this.pageSize = Math.min(1000, Math.max(1, options.listPageSize ?? 1000));
    const prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    if (prefix !== '') assertStorageKey(prefix);
    this.prefix = prefix === '' ? '' : `${prefix}/`;
    this.client = client ?? createS3Client(options, options.probe ? TIMEOUTS.probe : TIMEOUTS.serve);
  }

  /**
   * Checks at start-up that the bucket exists and the credentials reach it, so a wrong setting
   * fails there rather than on the first upload. The message names the bucket, never the secret.
   */
  async assertReachable(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
      const status = e.$metadata?.httpStatusCode;
      const hint = status === 404 ? 'the bucket does not exist' : status === 403 || status === 401 ? 'the credentials are refused' : (e.message ?? e.name ?? 'no answer');
      throw new Error(`cannot use the S3 bucket "${this.bucket}": ${hint} (check --s3-endpoint, --s3-bucket, --s3-access-key, --s3-secret)`);
    }
  }

  private key(key: string): string {
    assertStorageKey(key);
    return this.prefix + key;
  }

  async put(key: string, data: Buffer, contentType: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.key(key), Body: data, ContentType: contentType, ContentLength: data.length }));
  }

  async stat(key: string): Promise<StoredFileInfo | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
      return { size: Number(head.ContentLength ?? 0), modified: head.LastModified ?? new Date(0) };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async read(key: string, range?: { start: number; end: number }): Promise<Readable | null> {
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key), Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
      );
      // In Node the body is the HTTP response itself (an IncomingMessage).
      return (object.Body as Readable | undefined) ?? null;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    // S3 answers 204 for a missing key too.
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
  }

  async deletePrefix(prefix: string): Promise<void> {
    const keys = await this.listFull(`${this.key(prefix)}/`);
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const result = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      );
      const failed = (result.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0) throw new Error(`S3 refused to delete ${failed.length} object(s) under ${prefix}: ${failed[0].Code ?? 'unknown error'}`);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const full = prefix === '' ? this.prefix : `${this.key(prefix)}/`;
    return (await this.listFull(full)).map((k) => k.slice(this.prefix.length));
  }

  /** Every object key (with this storage's prefix) starting with `prefix`, page after page. */
  private async listFull(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix || undefined, ContinuationToken: token, MaxKeys: this.pageSize }));
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
