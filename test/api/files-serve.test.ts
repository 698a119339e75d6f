/**
 * Serving files (spec §1.7), black-box through the HTTP stack: PocketBase's access rules
 * (existence, file-field membership, protected files with file tokens and the viewRule in the
 * `protectedFile` context; ordinary files public whatever the viewRule), thumbnails of all six
 * size forms (checked with sharp), their cache in storage and single-flight generation, the
 * original for an unlisted size or a non-image, the response headers, ranges, conditional
 * requests, and the SDK's `pb.files.getURL` / `pb.files.getToken` over a socket.
 *
 * Uploads arrive separately: files are seeded straight into storage and the record's file
 * fields set with a direct update of its table.
 */
import { systemClock } from '../../src/core/clock.js';
import type { AddressInfo } from 'node:net';
import PocketBase from 'pocketbase';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SharpThumbnailer } from '../../src/adapters/sharp-thumbnailer.js';
import { signRecordToken } from '../../src/core/auth/tokens.js';
import type { Thumbnailer } from '../../src/core/ports.js';
import { createAuthRecord, createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
const made: string[] = [];
/** The real thumbnailer, counting its calls (to see a cached thumb is not made again). */
const sharpThumbs = new SharpThumbnailer();
const countingThumbnailer: Thumbnailer = {
  make(source, size) {
    made.push(`${size.width}x${size.height}:${size.mode}`);
    return sharpThumbs.make(source, size);
  },
};

const THUMBS = ['50x50', '70x30', '70x30t', '70x30b', '60x60f', '0x40', '40x0', '500x500f'];
const ids: Record<string, string> = {};
const collections: Record<string, { id: string; table: string }> = {};
const files: Record<string, Buffer> = {};
let suToken = '';
let alice: { id: string; token: string; record: any };
let bob: { id: string; token: string; record: any };

/** 100×300 in three bands (red, green, blue from the top): crops show where they were taken. */
const banded = (format: 'png' | 'jpeg' | 'webp' | 'gif') =>
  sharp({ create: { width: 100, height: 300, channels: 3, background: '#0000ff' } })
    .composite([
      { input: { create: { width: 100, height: 100, channels: 3, background: '#ff0000' } }, top: 0, left: 0 },
      { input: { create: { width: 100, height: 100, channels: 3, background: '#00ff00' } }, top: 100, left: 0 },
    ])
    .toFormat(format)
    .toBuffer();

async function seed(collection: string, recordId: string, name: string, data: Buffer, type = 'application/octet-stream') {
  await t.app.files.put(`${collections[collection].id}/${recordId}/${name}`, data, type);
}

async function setFields(collection: string, recordId: string, values: Record<string, string | string[]>) {
  const set: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) set[k] = Array.isArray(v) ? JSON.stringify(v) : v;
  await t.app.db.kysely.updateTable(collections[collection].table).set(set).where('id', '=', recordId).execute();
}

async function get(url: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') {
  const res = await t.server.inject({ method, url, headers });
  return { status: res.statusCode, headers: res.headers, body: res.rawPayload, json: () => JSON.parse(res.body) };
}

const url = (collection: string, record: string, name: string, query = '') => `/api/files/${collection}/${record}/${name}${query ? `?${query}` : ''}`;

/** Every error is exactly PocketBase's `{status, message, data}`. */
function expectApiError(res: { status: number; json: () => any }, status: number) {
  expect(res.status).toBe(status);
  const body = res.json();
  expect(Object.keys(body).sort()).toEqual(['data', 'message', 'status']);
  expect(body.status).toBe(status);
}

