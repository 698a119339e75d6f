/**
 * The `s3` settings section (an s3rver on 127.0.0.1): the secret never shown and kept when a PATCH
 * leaves it out, PocketBase's validation, the file storage switched at runtime (uploads, serving,
 * thumbnails go to the bucket; back on local disk when turned off; on the other node of a
 * cluster too), the `--s3-*` flags winning over the section, and `POST /api/settings/test/s3`
 * with its hostile inputs (unknown filesystem, no body, wrong secret, a closed port, a silent
 * server, an HTTP server that is not S3).
 */
import { existsSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3FileStorage } from '../../src/adapters/s3-file-storage.js';
import { ENGINE, REDIS_URL } from '../harness/engines.js';
import { createAuthRecord, createCollection, createSuperuser } from '../harness/fixtures.js';
import { formBody } from '../harness/form-body.js';
import { send } from '../harness/scenario.js';
import { startTestS3, type TestS3 } from '../harness/s3-server.js';
import { entryText } from './backups-helpers.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';
import { startTwoNodes, type TwoNodes } from '../harness/two-nodes.js';

let s3: TestS3;
let t: TestApp;
const tok: Record<string, string> = {};
let png: Buffer;

beforeAll(async () => {
  s3 = await startTestS3('settings-s3');
  t = await startTestApp();
  tok.su = (await createSuperuser(t)).token;
  tok.user = (await createAuthRecord(t, 'users', { email: 'user@example.com' })).token;
  await createCollection(t, { name: 'docs', type: 'base', listRule: '', viewRule: '', createRule: '', fields: [{ name: 'file', type: 'file', maxSelect: 1, thumbs: ['20x0'] }] });
  png = await sharp({ create: { width: 80, height: 40, channels: 3, background: '#224466' } }).png().toBuffer();
});

afterAll(async () => {
  await t?.close();
  await s3?.close();
});

/** The section that points at the test bucket, as the dashboard saves it. */
const bucketSection = () => ({
  enabled: true,
  bucket: s3.options.bucket,
  region: s3.options.region,
  endpoint: s3.options.endpoint,
  accessKey: s3.options.accessKey,
  secret: s3.options.secret,
  forcePathStyle: true,
});

const patch = (app: TestApp, body: unknown) => send(app, 'PATCH', '/api/settings', { auth: tok.su, body });
const testS3 = (body?: unknown, auth = tok.su) => send(t, 'POST', '/api/settings/test/s3', { auth, body });

/** Keys in the test bucket (a storage of its own, not the app's). */
async function bucketKeys(prefix = ''): Promise<string[]> {
  const reader = new S3FileStorage(s3.options);
  try {
    return await reader.list(prefix);
  } finally {
    await reader.close();
  }
}

async function upload(app: TestApp, name: string): Promise<{ id: string; file: string; collectionId: string }> {
  const form = formBody([{ name: 'file', value: png, filename: name, type: 'image/png' }]);
  const res = await app.server.inject({ method: 'POST', url: '/api/collections/docs/records', headers: form.headers, payload: form.payload });
  expect(res.statusCode, res.body).toBe(200);
  const body = JSON.parse(res.body);
  return { id: body.id, file: body.file, collectionId: body.collectionId };
}

const fileUrl = (r: { id: string; file: string }, query = '') => `/api/files/docs/${r.id}/${r.file}${query}`;

