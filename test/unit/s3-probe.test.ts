/**
 * S3Probe with `filesystem: "backups"`: it tests the bucket of `backups.s3`, against an s3rver.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openS3StorageFromSettings } from '../../src/adapters/create-file-storage.js';
import { S3FileStorage } from '../../src/adapters/s3-file-storage.js';
import { S3Probe } from '../../src/core/files/s3-probe.js';
import type { SettingsService } from '../../src/core/settings/settings-service.js';
import { defaultS3Settings, defaultSettings, type S3Settings, type Settings } from '../../src/core/settings/settings.js';
import { startTestS3, type TestS3 } from '../harness/s3-server.js';

let s3: TestS3;

beforeAll(async () => {
  s3 = await startTestS3('probe-backups');
});

afterAll(async () => {
  await s3?.close();
});

/** Settings whose backups section has `backupsS3` (undefined: a section without one, as a hand-edited row could be). */
function withBackups(backupsS3: S3Settings | undefined): SettingsService {
  const settings = { ...defaultSettings({ appName: 'x', appUrl: 'http://127.0.0.1' }), backups: { cron: '', cronMaxKeep: 3, s3: backupsS3 } } as unknown as Settings;
  return { get: () => settings } as unknown as SettingsService;
}

const bucket = (): S3Settings => ({ ...defaultS3Settings(), ...s3.options, enabled: true });

describe('S3Probe, backups', () => {
  it('the default settings: the backups target is not enabled (400)', async () => {
    const defaults = defaultSettings({ appName: 'x', appUrl: 'http://127.0.0.1' });
    const probe = new S3Probe({ get: () => defaults } as unknown as SettingsService, openS3StorageFromSettings);
    await expect(probe.test({ filesystem: 'backups' })).rejects.toMatchObject({ status: 400, message: expect.stringContaining('S3 storage filesystem is not enabled') });
  });

  it('tests the backups bucket, leaving nothing behind', async () => {
    await new S3Probe(withBackups(bucket()), openS3StorageFromSettings).test({ filesystem: 'backups' });
    const reader = new S3FileStorage(s3.options);
    expect(await reader.list('')).toEqual([]);
    await reader.close();
  });

  it('a backups section without S3 enabled: 400 not enabled', async () => {
    await expect(new S3Probe(withBackups({ ...bucket(), enabled: false }), openS3StorageFromSettings).test({ filesystem: 'backups' })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('S3 storage filesystem is not enabled'),
    });
    await expect(new S3Probe(withBackups(undefined), openS3StorageFromSettings).test({ filesystem: 'backups' })).rejects.toMatchObject({ status: 400 });
  });
});
