/**
 * `POST /api/settings/test/s3` (PocketBase's `forms.TestS3Filesystem`): with the saved S3 section
 * of the file storage or of the backups, upload a small file under a random prefix, list it, then
 * delete the prefix: write, list and delete all work, or the answer says which failed.
 */
import { badRequest, fieldError } from '../errors.js';
import { randomString } from '../ids.js';
import type { S3StorageFactory } from '../ports.js';
import type { SettingsService } from '../settings/settings-service.js';
import type { S3Settings } from '../settings/settings.js';

const FILESYSTEMS = ['storage', 'backups'] as const;
type Filesystem = (typeof FILESYSTEMS)[number];

/** PocketBase's messages, so the dashboard shows the same text. */
const FAILED = 'Failed to test the S3 filesystem.';

export class S3Probe {
  constructor(
    private readonly settings: SettingsService,
    private readonly openS3: S3StorageFactory,
  ) {}

  /** Resolves when the bucket works; otherwise a 400 whose message says why (never the secret). */
  async test(body: Record<string, unknown>): Promise<void> {
    const filesystem = body.filesystem;
    if (typeof filesystem !== 'string' || !(FILESYSTEMS as readonly string[]).includes(filesystem)) {
      const error =
        filesystem === undefined || filesystem === ''
          ? fieldError('validation_required', 'Cannot be blank.')
          : fieldError('validation_in_invalid', `Must be one of ${FILESYSTEMS.map((f) => `"${f}"`).join(', ')}.`);
      throw badRequest(FAILED, { filesystem: error });
    }
    const s3 = this.sectionOf(filesystem as Filesystem);
    if (!s3?.enabled) throw rawError('S3 storage filesystem is not enabled');
    const storage = await this.openS3(s3, { probe: true });
    const prefix = `pb_settings_test_${randomString(5)}`;
    try {
      const key = `${prefix}/test.txt`;
      await step('failed to upload a test file', s3, () => storage.put(key, Buffer.from('test'), 'text/plain'));
      // Beyond PocketBase: a server answering 200 to everything (a web page, not S3) would pass
      // the upload and delete an empty listing; the listing must show the file.
      await step('failed to list the test file', s3, async () => {
        if (!(await storage.list(prefix)).includes(key)) throw new Error('the uploaded file is not in the bucket listing (is the endpoint an S3 server?)');
      });
      await step('failed to delete a test file', s3, () => storage.deletePrefix(prefix));
    } finally {
      await storage.close().catch(() => {});
    }
  }

  private sectionOf(filesystem: Filesystem): S3Settings | null {
    const settings = this.settings.get();
    return filesystem === 'backups' ? settings.backups.s3 : settings.s3;
  }
}

async function step(what: string, s3: S3Settings, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    throw rawError(`${what}: ${describe(err, s3)}`);
  }
}

function rawError(message: string) {
  return badRequest(`${FAILED} Raw error: \n${message}`);
}

/** The S3 client's error in one line, bounded, with the secret masked should it ever appear. */
function describe(err: unknown, s3: S3Settings): string {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  let text = `${e.message || e.name || 'unknown error'}${status ? ` (HTTP ${status})` : ''}`;
  if (s3.secret !== '') text = text.split(s3.secret).join('***');
  return text.replace(/\s+/g, ' ').slice(0, 500);
}