beforeAll(async () => {
  t = await startTestApp({ deps: { thumbnailer: countingThumbnailer } });
  suToken = (await createSuperuser(t)).token;
  alice = await createAuthRecord(t, 'users', { email: 'alice@example.com', password: 'alice-password-1' });
  bob = await createAuthRecord(t, 'users', { email: 'bob@example.com', password: 'bob-password-1' });

  const docs = await createCollection(t, {
    name: 'docs',
    type: 'base',
    listRule: '',
    viewRule: '',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'file', type: 'file', maxSelect: 1, thumbs: THUMBS },
      { name: 'attachments', type: 'file', maxSelect: 5 },
    ],
  });
  // No viewRule (superusers only): PocketBase still serves its ordinary files to anyone.
  const locked = await createCollection(t, { name: 'locked_docs', type: 'base', fields: [{ name: 'file', type: 'file', maxSelect: 1 }] });
  const owned = await createCollection(t, {
    name: 'owned',
    type: 'base',
    viewRule: 'owner = @request.auth.id && @request.context = "protectedFile"',
    fields: [
      { name: 'owner', type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1 },
      { name: 'doc', type: 'file', maxSelect: 1, protected: true, thumbs: ['20x20'] },
      { name: 'cover', type: 'file', maxSelect: 1 },
    ],
  });
  for (const c of [docs, locked, owned]) collections[c.name] = { id: c.id, table: t.app.registry.find(c.id)!.table };

  files.png = await banded('png');
  files.jpg = await banded('jpeg');
  files.webp = await banded('webp');
  files.gif = await banded('gif');
  files.txt = Buffer.from('just some notes\n');
  files.pdf = Buffer.from('%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n');
  files.svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
  files.corrupt = Buffer.concat([files.png.subarray(0, 40), Buffer.from('this is not the rest of a png')]);

  const names: Record<string, [string, Buffer]> = {
    png: ['photo_abc123.png', files.png],
    jpg: ['photo_abc123.jpg', files.jpg],
    webp: ['photo_abc123.webp', files.webp],
    gif: ['photo_abc123.gif', files.gif],
    txt: ['notes_abc123.txt', files.txt],
    pdf: ['paper_abc123.pdf', files.pdf],
    svg: ['logo_abc123.svg', files.svg],
    corrupt: ['broken_abc123.png', files.corrupt],
  };
  for (const [kind, [name, data]] of Object.entries(names)) {
    const r = await createRecord(t, 'docs', { title: kind });
    ids[kind] = String(r.values.id);
    await seed('docs', ids[kind], name, data);
    await setFields('docs', ids[kind], { file: name });
  }
  // A multi-value field: a JSON array column.
  const multi = await createRecord(t, 'docs', { title: 'multi' });
  ids.multi = String(multi.values.id);
  await seed('docs', ids.multi, 'a1_abc123.txt', Buffer.from('first'));
  await seed('docs', ids.multi, 'a2_abc123.png', files.png);
  // In storage but not in the record: never served.
  await seed('docs', ids.multi, 'stray_abc123.txt', Buffer.from('stray'));
  await setFields('docs', ids.multi, { attachments: ['a1_abc123.txt', 'a2_abc123.png'] });

  const l = await createRecord(t, 'locked_docs', {});
  ids.locked = String(l.values.id);
  await seed('locked_docs', ids.locked, 'open_abc123.txt', Buffer.from('open'));
  await setFields('locked_docs', ids.locked, { file: 'open_abc123.txt' });

  const o = await createRecord(t, 'owned', { owner: alice.id });
  ids.owned = String(o.values.id);
  await seed('owned', ids.owned, 'secret_abc123.png', files.png);
  await seed('owned', ids.owned, 'cover_abc123.png', files.png);
  await setFields('owned', ids.owned, { doc: 'secret_abc123.png', cover: 'cover_abc123.png' });
});

afterAll(async () => {
  await t?.close();
});

