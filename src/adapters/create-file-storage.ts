/**
 * The FileStorage factories: local disk under the data directory, or an S3 bucket (from the
 * start-up flags, or from the `s3` settings section). The S3 client (a large module tree) is
 * loaded only when a bucket is used; a bucket given by flags is checked before the server
 * starts, so a wrong name or key stops start-up with a message.
 */
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import type { FileStorage, S3StorageFactory } from '../core/ports.js';
import { normalizeS3Endpoint } from '../core/settings/s3-settings.js';
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

/**
 * The S3 storage of a settings section (the `s3` section saved at runtime, a connection test).
 * Nothing is checked here: the settings were validated on save, and a runtime switch must not
 * wait on the network.
 */
export const openS3StorageFromSettings: S3StorageFactory = async (s3, options = {}) => {
  const { S3FileStorage } = await import('./s3-file-storage.js');
  return new S3FileStorage({
    endpoint: normalizeS3Endpoint(s3.endpoint) ?? '',
    bucket: s3.bucket,
    region: s3.region,
    accessKey: s3.accessKey,
    secret: s3.secret,
    forcePathStyle: s3.forcePathStyle,
    probe: options.probe,
  });
};