describe('the s3 section', () => {
  it('GET shows PocketBase\'s empty section, without a secret', async () => {
    const res = await send(t, 'GET', '/api/settings', { auth: tok.su });
    expect(res.status).toBe(200);
    expect(res.body.s3).toEqual({ enabled: false, bucket: '', region: '', endpoint: '', accessKey: '', forcePathStyle: false });
  });

  it('enabled without its values: 400 naming every missing one, nothing saved', async () => {
    const res = await patch(t, { s3: { enabled: true } });
    expect(res.status).toBe(400);
    for (const key of ['bucket', 'region', 'endpoint', 'accessKey', 'secret']) expect(res.body.data.s3[key].code, key).toBe('validation_required');
    expect((await send(t, 'GET', '/api/settings', { auth: tok.su })).body.s3.enabled).toBe(false);
  });

  it.each([
    ['an endpoint that is not a URL', { endpoint: 'not a url' }, 'endpoint', 'validation_is_url'],
    ['an ftp endpoint', { endpoint: 'ftp://files.example.com' }, 'endpoint', 'validation_is_url'],
    ['credentials in the endpoint', { endpoint: 'https://key:pw@s3.example.com' }, 'endpoint', 'validation_is_url'],
    ['a non-boolean enabled', { enabled: 'yes' }, 'enabled', 'validation_invalid_type'],
    ['a numeric bucket', { bucket: 5 }, 'bucket', 'validation_invalid_type'],
    ['an unknown key', { acl: 'public-read' }, 'acl', 'validation_unknown_field'],
    ['a huge bucket name', { bucket: 'b'.repeat(300) }, 'bucket', 'validation_length_too_long'],
  ])('%s: 400', async (_name, section, key, code) => {
    const res = await patch(t, { s3: section });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body).sort()).toEqual(['data', 'message', 'status']);
    expect(res.body.data.s3[key].code).toBe(code);
  });

  it('a section that is not an object: 400', async () => {
    const res = await patch(t, { s3: 'on' });
    expect(res.status).toBe(400);
    expect(res.body.data.s3.code).toBe('validation_invalid_type');
  });

  it('a bare host endpoint is accepted (PocketBase\'s is.URL accepts one)', async () => {
    const res = await patch(t, { s3: { endpoint: 's3.eu-central-1.amazonaws.com' } });
    expect(res.status, res.raw).toBe(200);
    expect((await patch(t, { s3: { endpoint: '' } })).status).toBe(200);
  });

  it('saves the secret but never shows it; a PATCH without it keeps it', async () => {
    const saved = await patch(t, { s3: { ...bucketSection(), enabled: false } });
    expect(saved.status, saved.raw).toBe(200);
    expect(saved.body.s3).not.toHaveProperty('secret');
    expect(saved.raw).not.toContain('"secret"');
    const got = await send(t, 'GET', '/api/settings', { auth: tok.su });
    expect(got.body.s3).toEqual({ enabled: false, bucket: s3.options.bucket, region: 'us-east-1', endpoint: s3.options.endpoint, accessKey: s3.options.accessKey, forcePathStyle: true });
    // Enabling needs a secret: the stored one counts.
    expect(t.app.settings.get().s3.secret).toBe(s3.options.secret);
  });
});

describe('switching the file storage at runtime', () => {
  let local: { id: string; file: string; collectionId: string };
  let remote: { id: string; file: string; collectionId: string };

  it('before: uploads go to <dataDir>/storage', async () => {
    local = await upload(t, 'before.png');
    expect(existsSync(join(t.config.dataDir, 'storage', local.collectionId, local.id, local.file))).toBe(true);
  });

  it('enabled (secret kept from the earlier PATCH): the next upload is in the bucket, served from it, thumbs too', async () => {
    const res = await patch(t, { s3: { enabled: true } });
    expect(res.status, res.raw).toBe(200);
    remote = await upload(t, 'remote.png');
    const key = `${remote.collectionId}/${remote.id}/${remote.file}`;
    expect(await bucketKeys(remote.collectionId)).toContain(key);
    expect(existsSync(join(t.config.dataDir, 'storage', remote.collectionId, remote.id))).toBe(false);
    const served = await t.server.inject({ method: 'GET', url: fileUrl(remote) });
    expect(served.statusCode).toBe(200);
    expect(served.rawPayload.equals(png)).toBe(true);
    const thumb = await t.server.inject({ method: 'GET', url: fileUrl(remote, '?thumb=20x0') });
    expect(thumb.statusCode).toBe(200);
    expect(await bucketKeys(remote.collectionId)).toContain(`${remote.collectionId}/${remote.id}/thumbs_${remote.file}/20x0_${remote.file}`);
  });

  it('files stored before the switch are not migrated (as in PocketBase): 404 until moved', async () => {
    const res = await t.server.inject({ method: 'GET', url: fileUrl(local) });
    expect(res.statusCode).toBe(404);
  });

  it('a record deleted while on S3 takes its files out of the bucket', async () => {
    const doomed = await upload(t, 'doomed.png');
    expect(await bucketKeys(`${doomed.collectionId}/${doomed.id}`)).toHaveLength(1);
    expect((await send(t, 'DELETE', `/api/collections/docs/records/${doomed.id}`, { auth: tok.su })).status).toBe(204);
    await expect.poll(() => bucketKeys(`${doomed.collectionId}/${doomed.id}`)).toEqual([]);
  });

  it('a backup made while the files are on S3 holds the bucket\'s files (the storage in force)', async () => {
    expect((await send(t, 'POST', '/api/backups', { auth: tok.su, body: { name: 'on_s3.zip' } })).status).toBe(204);
    const fileToken = (await send(t, 'POST', '/api/files/token', { auth: tok.su })).body.token;
    const res = await t.server.inject({ method: 'GET', url: `/api/backups/on_s3.zip?token=${fileToken}` });
    expect(res.statusCode).toBe(200);
    const zip = res.rawPayload;
    expect(await entryText(zip, `storage/${remote.collectionId}/${remote.id}/${remote.file}`)).not.toBeNull();
    // The local file of before the switch is not in the storage in force.
    expect(await entryText(zip, `storage/${local.collectionId}/${local.id}/${local.file}`)).toBeNull();
    expect((await send(t, 'DELETE', '/api/backups/on_s3.zip', { auth: tok.su })).status).toBe(204);
  });

  it('turned off: new uploads go to local disk again, the local file is served again', async () => {
    expect((await patch(t, { s3: { enabled: false } })).status).toBe(200);
    const back = await upload(t, 'back.png');
    expect(existsSync(join(t.config.dataDir, 'storage', back.collectionId, back.id, back.file))).toBe(true);
    expect(await bucketKeys(`${back.collectionId}/${back.id}`)).toEqual([]);
    expect((await t.server.inject({ method: 'GET', url: fileUrl(local) })).statusCode).toBe(200);
    expect((await t.server.inject({ method: 'GET', url: fileUrl(remote) })).statusCode).toBe(404);
  });
});

