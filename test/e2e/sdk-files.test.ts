/**
 * End-to-end: file uploads through the official PocketBase JS SDK (0.28) over a loopback socket.
 * The SDK turns a body holding Blobs into multipart, with the other values in `@jsonPayload`;
 * `field+` and `field-` work as its docs show ("Uploading files").
 */
import PocketBase, { ClientResponseError } from 'pocketbase';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollection, createSuperuser } from '../harness/fixtures.js';
import { listenOnLoopback, startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let pb: PocketBase;
let collectionId = '';

const keysOf = async (recordId: string) => (await t.app.files.list(`${collectionId}/${recordId}`)).map((k) => k.split('/').pop()).sort();

beforeAll(async () => {
  t = await startTestApp();
  pb = new PocketBase(await listenOnLoopback(t));
  pb.autoCancellation(false);
  const su = await createSuperuser(t);
  pb.authStore.save(su.token, { id: String(su.record.values.id), collectionId: 'pbc_3142635823', collectionName: '_superusers' });
  const c = await createCollection(t, {
    name: 'library',
    type: 'base',
    listRule: '',
    viewRule: '',
    createRule: '',
    updateRule: '',
    deleteRule: '',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'count', type: 'number' },
      { name: 'cover', type: 'file', maxSelect: 1, mimeTypes: ['image/png'] },
      { name: 'docs', type: 'file', maxSelect: 5 },
    ],
  });
  collectionId = c.id;
});

afterAll(async () => {
  await t?.close();
});

describe('SDK uploads', () => {
  let id = '';
  let names: string[] = [];

  it('create({title, docs: [File, File]}) uploads both, the other values arriving through @jsonPayload', async () => {
    const record = await pb.collection('library').create({
      title: 'Hello world!',
      count: 3,
      docs: [new File(['content 1...'], 'file1.txt'), new File(['content 2...'], 'file2.txt')],
    });
    expect(record).toMatchObject({ title: 'Hello world!', count: 3, collectionName: 'library' });
    expect(record.docs).toHaveLength(2);
    expect(record.docs[0]).toMatch(/^file1_[a-zA-Z0-9]{10}\.txt$/);
    id = record.id;
    names = record.docs;
    expect(await keysOf(id)).toEqual([...names].sort());
  });

  it('a bare Blob (no name) is stored too', async () => {
    const record = await pb.collection('library').create({ title: 'blob', docs: new Blob(['just bytes']) });
    expect(record.docs).toHaveLength(1);
    expect(record.docs[0]).toMatch(/^blob_[a-zA-Z0-9]{10}\.txt$/);
  });

  it("update(id, {'docs+': blob}) appends", async () => {
    const record = await pb.collection('library').update(id, { 'docs+': new File(['content 3...'], 'file3.txt') });
    expect(record.docs.slice(0, 2)).toEqual(names);
    expect(record.docs[2]).toMatch(/^file3_/);
    names = record.docs;
    expect(await keysOf(id)).toEqual([...names].sort());
  });

  it("update(id, {'docs-': [name]}) removes the file from the record and from storage", async () => {
    const record = await pb.collection('library').update(id, { 'docs-': [names[0]] });
    expect(record.docs).toEqual(names.slice(1));
    expect(await keysOf(id)).toEqual(names.slice(1).sort());
    names = record.docs;
  });

  it("update(id, {docs: []}) removes them all", async () => {
    const record = await pb.collection('library').update(id, { docs: [] });
    expect(record.docs).toEqual([]);
    expect(await keysOf(id)).toEqual([]);
  });

  it('a refused upload is a ClientResponseError with the field error, and stores nothing', async () => {
    const before = await t.app.files.list('');
    let caught: unknown;
    try {
      await pb.collection('library').create({ title: 'fake', cover: new File(['<html><body>not a png</body></html>'], 'cover.png', { type: 'image/png' }) });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ClientResponseError);
    const err = caught as ClientResponseError;
    expect(err.status).toBe(400);
    expect(err.response.data.cover.code).toBe('validation_invalid_mime_type');
    expect((await t.app.files.list('')).sort()).toEqual(before.sort());
  });

  it('deleting the record removes its files', async () => {
    const record = await pb.collection('library').create({ docs: new File(['x'], 'gone.txt') });
    expect(await keysOf(record.id)).toHaveLength(1);
    await pb.collection('library').delete(record.id);
    expect(await keysOf(record.id)).toEqual([]);
  });
});
