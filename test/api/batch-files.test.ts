/**
 * Files inside a batch (spec §1.5): parts named `requests.N.field` or `requests[N].field` reach
 * request N as uploads of `field` (`field+` appends), stored like a direct upload; a batch that
 * rolls back stores nothing the records point to.
 *
 * NB: pending the uploads feature. The batch route hands the parts to the record writer
 * (WriteInput.files); until the writer stores files this suite fails, and it is left out of the
 * batch branch's runs. It is written against the behaviour expected once uploads are merged.
 */
import type { AddressInfo } from 'node:net';
import PocketBase from 'pocketbase';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollection, createSuperuser } from '../harness/fixtures.js';
import { formBody, type FormPart } from '../harness/form-body.js';
import { send } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let su = '';
let docsId = '';

beforeAll(async () => {
  t = await startTestApp();
  su = (await createSuperuser(t)).token;
  const docs = await createCollection(t, {
    name: 'docs',
    type: 'base',
    listRule: '',
    viewRule: '',
    createRule: '',
    updateRule: '',
    fields: [
      { name: 'title', type: 'text', required: true },
      { name: 'doc', type: 'file', maxSelect: 1, maxSize: 1 << 20 },
      { name: 'attachments', type: 'file', maxSelect: 5, maxSize: 1 << 20 },
    ],
  });
  docsId = String(docs.id);
  expect((await send(t, 'PATCH', '/api/settings', { auth: su, body: { batch: { enabled: true } } })).status).toBe(200);
});

afterAll(async () => {
  await t?.close();
});

/** The batch body with the caller's auth; file parts claim text/plain. */
function multipart(parts: FormPart[]) {
  const { payload, headers } = formBody(parts.map((p) => (p.filename ? { type: 'text/plain', ...p } : p)));
  return { payload, headers: { ...headers, authorization: su } };
}

async function storedText(recordId: string, filename: string): Promise<string> {
  const keys = await t.app.files.list(`${docsId}/${recordId}`);
  expect(keys).toContain(`${docsId}/${recordId}/${filename}`);
  const stream = await t.app.files.read(`${docsId}/${recordId}/${filename}`);
  const chunks: Buffer[] = [];
  for await (const c of stream!) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
}

describe('files in a batch', () => {
  it('requests.N.field and requests[N].field go to request N; field+ appends', async () => {
    const { payload, headers } = multipart([
      {
        name: '@jsonPayload',
        value: JSON.stringify({
          requests: [
            { method: 'POST', url: '/api/collections/docs/records', body: { id: 'batchdoc0000001', title: 'one' } },
            { method: 'POST', url: '/api/collections/docs/records', body: { id: 'batchdoc0000002', title: 'two' } },
          ],
        }),
      },
      { name: 'requests.0.doc', value: 'first file', filename: 'first.txt' },
      { name: 'requests[1].attachments+', value: 'second file', filename: 'second.txt' },
    ]);
    const res = await t.server.inject({ method: 'POST', url: '/api/batch', headers, payload });
    expect(res.statusCode, res.body).toBe(200);
    const [one, two] = JSON.parse(res.body) as { status: number; body: Record<string, any> }[];
    expect(one.body.doc).toMatch(/^first.*\.txt$/);
    expect(one.body.attachments).toEqual([]);
    expect(two.body.doc).toBe('');
    expect(two.body.attachments).toHaveLength(1);
    expect(await storedText('batchdoc0000001', one.body.doc)).toBe('first file');
    expect(await storedText('batchdoc0000002', two.body.attachments[0])).toBe('second file');
  });

  it('a batch that rolls back leaves no record and no stored file', async () => {
    const { payload, headers } = multipart([
      {
        name: '@jsonPayload',
        value: JSON.stringify({
          requests: [
            { method: 'POST', url: '/api/collections/docs/records', body: { id: 'batchdoc0000003', title: 'kept?' } },
            { method: 'POST', url: '/api/collections/docs/records', body: {} },
          ],
        }),
      },
      { name: 'requests.0.doc', value: 'orphan', filename: 'orphan.txt' },
    ]);
    const res = await t.server.inject({ method: 'POST', url: '/api/batch', headers, payload });
    expect(res.statusCode, res.body).toBe(400);
    expect((await send(t, 'GET', '/api/collections/docs/records/batchdoc0000003', { auth: su })).status).toBe(404);
    expect(await t.app.files.list(`${docsId}/batchdoc0000003`)).toEqual([]);
  });

  it('a file part over its field\'s maxSize (within the batch body limit) fails the batch with the field\'s 400, as a direct upload does', async () => {
    const { payload, headers } = multipart([
      {
        name: '@jsonPayload',
        value: JSON.stringify({
          requests: [{ method: 'POST', url: '/api/collections/docs/records', body: { id: 'batchdoc0000005', title: 'too big' } }],
        }),
      },
      // 3 MiB: three times the field's 1 MiB maxSize, far below the 128 MiB batch body limit.
      { name: 'requests.0.doc', value: Buffer.alloc(3 << 20, 'a'), filename: 'big.txt' },
    ]);
    const res = await t.server.inject({ method: 'POST', url: '/api/batch', headers, payload });
    expect(res.statusCode, res.body.slice(0, 500)).toBe(400);
    const body = JSON.parse(res.body);
    expect(body.data.requests['0'].response.data).toEqual({
      doc: {
        code: 'validation_file_size_limit',
        message: 'Failed to upload big.txt - the maximum allowed file size is 1048576 bytes.',
        params: { file: 'big.txt', maxSize: 1 << 20 },
      },
    });
    expect((await send(t, 'GET', '/api/collections/docs/records/batchdoc0000005', { auth: su })).status).toBe(404);
    expect(await t.app.files.list(`${docsId}/batchdoc0000005`)).toEqual([]);
  });

  it('the SDK: batch.collection(c).create({doc: new Blob([...])})', async () => {
    await t.server.listen({ host: '127.0.0.1', port: 0 });
    const pb = new PocketBase(`http://127.0.0.1:${(t.server.server.address() as AddressInfo).port}`);
    pb.autoCancellation(false);
    pb.authStore.save(su, { id: 'su', collectionId: 'pbc_3142635823', collectionName: '_superusers' } as never);
    const batch = pb.createBatch();
    batch.collection('docs').create({ id: 'batchdoc0000004', title: 'sdk', doc: new Blob(['from the sdk'], { type: 'text/plain' }) });
    batch.collection('docs').upsert({ id: 'batchdoc0000004', title: 'sdk again', 'attachments+': new Blob(['appended']) });
    const [created, upserted] = await batch.send();
    expect(created.status).toBe(200);
    expect(created.body.doc).not.toBe('');
    expect(await storedText('batchdoc0000004', created.body.doc)).toBe('from the sdk');
    expect(upserted.body).toMatchObject({ title: 'sdk again', doc: created.body.doc });
    expect(upserted.body.attachments).toHaveLength(1);
  });
});