describe('thumbnails', () => {
  // 100×300 source. Fill forms cover the box then crop; `f` fits inside without enlarging.
  it.each([
    ['100x100', 100, 100],
    ['50x50', 50, 50],
    ['70x30', 70, 30],
    ['70x30t', 70, 30],
    ['70x30b', 70, 30],
    ['60x60f', 20, 60],
    ['500x500f', 100, 300],
    ['0x40', 13, 40],
    ['40x0', 40, 120],
  ])('thumb=%s of a PNG is %ix%i, a PNG named <size>_<name>', async (size, width, height) => {
    const res = await get(url('docs', ids.png, 'photo_abc123.png', `thumb=${size}`));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.headers['content-disposition']).toBe(`inline; filename=${size}_photo_abc123.png`);
    const meta = await sharp(res.body).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['png', width, height]);
  });

  it('crops from the center, the top and the bottom', async () => {
    const colour = async (size: string) => {
      const res = await get(url('docs', ids.png, 'photo_abc123.png', `thumb=${size}`));
      const { data } = await sharp(res.body).raw().toBuffer({ resolveWithObject: true });
      return [...data.subarray(0, 3)];
    };
    expect(await colour('70x30t')).toEqual([255, 0, 0]);
    expect(await colour('70x30')).toEqual([0, 255, 0]);
    expect(await colour('70x30b')).toEqual([0, 0, 255]);
  });

  it.each([
    ['jpg', 'photo_abc123.jpg', 'jpeg', 'image/jpeg'],
    ['webp', 'photo_abc123.webp', 'webp', 'image/webp'],
    ['gif', 'photo_abc123.gif', 'gif', 'image/gif'],
  ])('keeps the source format (%s)', async (kind, name, format, type) => {
    const res = await get(url('docs', ids[kind], name, 'thumb=50x50'));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe(type);
    const meta = await sharp(res.body).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual([format, 50, 50]);
  });

  it('is stored at thumbs_<name>/<size>_<name> and served from there the next time', async () => {
    const key = `${collections.docs.id}/${ids.jpg}/thumbs_photo_abc123.jpg/70x30t_photo_abc123.jpg`;
    expect(await t.app.files.stat(key)).toBeNull();
    const before = made.length;
    const first = await get(url('docs', ids.jpg, 'photo_abc123.jpg', 'thumb=70x30t'));
    expect(made.length).toBe(before + 1);
    expect((await t.app.files.stat(key))?.size).toBe(first.body.length);
    const second = await get(url('docs', ids.jpg, 'photo_abc123.jpg', 'thumb=70x30t'));
    expect(made.length).toBe(before + 1);
    expect(second.body.equals(first.body)).toBe(true);
    expect(second.headers.etag).toBe(first.headers.etag);
  });

  it('concurrent first requests for one thumb generate it once', async () => {
    const before = made.length;
    const results = await Promise.all(Array.from({ length: 6 }, () => get(url('docs', ids.webp, 'photo_abc123.webp', 'thumb=40x0'))));
    expect(made.length).toBe(before + 1);
    for (const r of results) {
      expect(r.status).toBe(200);
      expect((await sharp(r.body).metadata()).width).toBe(40);
    }
  });

  it.each(['33x33', '100x100x', 'abc', '0x0', '100X100'])('a size the field does not allow (%s) is a 400 naming the allowed sizes; nothing is generated', async (size) => {
    const before = made.length;
    const res = await get(url('docs', ids.png, 'photo_abc123.png', `thumb=${encodeURIComponent(size)}`));
    expect(res.status).toBe(400);
    const body = JSON.parse(res.body.toString());
    expect(body.message).toBe('Thumb size not allowed.');
    expect(body.data.thumb.code).toBe('validation_invalid_thumb_size');
    expect(body.data.thumb.params.allowed).toEqual(['100x100', ...THUMBS]);
    expect(made.length).toBe(before);
    expect((await t.app.files.list(`${collections.docs.id}/${ids.png}`)).some((k) => k.includes(`/${size}_`))).toBe(false);
  });

  it('a size of another field is not allowed on this one', async () => {
    const res = await get(url('owned', ids.owned, 'cover_abc123.png', 'thumb=20x20'));
    expect(res.status).toBe(400);
  });

  it('a missing file is still a 404 with a bad thumb size', async () => {
    const res = await get(url('docs', ids.png, 'missing_abc123.png', 'thumb=33x33'));
    expect(res.status).toBe(404);
  });

  it('a non-image gets the original for any thumb', async () => {
    const res = await get(url('docs', ids.txt, 'notes_abc123.txt', 'thumb=100x100'));
    expect(res.status).toBe(200);
    expect(res.body.equals(files.txt)).toBe(true);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
  });

  it('an image that cannot be decoded gets the original, no thumb is stored, and it is not retried at once', async () => {
    const before = made.length;
    const res = await get(url('docs', ids.corrupt, 'broken_abc123.png', 'thumb=50x50'));
    expect(made.length).toBe(before + 1);
    expect((await get(url('docs', ids.corrupt, 'broken_abc123.png', 'thumb=50x50'))).body.equals(files.corrupt)).toBe(true);
    expect(made.length).toBe(before + 1);
    expect(res.status).toBe(200);
    expect(res.body.equals(files.corrupt)).toBe(true);
    expect(res.headers['content-disposition']).toBe('inline; filename=broken_abc123.png');
    expect(await t.app.files.list(`${collections.docs.id}/${ids.corrupt}`)).toEqual([`${collections.docs.id}/${ids.corrupt}/broken_abc123.png`]);
  });

  it('a protected file has thumbs too, with a valid token', async () => {
    const { token } = (await send(t, 'POST', '/api/files/token', { auth: alice.token })).body;
    const res = await get(url('owned', ids.owned, 'secret_abc123.png', `thumb=20x20&token=${token}`));
    expect(res.status).toBe(200);
    expect((await sharp(res.body).metadata()).width).toBe(20);
  });
});

