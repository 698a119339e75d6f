/**
 * The one FileStorage factory: local disk under the data directory, or an S3 bucket. The S3
 * client (a large module tree) is loaded only when a bucket is configured, and the bucket is
 * checked before the server starts, so a wrong name or key stops start-up with a message.
 */
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import type { FileStorage } from '../core/ports.js';
import { LocalFileStorage } from './local-file-storage.js';

/** The storage of `config`; rejects (with a message naming the bucket, never the secret) when S3 is unreachable. */
export async function openFileStorage(config: Pick<Config, 'dataDir' | 'storage'>): Promise<FileStorage> {
  const storage = config.storage;
  switch (storage.type) {
    case 'local':
      return new LocalFileStorage(join(config.dataDir, 'storage'));
    case 's3': {
      const { S3FileStorage } = await import('./s3-file-storage.js');
      const files = new S3FileStorage(storage);
      try {
        await files.assertReachable();
      } catch (err) {
        await files.close();
        throw err;
      }
      return files;
    }
    default: {
      const unknown: never = storage;
      throw new Error(`unknown storage type ${JSON.stringify(unknown)}`);
    }
  }
}
