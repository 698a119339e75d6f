/**
 * A local S3-compatible server (s3rver) on 127.0.0.1, a random port and a temporary folder,
 * with one empty bucket created through the S3 API — for S3FileStorage tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import type { S3StorageOptions } from '../../src/adapters/s3-file-storage.js';

export interface TestS3 {
  /** Options for an S3FileStorage on this server's bucket. */
  options: S3StorageOptions;
  close(): Promise<void>;
}

/** s3rver accepts these credentials (its defaults). */
const CREDENTIALS = { accessKey: 'S3RVER', secret: 'S3RVER' };

export async function startTestS3(bucket = 'basalt-test'): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'basalt-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true });
  const { port } = await server.run();
  const options: S3StorageOptions = { endpoint: `http://127.0.0.1:${port}`, bucket, region: 'us-east-1', forcePathStyle: true, ...CREDENTIALS };
  const admin = new S3Client({
    endpoint: options.endpoint,
    region: options.region,
    forcePathStyle: true,
    credentials: { accessKeyId: CREDENTIALS.accessKey, secretAccessKey: CREDENTIALS.secret },
  });
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  admin.destroy();
  return {
    options,
    async close() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
