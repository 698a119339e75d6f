/**
 * File uploads on record create and update (spec §1.2 body modifiers, §1.7 storage layout,
 * §3 file field options), black-box through HTTP: what the client gets back and what is left in
 * storage. Every failed write must leave storage as it was (no orphan uploads, no premature
 * deletes); replaced and removed files go once the write has committed.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transact } from '../../src/core/events/transaction.js';
import { systemCaller } from '../../src/core/records/caller.js';
import { createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';
import { CREATE_FAILED, UPDATE_FAILED, multipart } from './records-helpers.js';

let t: TestApp;
let su = '';
const ids: Record<string, string> = {};

/** A 1×1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"></svg>';
const SUFFIX = '[a-zA-Z0-9]{10}';

type FilePart = { file: string | Buffer; name: string; type?: string };
type Entry = [string, string | FilePart];

/** A multipart body as browsers and the SDK build it (FormData), sent through the real stack. */
async function sendForm(method: 'POST' | 'PATCH', url: string, entries: Entry[], auth = su) {
  const form = new FormData();
  for (const [key, value] of entries) {
    if (typeof value === 'string') form.append(key, value);
    else form.append(key, new Blob([value.file], { type: value.type ?? 'application/octet-stream' }), value.name);
  }
  const request = new Request('http://x', { method: 'POST', body: form });
  const payload = Buffer.from(await request.arrayBuffer());
  const headers: Record<string, string> = { 'content-type': request.headers.get('content-type')! };
  if (auth) headers.authorization = auth;
  const res = await t.server.inject({ method, url, headers, payload });
  return { status: res.statusCode, body: res.json() };
}

const records = (c: string) => `/api/collections/${c}/records`;
const collectionId = (name: string) => t.app.registry.find(name)!.id;
/** Every stored key under a collection (or one record) folder. */
const stored = async (collection: string, recordId?: string) =>
  (await t.app.files.list(recordId ? `${collectionId(collection)}/${recordId}` : collectionId(collection))).sort();
const allKeys = async () => (await t.app.files.list('')).sort();
const keyOf = (collection: string, recordId: string, name: string) => `${collectionId(collection)}/${recordId}/${name}`;
async function content(key: string): Promise<string> {
  const stream = await t.app.files.read(key);
  if (!stream) return '<missing>';
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Runs a failing request and checks that storage holds exactly what it held before. */
async function expectNothingStored<T>(run: () => Promise<T>): Promise<T> {
  const before = await allKeys();
  const result = await run();
  expect(await allKeys()).toEqual(before);
  return result;
}

beforeAll(async () => {
  t = await startTestApp();
  su = (await createSuperuser(t)).token;
  const open = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };
  await createCollection(t, {
    name: 'docs',
    type: 'base',
    ...open,
    fields: [
      { name: 'title', type: 'text' },
      { name: 'n', type: 'number', max: 10 },
      { name: 'slug', type: 'text' },
      { name: 'doc', type: 'file', maxSelect: 1 },
      { name: 'files', type: 'file', maxSelect: 3 },
      { name: 'images', type: 'file', maxSelect: 2, maxSize: 1000, mimeTypes: ['image/png', 'image/jpeg'] },
    ],
    indexes: ['CREATE UNIQUE INDEX `idx_docs_slug` ON `docs` (`slug`) WHERE `slug` != \'\''],
  });
  await createCollection(t, { name: 'guarded', type: 'base', ...open, createRule: "@request.body.title = 'ok'", fields: [{ name: 'title', type: 'text' }, { name: 'doc', type: 'file' }] });
  await createCollection(t, {
    name: 'secretive',
    type: 'base',
    ...open,
    updateRule: "title = 'editable'",
    fields: [{ name: 'title', type: 'text' }, { name: 'doc', type: 'file' }, { name: 'hiddenDoc', type: 'file', hidden: true }],
  });
  await createCollection(t, { name: 'needsfile', type: 'base', ...open, fields: [{ name: 'title', type: 'text' }, { name: 'doc', type: 'file', required: true }] });
  await createCollection(t, { name: 'parents', type: 'base', ...open, fields: [{ name: 'title', type: 'text' }, { name: 'doc', type: 'file' }] });
  await createCollection(t, {
    name: 'children',
    type: 'base',
    ...open,
    fields: [
      { name: 'parent', type: 'relation', collectionId: 'parents', cascadeDelete: true, maxSelect: 1 },
      { name: 'doc', type: 'file' },
    ],
  });
});

afterAll(async () => {
  await t?.close();
});

