/** The one FileStorage factory: local disk under the data directory, or an S3 bucket. */
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import type { FileStorage } from '../core/ports.js';
import { LocalFileStorage } from './local-file-storage.js';
import { S3FileStorage } from './s3-file-storage.js';

export function createFileStorage(config: Pick<Config, 'dataDir' | 'storage'>): FileStorage {
  const storage = config.storage;
  switch (storage.type) {
    case 'local':
      return new LocalFileStorage(join(config.dataDir, 'storage'));
    case 's3':
      return new S3FileStorage(storage);
    default: {
      const unknown: never = storage;
      throw new Error(`unknown storage type ${JSON.stringify(unknown)}`);
    }
  }
}