describe('headers', () => {
  it('an image: inline, its detected type, PocketBase headers, validators', async () => {
    const res = await get(url('docs', ids.png, 'photo_abc123.png'));
    expect(res.status).toBe(200);
    expect(res.body.equals(files.png)).toBe(true);
    expect(res.headers).toMatchObject({
      'content-type': 'image/png',
      'content-disposition': 'inline; filename=photo_abc123.png',
      'content-security-policy': "default-src 'none'; media-src 'self'; style-src 'unsafe-inline'; sandbox",
      'cache-control': 'max-age=2592000, stale-while-revalidate=86400',
      'x-content-type-options': 'nosniff',
      'accept-ranges': 'bytes',
      'content-length': String(files.png.length),
    });
    expect(res.headers.etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(new Date(String(res.headers['last-modified'])).getTime()).toBeGreaterThan(0);
  });

  it('download=1 forces an attachment (download=0 does not)', async () => {
    expect((await get(url('docs', ids.png, 'photo_abc123.png', 'download=1'))).headers['content-disposition']).toBe('attachment; filename=photo_abc123.png');
    expect((await get(url('docs', ids.png, 'photo_abc123.png', 'download=true'))).headers['content-disposition']).toBe('attachment; filename=photo_abc123.png');
    expect((await get(url('docs', ids.png, 'photo_abc123.png', 'download=0'))).headers['content-disposition']).toBe('inline; filename=photo_abc123.png');
    const thumb = await get(url('docs', ids.png, 'photo_abc123.png', 'thumb=50x50&download=1'));
    expect(thumb.headers['content-disposition']).toBe('attachment; filename=50x50_photo_abc123.png');
  });

  it('a PDF is inline; text is an attachment; SVG is image/svg+xml and an attachment', async () => {
    const pdf = await get(url('docs', ids.pdf, 'paper_abc123.pdf'));
    expect([pdf.headers['content-type'], pdf.headers['content-disposition']]).toEqual(['application/pdf', 'inline; filename=paper_abc123.pdf']);
    const txt = await get(url('docs', ids.txt, 'notes_abc123.txt'));
    expect([txt.headers['content-type'], txt.headers['content-disposition']]).toEqual(['text/plain; charset=utf-8', 'attachment; filename=notes_abc123.txt']);
    const svg = await get(url('docs', ids.svg, 'logo_abc123.svg'));
    expect([svg.headers['content-type'], svg.headers['content-disposition']]).toEqual(['image/svg+xml', 'attachment; filename=logo_abc123.svg']);
    expect(svg.headers['content-security-policy']).toContain('sandbox');
  });

  it('HEAD: the same headers with the length, and no body', async () => {
    const res = await get(url('docs', ids.png, 'photo_abc123.png'), {}, 'HEAD');
    expect(res.status).toBe(200);
    expect(res.headers['content-length']).toBe(String(files.png.length));
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.body.length).toBe(0);
  });

  it('`fields` does not apply to a file', async () => {
    const res = await get(url('docs', ids.png, 'photo_abc123.png', 'fields=id'));
    expect(res.status).toBe(200);
    expect(res.body.equals(files.png)).toBe(true);
  });

  it('every file of a multi-value field is served', async () => {
    expect((await get(url('docs', ids.multi, 'a1_abc123.txt'))).body.toString()).toBe('first');
    expect((await get(url('docs', ids.multi, 'a2_abc123.png'))).body.equals(files.png)).toBe(true);
  });
});

