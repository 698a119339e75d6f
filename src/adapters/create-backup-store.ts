/**
 * The one BackupStore factory: the local folder `<dataDir>/backups`, or the S3 target of the
 * settings (the S3 client, a large module tree, is loaded only when one is enabled).
 */
import { join } from 'node:path';
import type { BackupStoreFactory } from '../core/ports.js';
import { normalizeS3Endpoint } from '../core/settings/s3-settings.js';
import { LocalBackupStore } from './local-backup-store.js';

export function backupStores(dataDir: string): BackupStoreFactory {
  return async (s3) => {
    if (!s3) return new LocalBackupStore(join(dataDir, 'backups'));
    const { S3BackupStore } = await import('./s3-backup-store.js');
    // The settings accept a bare host as the endpoint (https://host), as the file storage's do.
    return new S3BackupStore({ ...s3, endpoint: normalizeS3Endpoint(s3.endpoint) ?? '' });
  };
}
