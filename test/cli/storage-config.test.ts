/**
 * File storage flags and BASALT_S3_* variables: local disk by default, S3 when --s3-bucket is
 * set (credentials required), bad values fail at start-up naming the flag, and the secret
 * never appears in what the command prints. Against an s3rver on 127.0.0.1 the app opens with
 * S3 storage and writes to the bucket.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { S3FileStorage } from '../../src/adapters/s3-file-storage.js';
import { buildConfig, readOptions, STORAGE_OPTIONS, UsageError } from '../../src/cli/config-from-args.js';
import { runMain } from '../harness/run-main.js';
import { openApp } from '../../src/cli/open-app.js';
import { silentLogger } from '../../src/core/ports.js';
import { startTestS3 } from '../harness/s3-server.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'basalt-cli-s3-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const configOf = (args: string[], env: NodeJS.ProcessEnv = {}) => buildConfig(readOptions(args, env, ['dir', ...STORAGE_OPTIONS]).values);


describe('storage configuration', () => {
  it('defaults to local disk', () => {
    expect(configOf([]).storage).toEqual({ type: 'local' });
  });

  it('reads BASALT_S3_* and lets flags win', () => {
    const env = {
      BASALT_S3_BUCKET: 'env-bucket',
      BASALT_S3_ENDPOINT: 'http://127.0.0.1:9000',
      BASALT_S3_REGION: 'eu-west-1',
      BASALT_S3_ACCESS_KEY: 'AK',
      BASALT_S3_SECRET: 'SK',
      BASALT_S3_FORCE_PATH_STYLE: 'true',
      BASALT_S3_PREFIX: '/basalt/prod/',
    };
    expect(configOf([], env).storage).toEqual({ type: 's3', bucket: 'env-bucket', endpoint: 'http://127.0.0.1:9000', region: 'eu-west-1', accessKey: 'AK', secret: 'SK', forcePathStyle: true, prefix: 'basalt/prod' });
    expect(configOf(['--s3-bucket', 'flag-bucket', '--s3-region', 'us-east-2'], env).storage).toMatchObject({ bucket: 'flag-bucket', region: 'us-east-2' });
  });

  it.each([
    [['--s3-endpoint', 'http://127.0.0.1:9000'], /--s3-endpoint is set but --s3-bucket is not/],
    [['--s3-bucket', 'b'], /needs credentials/],
    [['--s3-bucket', 'b', '--s3-access-key', 'k'], /needs credentials/],
    [['--s3-bucket', 'b', '--s3-access-key', 'k', '--s3-secret', 's', '--s3-endpoint', 'ftp://x'], /invalid --s3-endpoint/],
    [['--s3-bucket', 'b', '--s3-access-key', 'k', '--s3-secret', 's', '--s3-prefix', 'a/../b'], /invalid --s3-prefix/],
  ])('%j is refused at start-up', (args, message) => {
    expect(() => configOf(args)).toThrow(UsageError);
    expect(() => configOf(args)).toThrow(message);
  });

  it('serve with an unreachable bucket: exit 2, naming the bucket and not the secret', async () => {
    const r = await runMain(['serve', '--http', '127.0.0.1:0', '--dir', tempDir(), '--log-level', 'silent', '--s3-bucket', 'nowhere', '--s3-endpoint', 'http://127.0.0.1:1', '--s3-force-path-style', '--s3-access-key', 'AKID'], {
      BASALT_S3_SECRET: 'very-secret-value',
    });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cannot use the S3 bucket "nowhere"/);
    expect(r.err + r.out).not.toContain('very-secret-value');
  }, 30_000);

  it('opens the app on an S3 bucket (s3rver) and stores files there', async () => {
    const s3 = await startTestS3('cli-bucket');
    try {
      const config = configOf(['--dir', tempDir()], {
        BASALT_S3_BUCKET: 'cli-bucket',
        BASALT_S3_ENDPOINT: s3.options.endpoint,
        BASALT_S3_ACCESS_KEY: s3.options.accessKey,
        BASALT_S3_SECRET: s3.options.secret,
        BASALT_S3_FORCE_PATH_STYLE: '1',
      });
      const app = await openApp(config, silentLogger);
      try {
        expect(app.fileStorage.storage.current).toBeInstanceOf(S3FileStorage);
        await app.files.put('c/r/f.txt', Buffer.from('in s3'), 'text/plain');
        expect((await app.files.stat('c/r/f.txt'))?.size).toBe(5);
      } finally {
        await app.close();
      }
    } finally {
      await s3.close();
    }
  });
});