describe('the --s3-* flags win over the section', () => {
  let flagged: TestApp;
  let flagsBucket: TestS3;

  beforeAll(async () => {
    flagsBucket = await startTestS3('flags-bucket');
    const storage = { type: 's3' as const, ...flagsBucket.options, prefix: '' };
    flagged = await startTestApp({ config: { storage }, deps: { files: new S3FileStorage(flagsBucket.options) } });
    await createSuperuser(flagged);
    await createCollection(flagged, { name: 'docs', type: 'base', createRule: '', viewRule: '', fields: [{ name: 'file', type: 'file', maxSelect: 1 }] });
  });

  afterAll(async () => {
    await flagged?.close();
    await flagsBucket?.close();
  });

  it('the section saves, but uploads stay in the flags\' bucket', async () => {
    const su = (await send(flagged, 'POST', '/api/collections/_superusers/auth-with-password', { body: { identity: 'admin@example.com', password: 'password123' } })).body.token;
    const saved = await send(flagged, 'PATCH', '/api/settings', { auth: su, body: { s3: bucketSection() } });
    expect(saved.status, saved.raw).toBe(200);
    expect(saved.body.s3.enabled).toBe(true);
    expect(flagged.app.fileStorage.followsSettings).toBe(false);
    const r = await upload(flagged, 'flagged.png');
    const key = `${r.collectionId}/${r.id}/${r.file}`;
    const flagsReader = new S3FileStorage(flagsBucket.options);
    expect(await flagsReader.list(r.collectionId)).toContain(key);
    await flagsReader.close();
    expect(await bucketKeys(r.collectionId)).not.toContain(key);
  });
});