describe('uploads on create', () => {
  it('stores a single upload under <collectionId>/<recordId>/<sanitised name with suffix>', async () => {
    const res = await sendForm('POST', records('docs'), [
      ['title', 'one'],
      ['doc', { file: SVG, name: 'Logo.SVG', type: 'image/svg+xml' }],
    ]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.doc).toMatch(new RegExp(`^logo_${SUFFIX}\\.svg$`));
    expect(res.body.files).toEqual([]);
    ids.one = res.body.id;
    expect(await stored('docs', ids.one)).toEqual([keyOf('docs', ids.one, res.body.doc)]);
    expect(await content(keyOf('docs', ids.one, res.body.doc))).toBe(SVG);
    const view = await send(t, 'GET', `${records('docs')}/${ids.one}`, { auth: su });
    expect(view.body.doc).toBe(res.body.doc);
  });

  it('stores several files of a multiple field, with the other values in @jsonPayload (as the SDK sends them)', async () => {
    const res = await sendForm('POST', records('docs'), [
      ['@jsonPayload', JSON.stringify({ title: 'multi', n: 3 })],
      ['files', { file: 'first', name: 'alpha.txt' }],
      ['files', { file: 'second', name: 'bravo.txt' }],
    ]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ title: 'multi', n: 3 });
    expect(res.body.files).toHaveLength(2);
    expect(res.body.files[0]).toMatch(new RegExp(`^alpha_${SUFFIX}\\.txt$`));
    expect(res.body.files[1]).toMatch(new RegExp(`^bravo_${SUFFIX}\\.txt$`));
    ids.multi = res.body.id;
    expect(await content(keyOf('docs', ids.multi, res.body.files[0]))).toBe('first');
    expect(await content(keyOf('docs', ids.multi, res.body.files[1]))).toBe('second');
  });

  it('a single-value field keeps the last of several uploads, and stores only that one', async () => {
    const res = await sendForm('POST', records('docs'), [
      ['doc', { file: 'one', name: 'one.txt' }],
      ['doc', { file: 'two', name: 'two.txt' }],
    ]);
    expect(res.status).toBe(200);
    expect(res.body.doc).toMatch(/^two_/);
    expect(await stored('docs', res.body.id)).toEqual([keyOf('docs', res.body.id, res.body.doc)]);
  });

  it('`files+` and `+files` on create', async () => {
    const res = await sendForm('POST', records('docs'), [
      ['files+', { file: 'x', name: 'appended.txt' }],
      ['+files', { file: 'y', name: 'prepended.txt' }],
    ]);
    expect(res.status).toBe(200);
    expect(res.body.files.map((n: string) => n.split('_')[0])).toEqual(['prepended', 'appended']);
  });

  it('a required file field is satisfied by an upload, and refused without one', async () => {
    const missing = await expectNothingStored(() => sendForm('POST', records('needsfile'), [['title', 'x']]));
    expect(missing.status).toBe(400);
    expect(missing.body.data.doc.code).toBe('validation_required');
    const ok = await sendForm('POST', records('needsfile'), [['doc', { file: 'content', name: 'required.txt' }]]);
    expect(ok.status).toBe(200);
    expect(ok.body.doc).toMatch(/^required_/);
  });

  it('plain filenames cannot be invented on create', async () => {
    const res = await expectNothingStored(() => send(t, 'POST', records('docs'), { auth: su, body: { doc: 'passwd' } }));
    expect(res.status).toBe(400);
    expect(res.body.data.doc.code).toBe('validation_invalid_file');
  });
});