describe('ranges and conditional requests', () => {
  const png = () => url('docs', ids.png, 'photo_abc123.png');

  it('one range: 206 with Content-Range and those bytes', async () => {
    const res = await get(png(), { range: 'bytes=0-9' });
    expect(res.status).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes 0-9/${files.png.length}`);
    expect(res.headers['content-length']).toBe('10');
    expect(res.body.equals(files.png.subarray(0, 10))).toBe(true);
    const tail = await get(png(), { range: 'bytes=-5' });
    expect(tail.status).toBe(206);
    expect(tail.body.equals(files.png.subarray(files.png.length - 5))).toBe(true);
    const open = await get(png(), { range: `bytes=${files.png.length - 3}-` });
    expect(open.body.equals(files.png.subarray(files.png.length - 3))).toBe(true);
    const past = await get(png(), { range: `bytes=10-${files.png.length + 100}` });
    expect(past.headers['content-range']).toBe(`bytes 10-${files.png.length - 1}/${files.png.length}`);
  });

  it('an unsatisfiable range: 416 with Content-Range bytes */size, in the error shape', async () => {
    const res = await get(png(), { range: `bytes=${files.png.length}-` });
    expectApiError(res, 416);
    expect(res.headers['content-range']).toBe(`bytes */${files.png.length}`);
    expect(res.headers['content-disposition']).toBeUndefined();
  });

  it('several ranges, or a malformed one, get the whole file', async () => {
    for (const range of ['bytes=0-1,4-5', 'bytes=abc', 'items=0-1', 'bytes=5-2']) {
      const res = await get(png(), { range });
      expect(res.status, range).toBe(200);
      expect(res.body.equals(files.png)).toBe(true);
    }
  });

  it('If-None-Match with the ETag: 304 without a body; another tag: 200', async () => {
    const { headers } = await get(png());
    const res = await get(png(), { 'if-none-match': String(headers.etag) });
    expect(res.status).toBe(304);
    expect(res.body.length).toBe(0);
    expect(res.headers.etag).toBe(headers.etag);
    expect((await get(png(), { 'if-none-match': `W/${headers.etag}` })).status).toBe(304);
    expect((await get(png(), { 'if-none-match': '"other"' })).status).toBe(200);
  });

  it('If-Modified-Since: 304 when not modified since, 200 otherwise', async () => {
    const { headers } = await get(png());
    expect((await get(png(), { 'if-modified-since': String(headers['last-modified']) })).status).toBe(304);
    expect((await get(png(), { 'if-modified-since': 'Mon, 01 Jan 2001 00:00:00 GMT' })).status).toBe(200);
  });

  it('If-Match with another tag: 412 in the error shape', async () => {
    expectApiError(await get(png(), { 'if-match': '"other"' }), 412);
  });

  it('If-Range with a stale tag gets the whole file', async () => {
    const res = await get(png(), { range: 'bytes=0-9', 'if-range': '"stale"' });
    expect(res.status).toBe(200);
    const { headers } = await get(png());
    expect((await get(png(), { range: 'bytes=0-9', 'if-range': String(headers.etag) })).status).toBe(206);
  });
});

describe('access', () => {
  it.each([
    ['an unknown collection', () => url('nope', ids.png, 'photo_abc123.png')],
    ['an unknown record', () => url('docs', 'nonexistent12345', 'photo_abc123.png')],
    ['a name not in the record', () => url('docs', ids.png, 'other.png')],
    ['a file in storage that the record does not reference', () => url('docs', ids.multi, 'stray_abc123.txt')],
    ['a name of another record', () => url('docs', ids.jpg, 'photo_abc123.png')],
    ['a name with ../ (encoded)', () => url('docs', ids.png, '..%2F..%2Fdata.db')],
    ['a name with ../ (thumb folder)', () => url('docs', ids.png, '..%2Fthumbs_photo_abc123.png%2F50x50_photo_abc123.png')],
    ['a path climbing out', () => `/api/files/docs/${ids.png}/../../../data.db`],
    ['a NUL in the record id', () => url('docs', `${ids.png}%00`, 'photo_abc123.png')],
  ])('%s: 404', async (_name, u) => {
    const res = await get(u());
    expectApiError(res, 404);
  });

  it('the collection may be named by id', async () => {
    expect((await get(url(collections.docs.id, ids.png, 'photo_abc123.png'))).status).toBe(200);
  });

  it('ordinary files are served whatever the viewRule (PocketBase does not check it)', async () => {
    const res = await get(url('locked_docs', ids.locked, 'open_abc123.txt'));
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('open');
    expect((await get(url('owned', ids.owned, 'cover_abc123.png'))).status).toBe(200);
  });

  it('a protected file without a token, with a bad one, or with an auth token: 404', async () => {
    const base = url('owned', ids.owned, 'secret_abc123.png');
    expectApiError(await get(base), 404);
    expectApiError(await get(`${base}?token=not-a-token`), 404);
    expectApiError(await get(`${base}?token=${alice.token}`), 404);
    // The Authorization header is not what protected files look at.
    expectApiError(await get(base, { authorization: alice.token }), 404);
  });

  it('a protected file with an expired file token: 404', async () => {
    const expired = await signRecordToken(systemClock, alice.record, 'file', {}, -10);
    expectApiError(await get(url('owned', ids.owned, 'secret_abc123.png', `token=${expired}`)), 404);
  });

  it('a protected file with the owner’s file token: 200; another user’s token fails the viewRule: 404', async () => {
    const aliceFile = (await send(t, 'POST', '/api/files/token', { auth: alice.token })).body.token;
    const bobFile = (await send(t, 'POST', '/api/files/token', { auth: bob.token })).body.token;
    const ok = await get(url('owned', ids.owned, 'secret_abc123.png', `token=${aliceFile}`));
    expect(ok.status).toBe(200);
    expect(ok.body.equals(files.png)).toBe(true);
    expectApiError(await get(url('owned', ids.owned, 'secret_abc123.png', `token=${bobFile}`)), 404);
  });

  it('a superuser’s file token opens any protected file', async () => {
    const token = (await send(t, 'POST', '/api/files/token', { auth: suToken })).body.token;
    expect((await get(url('owned', ids.owned, 'secret_abc123.png', `token=${token}`))).status).toBe(200);
  });
});

describe('POST /api/files/token', () => {
  it('a guest: 401 in the error shape', async () => {
    const res = await send(t, 'POST', '/api/files/token');
    expect(res.status).toBe(401);
    expect(Object.keys(res.body).sort()).toEqual(['data', 'message', 'status']);
  });

  it('an invalid auth token is a guest: 401', async () => {
    expect((await send(t, 'POST', '/api/files/token', { auth: 'garbage' })).status).toBe(401);
  });

  it('a signed-in user gets a file token of 180 s', async () => {
    const res = await send(t, 'POST', '/api/files/token', { auth: alice.token });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['token']);
    const claims = JSON.parse(Buffer.from(res.body.token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ id: alice.id, type: 'file', collectionId: '_pb_users_auth_' });
    expect(claims.exp - Math.floor(Date.now() / 1000)).toBeGreaterThan(170);
    expect(claims.exp - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(180);
  });

  it('an API key: 403 (it has no record to sign a file token for)', async () => {
    const key = await send(t, 'POST', '/api/keys', { auth: suToken, body: { name: 'files', scopes: [{ collection: 'docs', actions: ['view'] }] } });
    expect(key.status, key.raw).toBe(200);
    const res = await send(t, 'POST', '/api/files/token', { auth: `Bearer ${key.body.key}` });
    expect(res.status).toBe(403);
    expect(Object.keys(res.body).sort()).toEqual(['data', 'message', 'status']);
  });

  it('a file token is not an auth token', async () => {
    const { token } = (await send(t, 'POST', '/api/files/token', { auth: alice.token })).body;
    expect((await send(t, 'POST', '/api/files/token', { auth: token })).status).toBe(401);
  });
});

describe('rate limits', () => {
  it('downloads count against <collection>:file', async () => {
    const set = (enabled: boolean, rules: unknown[]) => send(t, 'PATCH', '/api/settings', { auth: suToken, body: { rateLimits: { enabled, rules } } });
    expect((await set(true, [{ label: 'locked_docs:file', duration: 60, maxRequests: 1 }])).status).toBe(200);
    try {
      expect((await get(url('locked_docs', ids.locked, 'open_abc123.txt'))).status).toBe(200);
      expectApiError(await get(url('locked_docs', ids.locked, 'open_abc123.txt')), 429);
      expect((await get(url('docs', ids.txt, 'notes_abc123.txt'))).status).toBe(200);
    } finally {
      await set(false, []);
    }
  });
});

describe('the PocketBase SDK over a socket', () => {
  let baseURL = '';
  beforeAll(async () => {
    await t.server.listen({ host: '127.0.0.1', port: 0 });
    baseURL = `http://127.0.0.1:${(t.server.server.address() as AddressInfo).port}`;
  });

  it('pb.files.getURL gives a URL that serves the file and its thumb', async () => {
    const pb = new PocketBase(baseURL);
    const record = await pb.collection('docs').getOne(ids.png);
    const plain = await fetch(pb.files.getURL(record, 'photo_abc123.png'));
    expect(plain.status).toBe(200);
    expect(Buffer.from(await plain.arrayBuffer()).equals(files.png)).toBe(true);
    const thumbURL = pb.files.getURL(record, 'photo_abc123.png', { thumb: '50x50' });
    expect(thumbURL).toContain('thumb=50x50');
    const thumb = await fetch(thumbURL);
    expect((await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).width).toBe(50);
    const download = await fetch(pb.files.getURL(record, 'photo_abc123.png', { download: true }));
    expect(download.headers.get('content-disposition')).toBe('attachment; filename=photo_abc123.png');
  });

  it('pb.files.getToken opens a protected file', async () => {
    const pb = new PocketBase(baseURL);
    await pb.collection('users').authWithPassword('alice@example.com', 'alice-password-1');
    const token = await pb.files.getToken();
    const record = { id: ids.owned, collectionId: collections.owned.id, collectionName: 'owned' };
    const res = await fetch(pb.files.getURL(record, 'secret_abc123.png', { token }));
    expect(res.status).toBe(200);
    const without = await fetch(pb.files.getURL(record, 'secret_abc123.png'));
    expect(without.status).toBe(404);
    const guest = new PocketBase(baseURL);
    await expect(guest.files.getToken()).rejects.toMatchObject({ status: 401 });
  });
});