describe('POST /api/settings/test/s3', () => {
  const FAILED = 'Failed to test the S3 filesystem.';
  let silent: Server;
  const sockets: Socket[] = [];
  let html: HttpServer;

  beforeAll(async () => {
    // Accepts connections and never answers.
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    // An HTTP server that is not S3: a web page for every request.
    html = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>hello</body></html>'));
    await new Promise<void>((resolve) => html.listen(0, '127.0.0.1', () => resolve()));
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => silent?.close(resolve));
    await new Promise((resolve) => html?.close(resolve));
    await patch(t, { s3: { ...bucketSection(), enabled: false } });
  });

  const portOf = (server: Server | HttpServer) => (server.address() as AddressInfo).port;

  it('guests 401, users 403', async () => {
    expect((await testS3({ filesystem: 'storage' }, '')).status).toBe(401);
    expect((await testS3({ filesystem: 'storage' }, tok.user)).status).toBe(403);
  });

  it.each([
    ['no body', undefined, 'validation_required'],
    ['an empty filesystem', { filesystem: '' }, 'validation_required'],
    ['an unknown filesystem', { filesystem: 'disk' }, 'validation_in_invalid'],
    ['a numeric filesystem', { filesystem: 1 }, 'validation_in_invalid'],
  ])('%s: 400 with a field error', async (_name, body, code) => {
    const res = await testS3(body);
    expect(res.status).toBe(400);
    expect(res.body.message).toBe(FAILED);
    expect(res.body.data.filesystem.code).toBe(code);
  });

  it.each([
    ['a JSON array', '["storage"]'],
    ['a JSON string', '"storage"'],
    ['broken JSON', '{"filesystem": "stor'],
  ])('%s as the body: 400, never a 500', async (_name, raw) => {
    const res = await send(t, 'POST', '/api/settings/test/s3', { auth: tok.su, body: raw, headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body).sort()).toEqual(['data', 'message', 'status']);
  });

  it('storage not enabled: 400 as PocketBase says it', async () => {
    expect((await patch(t, { s3: { enabled: false } })).status).toBe(200);
    const res = await testS3({ filesystem: 'storage' });
    expect(res.status).toBe(400);
    expect(res.body.message, JSON.stringify(res.body.message)).toBe(`${FAILED} Raw error: \nS3 storage filesystem is not enabled.`);
  });

  it('backups without an S3 section: 400 not enabled', async () => {
    const res = await testS3({ filesystem: 'backups' });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('S3 storage filesystem is not enabled');
  });

  it('a working bucket: 204, and the test file is gone afterwards', async () => {
    expect((await patch(t, { s3: bucketSection() })).status).toBe(200);
    const res = await testS3({ filesystem: 'storage' });
    expect(res.status, res.raw).toBe(204);
    expect((await bucketKeys()).filter((k) => k.startsWith('pb_settings_test_'))).toEqual([]);
  });

  it('a bucket that does not exist: 400 saying the upload failed, without the secret', async () => {
    // (s3rver accepts any signature, so a wrong secret cannot be told apart here.)
    const secret = 'distinctive-secret-value-1234';
    expect((await patch(t, { s3: { ...bucketSection(), bucket: 'no-such-bucket', secret } })).status).toBe(200);
    const res = await testS3({ filesystem: 'storage' });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('failed to upload a test file');
    expect(res.raw).not.toContain(secret);
  });

  it('a closed port: 400 at once', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = portOf(server);
    await new Promise((resolve) => server.close(resolve));
    expect((await patch(t, { s3: { ...bucketSection(), endpoint: `http://127.0.0.1:${port}` } })).status).toBe(200);
    const started = Date.now();
    const res = await testS3({ filesystem: 'storage' });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('failed to upload a test file');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('a server that never answers: 400 within the probe timeout, no hang', async () => {
    expect((await patch(t, { s3: { ...bucketSection(), endpoint: `http://127.0.0.1:${portOf(silent)}` } })).status).toBe(200);
    const started = Date.now();
    const res = await testS3({ filesystem: 'storage' });
    expect(res.status).toBe(400);
    expect(res.body.message).toContain('failed to upload a test file');
    expect(Date.now() - started).toBeLessThan(9000);
  }, 15_000);

  it('an HTTP server that is not S3: 400', async () => {
    expect((await patch(t, { s3: { ...bucketSection(), endpoint: `http://127.0.0.1:${portOf(html)}` } })).status).toBe(200);
    const res = await testS3({ filesystem: 'storage' });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^Failed to test the S3 filesystem\. Raw error: \nfailed to (upload|list|delete) (a|the) test file: /);
    expect(res.raw).not.toContain(s3.options.secret);
  });
});

describe.skipIf(ENGINE !== 'postgres' || REDIS_URL === '')('two nodes: PostgreSQL + Redis', () => {
  let a: TestApp;
  let b: TestApp;
  let nodes: TwoNodes | undefined;

  beforeAll(async () => {
    nodes = await startTwoNodes('s3');
    ({ a, b } = nodes);
    tok.clusterSu = (await createSuperuser(a)).token;
    await createCollection(a, { name: 'docs', type: 'base', createRule: '', viewRule: '', fields: [{ name: 'file', type: 'file', maxSelect: 1 }] });
  });

  afterAll(async () => {
    await nodes?.close();
  });

  it('enabling on node A switches node B too; turning it off switches both back', async () => {
    const on = await send(a, 'PATCH', '/api/settings', { auth: tok.clusterSu, body: { s3: bucketSection() } });
    expect(on.status, on.raw).toBe(200);
    await expect.poll(() => b.app.fileStorage.storage.current instanceof S3FileStorage).toBe(true);
    const r = await upload(b, 'node-b.png');
    expect(await bucketKeys(r.collectionId)).toContain(`${r.collectionId}/${r.id}/${r.file}`);
    expect((await a.server.inject({ method: 'GET', url: fileUrl(r) })).statusCode).toBe(200);

    expect((await send(a, 'PATCH', '/api/settings', { auth: tok.clusterSu, body: { s3: { enabled: false } } })).status).toBe(200);
    await expect.poll(() => b.app.fileStorage.storage.current instanceof S3FileStorage).toBe(false);
    const back = await upload(b, 'node-b-local.png');
    expect(existsSync(join(b.config.dataDir, 'storage', back.collectionId, back.id, back.file))).toBe(true);
  });
});