describe('uploads on update', () => {
  it('`files+` appends and `+files` prepends uploads', async () => {
    const before = (await send(t, 'GET', `${records('docs')}/${ids.multi}`, { auth: su })).body.files as string[];
    const res = await sendForm('PATCH', `${records('docs')}/${ids.multi}`, [['files+', { file: 'third', name: 'charlie.txt' }]]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.files.slice(0, 2)).toEqual(before);
    expect(res.body.files[2]).toMatch(/^charlie_/);
    expect(await stored('docs', ids.multi)).toHaveLength(3);
  });

  it('going over maxSelect is refused, and the upload is not kept', async () => {
    const res = await expectNothingStored(() => sendForm('PATCH', `${records('docs')}/${ids.multi}`, [['+files', { file: 'fourth', name: 'delta.txt' }]]));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ message: UPDATE_FAILED, data: { files: { code: 'validation_too_many_files', params: { maxSelect: 3 } } } });
  });

  it('`files-` removes the listed names; the files are deleted after the commit', async () => {
    const current = (await send(t, 'GET', `${records('docs')}/${ids.multi}`, { auth: su })).body.files as string[];
    const res = await send(t, 'PATCH', `${records('docs')}/${ids.multi}`, { auth: su, body: { 'files-': [current[0]] } });
    expect(res.status).toBe(200);
    expect(res.body.files).toEqual(current.slice(1));
    expect(await stored('docs', ids.multi)).toEqual(current.slice(1).map((n) => keyOf('docs', ids.multi, n)).sort());
  });

  it('kept names may be listed and reordered next to a new upload under the plain key (merged, not lost)', async () => {
    const current = (await send(t, 'GET', `${records('docs')}/${ids.multi}`, { auth: su })).body.files as string[];
    const res = await sendForm('PATCH', `${records('docs')}/${ids.multi}`, [
      ['files', current[1]],
      ['files', current[0]],
      ['files', { file: 'new', name: 'echo.txt' }],
    ]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.files.slice(0, 2)).toEqual([current[1], current[0]]);
    expect(res.body.files[2]).toMatch(/^echo_/);
    expect(await stored('docs', ids.multi)).toHaveLength(3);
  });

  it('a plain `files` upload without kept names replaces the whole list', async () => {
    const res = await sendForm('PATCH', `${records('docs')}/${ids.multi}`, [['files', { file: 'only', name: 'only.txt' }]]);
    expect(res.status).toBe(200);
    expect(res.body.files).toHaveLength(1);
    expect(await stored('docs', ids.multi)).toEqual([keyOf('docs', ids.multi, res.body.files[0])]);
  });

  it('a new upload to a single field replaces the old file, which goes after the commit with its thumbnails', async () => {
    const old = (await send(t, 'GET', `${records('docs')}/${ids.one}`, { auth: su })).body.doc as string;
    await t.app.files.put(`${collectionId('docs')}/${ids.one}/thumbs_${old}/100x100_${old}`, Buffer.from('thumb'), 'image/png');
    const res = await sendForm('PATCH', `${records('docs')}/${ids.one}`, [['doc', { file: PNG, name: 'new.png', type: 'image/png' }]]);
    expect(res.status).toBe(200);
    expect(res.body.doc).toMatch(new RegExp(`^new_${SUFFIX}\\.png$`));
    expect(await stored('docs', ids.one)).toEqual([keyOf('docs', ids.one, res.body.doc)]);
  });

  it('`doc+` on a single field also replaces', async () => {
    const old = (await send(t, 'GET', `${records('docs')}/${ids.one}`, { auth: su })).body.doc as string;
    const res = await sendForm('PATCH', `${records('docs')}/${ids.one}`, [['doc+', { file: 'text', name: 'plus.txt' }]]);
    expect(res.status).toBe(200);
    expect(res.body.doc).toMatch(/^plus_/);
    expect(await t.app.files.stat(keyOf('docs', ids.one, old))).toBeNull();
  });

  it('a failing update keeps the old file and stores nothing new', async () => {
    const old = (await send(t, 'GET', `${records('docs')}/${ids.one}`, { auth: su })).body.doc as string;
    const res = await expectNothingStored(() =>
      sendForm('PATCH', `${records('docs')}/${ids.one}`, [
        ['n', '100'],
        ['doc', { file: 'replacement', name: 'required.txt' }],
      ]),
    );
    expect(res.status).toBe(400);
    expect(res.body.data.n.code).toBeDefined();
    expect((await send(t, 'GET', `${records('docs')}/${ids.one}`, { auth: su })).body.doc).toBe(old);
    expect(await t.app.files.stat(keyOf('docs', ids.one, old))).not.toBeNull();
  });

  it('removal by setting "" (single) and [] (multiple), in JSON', async () => {
    const created = await sendForm('POST', records('docs'), [
      ['doc', { file: 'a', name: 'alpha.txt' }],
      ['files', { file: 'b', name: 'bravo.txt' }],
      ['files', { file: 'c', name: 'charlie.txt' }],
    ]);
    const id = created.body.id;
    expect(await stored('docs', id)).toHaveLength(3);
    const res = await send(t, 'PATCH', `${records('docs')}/${id}`, { auth: su, body: { doc: '', files: [] } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ doc: '', files: [] });
    expect(await stored('docs', id)).toEqual([]);
  });

  it('removal by null, in @jsonPayload', async () => {
    const created = await sendForm('POST', records('docs'), [['files', { file: 'b', name: 'bravo.txt' }]]);
    const id = created.body.id;
    const res = await sendForm('PATCH', `${records('docs')}/${id}`, [['@jsonPayload', JSON.stringify({ files: null, title: 'cleared' })]]);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ files: [], title: 'cleared' });
    expect(await stored('docs', id)).toEqual([]);
  });
});

describe('concurrent writes', () => {
  it('parallel replacements of a single file leave exactly the final one stored', async () => {
    const created = await sendForm('POST', records('docs'), [['doc', { file: 'start', name: 'start.txt' }]]);
    const id = created.body.id;
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => sendForm('PATCH', `${records('docs')}/${id}`, [['doc', { file: `v${i}`, name: `version${i}.txt` }]])),
    );
    for (const r of results) expect(r.status, JSON.stringify(r.body)).toBe(200);
    const final = (await send(t, 'GET', `${records('docs')}/${id}`, { auth: su })).body.doc;
    expect(await stored('docs', id)).toEqual([keyOf('docs', id, final)]);
  });
});

