/**
 * File serving with S3 storage (an s3rver on 127.0.0.1): the same route streams originals and
 * ranges from the bucket, and thumbnails are made once and stored in the bucket next to them.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3FileStorage } from '../../src/adapters/s3-file-storage.js';
import { createCollection, createRecord } from '../harness/fixtures.js';
import { startTestS3, type TestS3 } from '../harness/s3-server.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let s3: TestS3;
let t: TestApp;
let collectionId = '';
let recordId = '';
let png: Buffer;

beforeAll(async () => {
  s3 = await startTestS3('files-serve');
  t = await startTestApp({ deps: { files: new S3FileStorage({ ...s3.options, prefix: 'app' }) } });
  const c = await createCollection(t, { name: 'pics', type: 'base', viewRule: '', fields: [{ name: 'image', type: 'file', maxSelect: 1, thumbs: ['30x0'] }] });
  collectionId = c.id;
  recordId = String((await createRecord(t, 'pics', {})).values.id);
  png = await sharp({ create: { width: 120, height: 60, channels: 3, background: '#123456' } }).png().toBuffer();
  await t.app.files.put(`${collectionId}/${recordId}/pic_abc123.png`, png, 'image/png');
  await t.app.db.kysely.updateTable(t.app.registry.find('pics')!.table).set({ image: 'pic_abc123.png' }).where('id', '=', recordId).execute();
});

afterAll(async () => {
  await t?.close();
  await s3?.close();
});

describe('files on S3', () => {
  const url = (query = '') => `/api/files/pics/${recordId}/pic_abc123.png${query}`;

  it('serves the original, a range and a 304 from the bucket', async () => {
    const full = await t.server.inject({ method: 'GET', url: url() });
    expect(full.statusCode).toBe(200);
    expect(full.rawPayload.equals(png)).toBe(true);
    expect(full.headers['content-type']).toBe('image/png');
    const part = await t.server.inject({ method: 'GET', url: url(), headers: { range: 'bytes=1-3' } });
    expect(part.statusCode).toBe(206);
    expect(part.rawPayload.equals(png.subarray(1, 4))).toBe(true);
    const again = await t.server.inject({ method: 'GET', url: url(), headers: { 'if-none-match': String(full.headers.etag) } });
    expect(again.statusCode).toBe(304);
  });

  it('makes the thumb once and stores it in the bucket', async () => {
    const res = await t.server.inject({ method: 'GET', url: url('?thumb=30x0') });
    expect(res.statusCode).toBe(200);
    const meta = await sharp(res.rawPayload).metadata();
    expect([meta.width, meta.height]).toEqual([30, 15]);
    expect(await t.app.files.list(collectionId)).toEqual(expect.arrayContaining([`${collectionId}/${recordId}/thumbs_pic_abc123.png/30x0_pic_abc123.png`]));
    const cached = await t.server.inject({ method: 'GET', url: url('?thumb=30x0') });
    expect(cached.rawPayload.equals(res.rawPayload)).toBe(true);
  });

  it('a file missing from the bucket: 404', async () => {
    await t.app.files.delete(`${collectionId}/${recordId}/pic_abc123.png`);
    const res = await t.server.inject({ method: 'GET', url: url() });
    expect(res.statusCode).toBe(404);
    expect(Object.keys(JSON.parse(res.body)).sort()).toEqual(['data', 'message', 'status']);
  });
});