describe('failed writes store nothing', () => {
  it('another field invalid', async () => {
    const res = await expectNothingStored(() =>
      sendForm('POST', records('docs'), [
        ['n', '11'],
        ['doc', { file: 'x', name: 'x.txt' }],
      ]),
    );
    expect(res.status).toBe(400);
    expect(res.body.message).toBe(CREATE_FAILED);
  });

  it('the create rule fails', async () => {
    const res = await expectNothingStored(() =>
      sendForm('POST', records('guarded'), [
        ['title', 'no'],
        ['doc', { file: 'x', name: 'x.txt' }],
      ], ''),
    );
    expect(res.status).toBe(400);
    expect(res.body.message).toBe(CREATE_FAILED);
    const ok = await sendForm('POST', records('guarded'), [['title', 'ok'], ['doc', { file: 'x', name: 'x.txt' }]], '');
    expect(ok.status).toBe(200);
  });

  it('a unique violation, found by the database after the files were written', async () => {
    const first = await sendForm('POST', records('docs'), [['slug', 'dup'], ['doc', { file: 'x', name: 'x.txt' }]]);
    expect(first.status).toBe(200);
    const folders = () => readdirSync(join(t.config.dataDir, 'storage', collectionId('docs'))).sort();
    const foldersBefore = folders();
    const res = await expectNothingStored(() => sendForm('POST', records('docs'), [['slug', 'dup'], ['doc', { file: 'y', name: 'y.txt' }]]));
    expect(res.status).toBe(400);
    expect(res.body.data.slug.code).toBe('validation_not_unique');
    // The first record's file is untouched, and no empty folder is left for the record that never was (local disk).
    expect(await stored('docs', first.body.id)).toEqual([keyOf('docs', first.body.id, first.body.doc)]);
    expect(folders()).toEqual(foldersBefore);
  });

  it('a custom id that is taken: the existing record keeps its files', async () => {
    const first = await sendForm('POST', records('docs'), [['id', 'takenid00000001'], ['doc', { file: 'x', name: 'x.txt' }]]);
    expect(first.status).toBe(200);
    const res = await expectNothingStored(() => sendForm('POST', records('docs'), [['id', 'takenid00000001'], ['doc', { file: 'y', name: 'y.txt' }]]));
    expect(res.status).toBe(400);
    expect(await stored('docs', 'takenid00000001')).toEqual([keyOf('docs', 'takenid00000001', first.body.doc)]);
  });

  it('over maxSize', async () => {
    const res = await expectNothingStored(() => sendForm('POST', records('docs'), [['images', { file: Buffer.concat([PNG, Buffer.alloc(1000)]), name: 'big.png', type: 'image/png' }]]));
    expect(res.status).toBe(400);
    expect(res.body.data.images).toMatchObject({ code: 'validation_file_size_limit', params: { maxSize: 1000 } });
  });

  it('over the default 5 MiB when maxSize is 0', async () => {
    const res = await expectNothingStored(() => sendForm('POST', records('docs'), [['doc', { file: Buffer.alloc((5 << 20) + 1, 'a'), name: 'big.txt' }]]));
    expect(res.status).toBe(400);
    expect(res.body.data.doc).toMatchObject({ code: 'validation_file_size_limit', params: { maxSize: 5 << 20 } });
  });

  it('a disguised file (HTML named x.png, claiming image/png) is refused by a field that only takes images', async () => {
    const res = await expectNothingStored(() =>
      sendForm('POST', records('docs'), [['images', { file: '<html><script>alert(1)</script></html>', name: 'x.png', type: 'image/png' }]]),
    );
    expect(res.status).toBe(400);
    expect(res.body.data.images.code).toBe('validation_invalid_mime_type');
  });

  it('a real PNG passes whatever the client claims', async () => {
    const res = await sendForm('POST', records('docs'), [['images', { file: PNG, name: 'photo.png', type: 'text/plain' }]]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.images[0]).toMatch(/^photo_.*\.png$/);
  });

  it('an SVG is not an image/png', async () => {
    const res = await expectNothingStored(() => sendForm('POST', records('docs'), [['images', { file: SVG, name: 'x.png', type: 'image/png' }]]));
    expect(res.status).toBe(400);
    expect(res.body.data.images.code).toBe('validation_invalid_mime_type');
  });

  it('an empty file part', async () => {
    const res = await expectNothingStored(() => sendForm('POST', records('docs'), [['doc', { file: '', name: 'empty.txt' }]]));
    expect(res.status).toBe(400);
    expect(res.body.data.doc.code).toBe('validation_file_empty');
  });

  it('a file part for an unknown field', async () => {
    const res = await expectNothingStored(() => sendForm('POST', records('docs'), [['nope', { file: 'x', name: 'x.txt' }]]));
    expect(res.status).toBe(400);
    expect(res.body.data.nope.code).toBe('validation_unknown_field');
  });

  it('a file part for a field that is not a file field', async () => {
    const res = await expectNothingStored(() => sendForm('POST', records('docs'), [['title', { file: 'x', name: 'x.txt' }]]));
    expect(res.status).toBe(400);
    expect(res.body.data.title.code).toBe('validation_invalid_value');
  });

  it('a file part named `field-`', async () => {
    const res = await expectNothingStored(() => sendForm('POST', records('docs'), [['files-', { file: 'x', name: 'x.txt' }]]));
    expect(res.status).toBe(400);
    expect(res.body.data['files-'].code).toBe('validation_invalid_value');
  });

  it('multipart without a boundary', async () => {
    const res = await expectNothingStored(() =>
      send(t, 'POST', records('docs'), { auth: su, body: '--x\r\nContent-Disposition: form-data; name="title"\r\n\r\nx\r\n--x--\r\n', headers: { 'content-type': 'multipart/form-data' } }),
    );
    expect(res.status).toBe(400);
    expect(Object.keys(res.body).sort()).toEqual(['data', 'message', 'status']);
  });

  it('a truncated multipart body', async () => {
    const { body, headers } = multipart([['doc', { filename: 'x.txt', contentType: 'text/plain', content: 'hello' }]]);
    const res = await expectNothingStored(() => send(t, 'POST', records('docs'), { auth: su, body: body.slice(0, body.length - 30), headers }));
    expect(res.status).toBe(400);
    expect(Object.keys(res.body).sort()).toEqual(['data', 'message', 'status']);
  });

  it('a write inside an outer transaction that later rolls back (a batch): its files are removed', async () => {
    const c = t.app.registry.find('docs')!;
    const before = await allKeys();
    let storedKey = '';
    await expect(
      transact(t.app.db, async (tx) => {
        const r = await t.app.records.writer.create(c, { data: {}, files: [{ field: 'doc', filename: 'batch.txt', mimetype: 'text/plain', data: Buffer.from('batch') }] }, systemCaller(), tx);
        storedKey = keyOf('docs', String(r.values.id), String(r.values.doc));
        // Written while the transaction is open…
        expect(await t.app.files.stat(storedKey)).not.toBeNull();
        throw new Error('a later request of the batch failed');
      }),
    ).rejects.toThrow('a later request');
    // …and gone with its rollback.
    expect(storedKey).not.toBe('');
    expect(await allKeys()).toEqual(before);
  });

  it('a replace inside an outer transaction that rolls back keeps the old file', async () => {
    const c = t.app.registry.find('docs')!;
    const record = await t.app.records.writer.create(c, { data: {}, files: [{ field: 'doc', filename: 'keep.txt', mimetype: 'text/plain', data: Buffer.from('keep') }] }, systemCaller());
    const id = String(record.values.id);
    const before = await allKeys();
    await expect(
      transact(t.app.db, async (tx) => {
        await t.app.records.writer.update(c, id, { data: {}, files: [{ field: 'doc', filename: 'new.txt', mimetype: 'text/plain', data: Buffer.from('new') }] }, systemCaller(), tx);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await allKeys()).toEqual(before);
    expect(await content(keyOf('docs', id, String(record.values.doc)))).toBe('keep');
  });
});

describe('rules and hidden fields', () => {
  it('an update the updateRule refuses (404) stores nothing and keeps the old file', async () => {
    const created = await sendForm('POST', records('secretive'), [['title', 'locked'], ['doc', { file: 'old', name: 'old.txt' }]], '');
    expect(created.status).toBe(200);
    const res = await expectNothingStored(() => sendForm('PATCH', `${records('secretive')}/${created.body.id}`, [['doc', { file: 'new', name: 'new.txt' }]], ''));
    expect(res.status).toBe(404);
    expect(await stored('secretive', created.body.id)).toEqual([keyOf('secretive', created.body.id, created.body.doc)]);
  });

  it('uploads to a hidden field are ignored for non-superusers, and stored for superusers', async () => {
    const guest = await sendForm('POST', records('secretive'), [['title', 'g'], ['hiddenDoc', { file: 'h', name: 'hidden.txt' }]], '');
    expect(guest.status).toBe(200);
    expect(await stored('secretive', guest.body.id)).toEqual([]);
    const admin = await sendForm('POST', records('secretive'), [['title', 'a'], ['hiddenDoc', { file: 'h', name: 'hidden.txt' }]]);
    expect(admin.status).toBe(200);
    expect(admin.body.hiddenDoc).toMatch(/^hidden_/);
    expect(await stored('secretive', admin.body.id)).toHaveLength(1);
  });
});

describe('stored names', () => {
  it('unicode, spaces and case are reduced to a safe snake_case name with a lowercase extension', async () => {
    const res = await sendForm('POST', records('docs'), [['doc', { file: 'x', name: 'My Résumé (final) 2024.TXT' }]]);
    expect(res.status).toBe(200);
    expect(res.body.doc).toMatch(new RegExp(`^my_resume_final_2024_${SUFFIX}\\.txt$`));
  });

  it('a name without an extension gets the detected one', async () => {
    const res = await sendForm('POST', records('docs'), [['doc', { file: PNG, name: 'picture' }]]);
    expect(res.body.doc).toMatch(new RegExp(`^picture_${SUFFIX}\\.png$`));
  });

  for (const name of ['../../etc/passwd', '..\\..\\windows\\win.ini', '.htaccess', '..', '/abs/path.txt', 'a\u0000b.txt', 'x'.repeat(300) + '.txt']) {
    it(`a forged filename ${JSON.stringify(name.slice(0, 40))} cannot leave the record folder`, async () => {
      // Hand-built, so the filename reaches the server exactly as written.
      const { body, headers } = multipart([['doc', { filename: name, contentType: 'text/plain', content: 'payload' }]]);
      const res = await send(t, 'POST', records('docs'), { auth: su, body, headers });
      expect(res.status, res.raw).toBe(200);
      const stored = res.body.doc as string;
      expect(stored).not.toMatch(/[/\\\0]|\.\./);
      expect(stored.startsWith('.')).toBe(false);
      expect(stored.length).toBeLessThanOrEqual(150);
      expect(stored).toMatch(new RegExp(`_${SUFFIX}(\\.[a-z0-9]+){0,2}$`));
      expect(await allKeys()).toContain(keyOf('docs', res.body.id, stored));
    });
  }
});

describe('deletes', () => {
  it('deleting a record removes its folder', async () => {
    const created = await sendForm('POST', records('docs'), [['files', { file: 'a', name: 'alpha.txt' }], ['files', { file: 'b', name: 'bravo.txt' }]]);
    const id = created.body.id;
    await t.app.files.put(`${collectionId('docs')}/${id}/thumbs_${created.body.files[0]}/100x100_${created.body.files[0]}`, Buffer.from('t'), 'image/png');
    expect(await stored('docs', id)).toHaveLength(3);
    const res = await send(t, 'DELETE', `${records('docs')}/${id}`, { auth: su });
    expect(res.status).toBe(204);
    expect(await stored('docs', id)).toEqual([]);
  });

  it('a cascade delete removes the related records’ files too', async () => {
    const parent = await sendForm('POST', records('parents'), [['doc', { file: 'p', name: 'p.txt' }]]);
    const child = await sendForm('POST', records('children'), [['parent', parent.body.id], ['doc', { file: 'c', name: 'charlie.txt' }]]);
    expect(child.status, JSON.stringify(child.body)).toBe(200);
    expect(await stored('children', child.body.id)).toHaveLength(1);
    const res = await send(t, 'DELETE', `${records('parents')}/${parent.body.id}`, { auth: su });
    expect(res.status).toBe(204);
    expect(await stored('parents', parent.body.id)).toEqual([]);
    expect(await stored('children', child.body.id)).toEqual([]);
  });

  it('truncating a collection removes its files (and those of cascaded records)', async () => {
    const parent = await sendForm('POST', records('parents'), [['doc', { file: 'p', name: 'p.txt' }]]);
    const child = await sendForm('POST', records('children'), [['parent', parent.body.id], ['doc', { file: 'c', name: 'charlie.txt' }]]);
    expect(await stored('parents')).not.toEqual([]);
    const res = await send(t, 'DELETE', '/api/collections/parents/truncate', { auth: su });
    expect(res.status).toBe(204);
    expect(await stored('parents')).toEqual([]);
    expect(await stored('children', child.body.id)).toEqual([]);
  });

  it('deleting a collection removes its files', async () => {
    await createCollection(t, { name: 'doomed', type: 'base', listRule: '', createRule: '', fields: [{ name: 'doc', type: 'file' }] });
    const id = collectionId('doomed');
    const created = await sendForm('POST', records('doomed'), [['doc', { file: 'd', name: 'delta.txt' }]]);
    expect(created.status).toBe(200);
    expect(await t.app.files.list(id)).toHaveLength(1);
    const res = await send(t, 'DELETE', '/api/collections/doomed', { auth: su });
    expect(res.status).toBe(204);
    expect(await t.app.files.list(id)).toEqual([]);
  });

  it('a refused delete keeps the files', async () => {
    await createCollection(t, {
      name: 'holders',
      type: 'base',
      listRule: '',
      createRule: '',
      fields: [{ name: 'target', type: 'relation', collectionId: 'docs', required: true, maxSelect: 1 }],
    });
    const target = await createRecord(t, 'docs', {});
    const withFile = await sendForm('PATCH', `${records('docs')}/${target.values.id}`, [['doc', { file: 'kept', name: 'kept.txt' }]]);
    await createRecord(t, 'holders', { target: target.values.id });
    const res = await expectNothingStored(() => send(t, 'DELETE', `${records('docs')}/${target.values.id}`, { auth: su }));
    expect(res.status).toBe(400);
    expect(await content(keyOf('docs', String(target.values.id), withFile.body.doc))).toBe('kept');
  });
});

describe('body limit', () => {
  let small: TestApp;
  beforeAll(async () => {
    small = await startTestApp({ config: { bodyLimit: 64 << 10 } });
    await createCollection(small, { name: 'big', type: 'base', createRule: '', fields: [{ name: 'doc', type: 'file', maxSize: 256 << 10 }] });
    await createCollection(small, { name: 'plain', type: 'base', createRule: '', fields: [{ name: 'title', type: 'text' }] });
  });
  afterAll(async () => {
    await small?.close();
  });

  const post = async (collection: string, bytes: number) => {
    const { body, headers } = multipart([['doc', { filename: 'big.txt', contentType: 'text/plain', content: 'a'.repeat(bytes) }]]);
    return send(small, 'POST', records(collection), { body, headers });
  };

  it('a collection with file fields makes room for their uploads beyond the server limit', async () => {
    const res = await post('big', 200 << 10);
    expect(res.status, res.raw.slice(0, 300)).toBe(200);
  });

  it('beyond that room, the body is too large (413) and nothing is stored', async () => {
    const res = await post('big', 400 << 10);
    expect(res.status).toBe(413);
    expect(await small.app.files.list('')).toHaveLength(1);
  });

  it('a file far over its field\'s maxSize but within the body limit: 400 validation_file_size_limit, not 413', async () => {
    await createCollection(small, { name: 'tiny', type: 'base', createRule: '', updateRule: '', fields: [{ name: 'doc', type: 'file', maxSize: 100 }] });
    const before = await small.app.files.list('');
    // 60 KiB: fits the 64 KiB server limit (+100 bytes of room), 600 times the field's maxSize.
    const res = await post('tiny', 60 << 10);
    expect(res.status, res.raw.slice(0, 300)).toBe(400);
    expect(res.body).toEqual({
      status: 400,
      message: 'Failed to create record.',
      data: {
        doc: {
          code: 'validation_file_size_limit',
          message: 'Failed to upload big.txt - the maximum allowed file size is 100 bytes.',
          params: { file: 'big.txt', maxSize: 100 },
        },
      },
    });
    expect(await small.app.files.list('')).toEqual(before);
    // The same field takes a file within its maxSize.
    expect((await post('tiny', 100)).status).toBe(200);
  });

  it('an oversize file on update is the same 400', async () => {
    const created = await send(small, 'POST', records('tiny'), { body: {} });
    expect(created.status, created.raw).toBe(200);
    const { body, headers } = multipart([['doc', { filename: 'big.txt', contentType: 'text/plain', content: 'a'.repeat(10 << 10) }]]);
    const res = await send(small, 'PATCH', `${records('tiny')}/${created.body.id}`, { body, headers });
    expect(res.status, res.raw.slice(0, 300)).toBe(400);
    expect(res.body.data.doc).toMatchObject({ code: 'validation_file_size_limit', params: { maxSize: 100 } });
  });

  it('a chunked body (no Content-Length) is counted while read, discarded file bytes included: 413', async () => {
    const { body, headers } = multipart([['doc', { filename: 'big.txt', contentType: 'text/plain', content: 'a'.repeat(400 << 10) }]]);
    const res = await send(small, 'POST', records('tiny'), { body, headers: { ...headers, 'transfer-encoding': 'chunked' } });
    expect(res.status, res.raw.slice(0, 300)).toBe(413);
  });

  it('a collection without file fields keeps the server limit', async () => {
    const res = await post('plain', 100 << 10);
    expect(res.status).toBe(413);
  });
});

describe('review regressions', () => {
  it('a taken custom id never costs the existing record files named like temporary files (*.tmp)', async () => {
    const first = await sendForm('POST', records('docs'), [['id', 'tmpvictim000001'], ['doc', { file: 'keep me', name: 'backup.tmp' }]]);
    expect(first.status).toBe(200);
    expect(first.body.doc).toMatch(/\.tmp$/);
    const res = await sendForm('POST', records('docs'), [['id', 'tmpvictim000001'], ['doc', { file: 'intruder', name: 'x.txt' }]], '');
    expect(res.status).toBe(400);
    expect(await content(keyOf('docs', 'tmpvictim000001', first.body.doc))).toBe('keep me');
  });

  it('a batch deleting a record and creating one with the same id keeps the new files', async () => {
    expect((await send(t, 'PATCH', '/api/settings', { auth: su, body: { batch: { enabled: true } } })).status).toBe(200);
    const old = await sendForm('POST', records('docs'), [['id', 'sameid000000001'], ['doc', { file: 'old', name: 'old.txt' }]]);
    expect(old.status).toBe(200);
    const res = await sendForm('POST', '/api/batch', [
      [
        '@jsonPayload',
        JSON.stringify({
          requests: [
            { method: 'DELETE', url: '/api/collections/docs/records/sameid000000001' },
            { method: 'POST', url: '/api/collections/docs/records', body: { id: 'sameid000000001' } },
          ],
        }),
      ],
      ['requests.1.doc', { file: 'new', name: 'new.txt' }],
    ]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const name = res.body[1].body.doc;
    expect(await stored('docs', 'sameid000000001')).toEqual([keyOf('docs', 'sameid000000001', name)]);
    expect(await content(keyOf('docs', 'sameid000000001', name))).toBe('new');
  });

  it('a guest posting files to a superusers-only collection is refused (403) before the body is read', async () => {
    await createCollection(t, { name: 'lockedfiles', type: 'base', fields: [{ name: 'doc', type: 'file', maxSize: 100 << 20 }] });
    const res = await expectNothingStored(() => sendForm('POST', records('lockedfiles'), [['doc', { file: Buffer.alloc(1 << 20), name: 'big.bin' }]], ''));
    expect(res.status).toBe(403);
  });

  it('a part larger than any file the collection accepts (but within the body limit) is the field\'s 400, as in PocketBase', async () => {
    const res = await expectNothingStored(() => sendForm('POST', records('docs'), [['title', 'x'], ['files', { file: Buffer.alloc((5 << 20) + 2, 'a'), name: 'huge.txt' }]]));
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.data).toEqual({
      files: {
        code: 'validation_file_size_limit',
        message: 'Failed to upload huge.txt - the maximum allowed file size is 5242880 bytes.',
        params: { file: 'huge.txt', maxSize: 5 << 20 },
      },
    });
  });

  it('content sniffed as video but named .svg is served as SVG, and so as an attachment', async () => {
    const mp4Head = Buffer.from('000000186674797069736f6d0000020069736f6d69736f32', 'hex');
    // An ISO-BMFF header (sniffed as video/mp4, which may be shown inline) in front of markup.
    const svg = Buffer.concat([mp4Head, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')]);
    const up = await sendForm('POST', records('docs'), [['doc', { file: svg, name: 'evil.svg', type: 'image/svg+xml' }]]);
    expect(up.status).toBe(200);
    const res = await t.server.inject({ method: 'GET', url: `/api/files/docs/${up.body.id}/${up.body.doc}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/svg+xml');
    expect(String(res.headers['content-disposition'])).toMatch(/^attachment/);
    expect(res.headers['content-security-policy']).toContain('sandbox');
  });

  it('storing an upload holds no database lock: another write completes while the file is still being written', async () => {
    const inner = t.app.files;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let putStarted!: () => void;
    const started = new Promise<void>((resolve) => (putStarted = resolve));
    const slow = await startTestApp({
      deps: {
        files: Object.assign(Object.create(inner) as typeof inner, {
          async put(key: string, data: Buffer, type: string) {
            putStarted();
            await gate;
            return inner.put.call(inner, key, data, type);
          },
        }),
      },
    });
    try {
      const token = (await createSuperuser(slow)).token;
      await createCollection(slow, { name: 'uploads', type: 'base', fields: [{ name: 'doc', type: 'file' }] });
      await createCollection(slow, { name: 'notes', type: 'base', fields: [{ name: 'body', type: 'text' }] });
      const form = new FormData();
      form.append('doc', new Blob(['slow file']), 'slow.txt');
      const request = new Request('http://x', { method: 'POST', body: form });
      const upload = slow.server.inject({
        method: 'POST',
        url: '/api/collections/uploads/records',
        headers: { 'content-type': request.headers.get('content-type')!, authorization: token },
        payload: Buffer.from(await request.arrayBuffer()),
      });
      await started;
      const other = await send(slow, 'POST', '/api/collections/notes/records', { auth: token, body: { body: 'not blocked' } });
      expect(other.status, other.raw).toBe(200);
      release();
      expect((await upload).statusCode).toBe(200);
    } finally {
      release();
      await slow.close();
    }
  });
});
