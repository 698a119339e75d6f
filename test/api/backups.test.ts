/**
 * Backups (`/api/backups`, PocketBase's API through its SDK): a backup made while a writer runs
 * restores, into a fresh data directory or database, to a consistent prefix of the writes; a
 * backup of a quiet app restores to exactly its records (every collection, auth and internal
 * tables) and files (byte for byte), over existing data; requests during a restore get 503 and
 * in-flight ones finish first; corrupt, foreign, zip-slip, bomb and wrong-engine zips are refused
 * with 400 and change nothing; auth, keys, download tokens and concurrent runs.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import PocketBase, { ClientResponseError } from 'pocketbase';
import { addHooks, createAuthRecord, createSuperuser } from '../harness/fixtures.js';
import { runScenarios, send } from '../harness/scenario.js';
import { ENGINE } from '../harness/engines.js';
import { listenOnLoopback, startTestApp, type TestApp } from '../harness/test-app.js';
import { signRecordToken } from '../../src/core/auth/tokens.js';
import { entryText, makeZip, stateOf, zipSlip, type AppState } from './backups-helpers.js';

const EMAIL = 'admin@example.com';
const PASSWORD = 'password123';

let a: TestApp; // the source
let b: TestApp; // a fresh data directory / database, restored into
let urlA = '';
let urlB = '';
let pbA: PocketBase;
let pbB: PocketBase;
let userToken = '';

async function superuserClient(url: string): Promise<PocketBase> {
  const pb = new PocketBase(url);
  pb.autoCancellation(false);
  await pb.collection('_superusers').authWithPassword(EMAIL, PASSWORD);
  return pb;
}

async function download(pb: PocketBase, key: string): Promise<Buffer> {
  const token = await pb.files.getToken();
  const res = await fetch(pb.backups.getDownloadURL(token, key));
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/zip');
  return Buffer.from(await res.arrayBuffer());
}

async function upload(pb: PocketBase, name: string, bytes: Buffer): Promise<void> {
  await pb.backups.upload({ file: new File([bytes], name, { type: 'application/zip' }) });
}

async function statusOf(work: Promise<unknown>): Promise<number> {
  try {
    await work;
    return 204;
  } catch (err) {
    if (err instanceof ClientResponseError) return err.status;
    throw err;
  }
}

function post(seq: number, extra = ''): FormData {
  const form = new FormData();
  form.append('seq', String(seq));
  form.append('title', `post ${seq}${extra}`);
  form.append('doc', new Blob([`content of ${seq}${extra} `.repeat(50)]), `doc${seq}.txt`);
  return form;
}

beforeAll(async () => {
  a = await startTestApp();
  b = await startTestApp();
  urlA = await listenOnLoopback(a);
  urlB = await listenOnLoopback(b);
  await createSuperuser(a, EMAIL, PASSWORD);
  await createSuperuser(b, 'other@example.com', 'other-password-1');
  userToken = (await createAuthRecord(a, 'users', { email: 'alice@example.com' })).token;
  pbA = await superuserClient(urlA);
  await pbA.collections.create({
    name: 'posts',
    type: 'base',
    listRule: '',
    viewRule: '',
    fields: [
      { name: 'seq', type: 'number' },
      { name: 'title', type: 'text', searchable: true }, // its substring index goes into the backups too
      { name: 'doc', type: 'file', maxSelect: 1, maxSize: 1 << 20 },
    ],
  });
  await pbA.collections.create({ name: 'post_titles', type: 'view', viewQuery: 'SELECT id, title FROM posts' });
  await pbA.collection('users').create({ email: 'bob@example.com', password: 'bob-password-1', passwordConfirm: 'bob-password-1', name: 'Bob' });
  await pbA.settings.update({ meta: { appName: 'Backup Test' } });
}, 60_000);

afterAll(async () => {
  await a?.close();
  await b?.close();
});

describe('backup while a writer runs, restore into a fresh app', () => {
  it('the restored app holds a consistent prefix of the writes, files included', async () => {
    let stop = false;
    let seq = 0;
    const writer = (async () => {
      while (!stop) {
        seq++;
        await pbA.collection('posts').create(post(seq));
      }
    })();
    await vi.waitFor(() => expect(seq).toBeGreaterThan(10), { timeout: 20_000, interval: 10 });
    const before = seq - 1; // committed before the backup started
    await pbA.backups.create('during.zip');
    await vi.waitFor(() => expect(seq).toBeGreaterThan(before + 20), { timeout: 20_000, interval: 10 });
    stop = true;
    await writer;

    const list = await pbA.backups.getFullList();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ key: 'during.zip' });
    expect(list[0].size).toBeGreaterThan(0);
    expect(Object.keys(list[0]).sort()).toEqual(['key', 'modified', 'size']);
    expect(list[0].modified).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$/);

    const zip = await download(pbA, 'during.zip');
    pbB = await superuserClient(urlB).catch(async () => {
      const pb = new PocketBase(urlB);
      pb.autoCancellation(false);
      await pb.collection('_superusers').authWithPassword('other@example.com', 'other-password-1');
      return pb;
    });
    await upload(pbB, 'during.zip', zip);
    await pbB.backups.restore('during.zip');
    // Read before anything signs in to b (a sign-in updates _authOrigins).
    const source = await stateOf(a);
    const restored = await stateOf(b);
    // The restored database has a's superuser, not b's own.
    await expect(pbB.collection('_superusers').authWithPassword('other@example.com', 'other-password-1')).rejects.toThrow();
    pbB = await superuserClient(urlB);
    const postsTable = a.app.registry.find('posts')!.table;
    const rows = restored.tables[postsTable];
    const seqs = rows.map((r) => Number(r.seq)).sort((x, y) => x - y);
    // A prefix: every write committed before the backup, none missing in between.
    expect(seqs.length).toBeGreaterThanOrEqual(before);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    expect(seqs.length).toBeLessThan(seq);
    const byId = new Map(source.tables[postsTable].map((r) => [r.id, r]));
    for (const row of rows) expect(row).toEqual(byId.get(row.id));
    for (const [name, content] of Object.entries(restored.tables)) if (name !== postsTable) expect(content, name).toEqual(source.tables[name]);
    // Every file a restored record references, with a's bytes.
    const collectionId = a.app.registry.find('posts')!.id;
    for (const row of rows) {
      const key = `${collectionId}/${String(row.id)}/${String(row.doc)}`;
      expect(restored.files[key], key).toBe(source.files[key]);
    }
    // And served through the API.
    const one = await pbB.collection('posts').getFirstListItem('seq = 3');
    const served = await fetch(pbB.files.getURL(one, one.doc));
    expect(await served.text()).toBe('content of 3 '.repeat(50));
  }, 90_000);

  it('a backup of a quiet app restores to exactly its records and files, over existing data', async () => {
    await pbA.backups.create('final.zip');
    // Data only b has: the restore must remove it, record and file.
    const extra = await pbB.collection('posts').create(post(99_999, ' (only in b)'));
    const zip = await download(pbA, 'final.zip');
    await upload(pbB, 'final.zip', zip);
    await pbB.backups.restore('final.zip');
    const restored = await stateOf(b);
    expect(restored).toEqual(await stateOf(a));
    expect(Object.keys(restored.files).some((k) => k.includes(extra.id))).toBe(false);
    expect(Object.keys(restored.files).length).toBeGreaterThan(30);
    // Caches follow the data: settings and the catalogue.
    expect((await pbB.settings.getAll()).meta.appName).toBe('Backup Test');
    expect((await pbB.collection('users').getFullList()).map((u) => u.email)).toContain('bob@example.com');
  }, 60_000);
});

describe('during a restore', () => {
  it('requests get 503 (health answers), in-flight ones finish first, readers never see a mix', async () => {
    const before = await stateOf(b);
    const count = async () => (await pbB.collection('posts').getList(1, 1)).totalItems;
    const quiet = await count();
    await pbB.collection('posts').create(post(123_456, ' (gone after the restore)'));
    addHooks(b, (api) =>
      api.routerAdd('GET', '/api/test/slow', async () => {
        await new Promise((r) => setTimeout(r, 600));
        return { done: true };
      }),
    );
    const slow = fetch(`${urlB}/api/test/slow`);
    await new Promise((r) => setTimeout(r, 100));
    const restore = pbB.backups.restore('final.zip');
    await vi.waitFor(() => expect(b.app.backups.restoring).toBe(true), { timeout: 5000, interval: 2 });

    const refused = await fetch(`${urlB}/api/collections/posts/records`);
    expect(refused.status).toBe(503);
    const body = (await refused.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['data', 'message', 'status']);
    expect(body.status).toBe(503);
    expect((await fetch(`${urlB}/api/health`)).status).toBe(200);
    const ready = await fetch(`${urlB}/api/health/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as any).data.app).toMatchObject({ code: 'health_app_state' });
    expect((await fetch(`${urlB}/api/test/slow`)).status).toBe(503);

    // Readers all along: the old count, the new one, or a 503; nothing else.
    const seen = new Set<string>();
    let reading = true;
    const reader = (async () => {
      while (reading) {
        const res = await fetch(`${urlB}/api/collections/posts/records?perPage=1`);
        seen.add(res.status === 200 ? `200:${((await res.json()) as { totalItems: number }).totalItems}` : String(res.status));
      }
    })();
    const slowRes = await slow;
    expect(slowRes.status).toBe(200);
    expect(await slowRes.json()).toEqual({ done: true });
    await restore;
    await new Promise((r) => setTimeout(r, 50));
    reading = false;
    await reader;
    for (const s of seen) expect([`200:${quiet + 1}`, `200:${quiet}`, '503']).toContain(s);
    expect(seen.has('503')).toBe(true);
    expect(await count()).toBe(quiet);
    expect(await stateOf(b)).toEqual(before);
  }, 60_000);
});

describe('zips that are not a backup of this engine: 400, nothing changed', () => {
  let before: AppState;
  const dbName = () => b.app.db.backups!.fileName;
  const other = () => (b.engine === 'sqlite' ? 'postgres' : 'sqlite');

  beforeAll(async () => {
    before = await stateOf(b);
  });

  const cases: [string, () => Promise<Buffer>, RegExp][] = [
    ['corrupt.zip', async () => Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(3000, 7)]), /zip/i],
    ['foreign.zip', () => makeZip({ 'hello.txt': 'hi', 'docs/readme.md': '# nothing' }), /no data\.(db|sql)/],
    ['slip.zip', () => zipSlip('evil.txt', 'owned'), /unsafe entry name|zip/i],
    ['fakedb.zip', () => makeZip({ [dbName()]: 'not a database at all '.repeat(100) }), /not a (SQLite database|PostgreSQL dump)/],
    ['otherengine.zip', () => makeZip({ 'basalt-backup.json': JSON.stringify({ format: 'basalt-backup', version: 1, engine: other() }), [dbName()]: 'x' }), /made on/],
    ['bomb.zip', () => makeZip({ [dbName()]: 'x', 'storage/c/r/zeros.bin': Buffer.alloc(100 << 20) }), /inflates to more than/],
  ];
  for (const [name, build, message] of cases) {
    it(`${name} → 400`, async () => {
      await upload(pbB, name, await build());
      const err = await pbB.backups.restore(name).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClientResponseError);
      expect((err as ClientResponseError).status).toBe(400);
      expect((err as ClientResponseError).response.message).toMatch(message);
      expect(b.app.backups.restoring).toBe(false);
      expect(await stateOf(b)).toEqual(before);
      await pbB.backups.delete(name);
    }, 60_000);
  }

  it.skipIf(ENGINE !== 'postgres')('a psql meta-command in a PostgreSQL dump is refused', async () => {
    const dump = (await entryText(await download(pbA, 'final.zip'), 'data.sql'))!;
    expect(dump.split('\n')[0]).toBe('--');
    expect(dump).toContain('CREATE TABLE public._collections (');
    const evil = dump.replace('SET statement_timeout = 0;', 'SET statement_timeout = 0;\n\\! touch /tmp/basalt-owned');
    await upload(pbB, 'meta.zip', await makeZip({ 'data.sql': evil }));
    const status = await statusOf(pbB.backups.restore('meta.zip'));
    expect(status).toBe(400);
    expect(await stateOf(b)).toEqual(before);
    await pbB.backups.delete('meta.zip');
  }, 60_000);

  it('uploads: not a zip, a bad file name, an existing name, no file → 400', async () => {
    const codeOf = async (work: Promise<unknown>) => ((await work.catch((e: unknown) => e)) as ClientResponseError).response?.data?.file?.code;
    expect(await codeOf(upload(pbB, 'text.zip', Buffer.from('hello')))).toBe('validation_invalid_mime_type');
    expect(await codeOf(upload(pbB, 'my backup.zip', await makeZip({ a: 'b' })))).toBe('validation_invalid_backup_name');
    expect(await codeOf(upload(pbB, '@x.zip.exe', await makeZip({ a: 'b' })))).toBe('validation_invalid_backup_name');
    // The multipart parser keeps only the base name of a path: stored as up.zip, nowhere else.
    await upload(pbB, '../up.zip', await makeZip({ a: 'b' }));
    await pbB.backups.delete('up.zip');
    expect(await codeOf(upload(pbB, 'notes.txt', await makeZip({ a: 'b' })))).toBe('validation_invalid_backup_name');
    expect(await codeOf(upload(pbB, 'final.zip', await makeZip({ a: 'b' })))).toBe('validation_backup_name_exists');
    const res = await send(b, 'POST', '/api/backups/upload', { auth: pbB.authStore.token, body: {} });
    expect(res.status).toBe(400);
    expect(res.body.data.file.code).toBe('validation_required');
    expect((await pbB.backups.getFullList()).map((x) => x.key).sort()).toEqual(['during.zip', 'final.zip']);
  });
});

describe('access', () => {
  runScenarios(() => a, [
    { name: 'list: guest', method: 'GET', url: '/api/backups', status: 401 },
    { name: 'list: user', method: 'GET', url: '/api/backups', auth: () => userToken, status: 403 },
    { name: 'create: guest', method: 'POST', url: '/api/backups', body: {}, status: 401 },
    { name: 'create: user', method: 'POST', url: '/api/backups', auth: () => userToken, body: {}, status: 403 },
    { name: 'upload: guest', method: 'POST', url: '/api/backups/upload', body: {}, status: 401 },
    { name: 'upload: user', method: 'POST', url: '/api/backups/upload', auth: () => userToken, body: {}, status: 403 },
    { name: 'delete: guest', method: 'DELETE', url: '/api/backups/final.zip', status: 401 },
    { name: 'delete: user', method: 'DELETE', url: '/api/backups/final.zip', auth: () => userToken, status: 403 },
    { name: 'restore: guest', method: 'POST', url: '/api/backups/final.zip/restore', status: 401 },
    { name: 'restore: user', method: 'POST', url: '/api/backups/final.zip/restore', auth: () => userToken, status: 403 },
    { name: 'download: no token', method: 'GET', url: '/api/backups/final.zip', status: 403 },
    { name: 'download: a garbage token', method: 'GET', url: '/api/backups/final.zip?token=abc.def.ghi', status: 403 },
    { name: 'download: an auth token, not a file token', method: 'GET', url: () => `/api/backups/final.zip?token=${pbA.authStore.token}`, status: 403 },
    { name: 'download: a user’s file token', method: 'GET', url: () => `/api/backups/final.zip?token=${userFileToken}`, status: 403 },
    { name: 'download: an expired superuser file token', method: 'GET', url: () => `/api/backups/final.zip?token=${expiredToken}`, status: 403 },
    { name: 'download: a superuser Authorization header is not enough', method: 'GET', url: '/api/backups/final.zip', auth: () => pbA.authStore.token, status: 403 },
  ]);
  let userFileToken = '';
  let expiredToken = '';
  beforeAll(async () => {
    userFileToken = (await send(a, 'POST', '/api/files/token', { auth: userToken })).body.token;
    const model = (await a.app.auth.findByToken(pbA.authStore.token, 'auth'))!.record;
    const past = { now: () => Date.now() - 3_600_000, sleep: async () => {} };
    expiredToken = await signRecordToken(past, model, 'file');
  });

  it('a valid superuser file token downloads; the SDK lists', async () => {
    expect((await download(pbA, 'final.zip')).subarray(0, 2).toString()).toBe('PK');
  });
});

describe('keys and names', () => {
  const longName = `${'a'.repeat(147)}.zip`;
  runScenarios(() => a, [
    ...['../x.zip', 'a/b.zip', 'A.zip', 'x.txt', 'x', '.zip', 'x y.zip', longName, 'final.zip'].map((name) => ({
      name: `create ${JSON.stringify(name.length > 20 ? name.slice(0, 20) + '…' : name)}`,
      method: 'POST' as const,
      url: '/api/backups',
      auth: () => pbA.authStore.token,
      body: { name },
      status: 400,
      check: (body: any) => expect(body.data.name.code).toMatch(/^validation_/),
    })),
    { name: 'create: name not a string', method: 'POST', url: '/api/backups', auth: () => pbA.authStore.token, body: { name: 12 }, status: 400 },
    { name: 'delete ../x.zip', method: 'DELETE', url: '/api/backups/..%2Fx.zip', auth: () => pbA.authStore.token, status: 400 },
    { name: 'delete a/b.zip', method: 'DELETE', url: '/api/backups/a/b.zip', auth: () => pbA.authStore.token, status: 404 },
    { name: 'delete x.txt', method: 'DELETE', url: '/api/backups/x.txt', auth: () => pbA.authStore.token, status: 400 },
    { name: 'delete missing', method: 'DELETE', url: '/api/backups/missing.zip', auth: () => pbA.authStore.token, status: 400 },
    // Longer than any route parameter: refused by the router.
    { name: 'delete too long', method: 'DELETE', url: `/api/backups/${'b'.repeat(300)}.zip`, auth: () => pbA.authStore.token, status: 400 },
    { name: 'restore ../x.zip', method: 'POST', url: '/api/backups/..%2Fx.zip/restore', auth: () => pbA.authStore.token, status: 400 },
    { name: 'restore missing', method: 'POST', url: '/api/backups/missing.zip/restore', auth: () => pbA.authStore.token, status: 400 },
    { name: 'restore .zip', method: 'POST', url: '/api/backups/.zip/restore', auth: () => pbA.authStore.token, status: 400 },
    { name: 'download ../final.zip', method: 'GET', url: () => `/api/backups/..%2Ffinal.zip?token=${fileToken}`, status: 404 },
    { name: 'download missing', method: 'GET', url: () => `/api/backups/missing.zip?token=${fileToken}`, status: 404 },
    { name: 'download a/b.zip', method: 'GET', url: () => `/api/backups/a/b.zip?token=${fileToken}`, status: 404 },
  ]);
  let fileToken = '';
  beforeAll(async () => {
    fileToken = await pbA.files.getToken();
  });
});

describe('PostgreSQL without its client binaries', () => {
  it.skipIf(ENGINE !== 'postgres')("Basalt's own dump: made and restored without pg_dump and psql, every record and file", async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      await pbA.backups.create('own_dump.zip');
      const zip = await download(pbA, 'own_dump.zip');
      expect((await entryText(zip, 'data.sql'))!.split('\n')[0]).toBe('-- Basalt PostgreSQL dump (made without pg_dump)');
      await upload(pbB, 'own_dump.zip', zip);
      await pbB.collection('posts').create(post(77_777, ' (only in b)'));
      await pbB.backups.restore('own_dump.zip');
    } finally {
      process.env.PATH = path;
    }
    expect(await stateOf(b)).toEqual(await stateOf(a));
    expect((await pbB.collection('post_titles').getList(1, 1)).totalItems).toBe((await pbA.collection('post_titles').getList(1, 1)).totalItems);
    // The identity positions follow: new rows get new row ids.
    await pbB.collection('posts').create(post(88_888));
  }, 60_000);

  it.skipIf(ENGINE !== 'postgres')('an own dump with a statement a dump does not make, or two in one line, is refused', async () => {
    const before = await stateOf(b);
    const dump = (await entryText(await download(pbA, 'own_dump.zip'), 'data.sql'))!;
    const lines = dump.split('\n');
    const table = lines.findIndex((l) => l.startsWith('"CREATE TABLE'));
    const variants = [
      [...lines.slice(0, 2), JSON.stringify('DROP TABLE public._collections'), ...lines.slice(2)],
      [...lines.slice(0, table), JSON.stringify(`${JSON.parse(lines[table])}; DROP TABLE public._params`), ...lines.slice(table + 1)],
    ];
    for (const [i, variant] of variants.entries()) {
      await upload(pbB, `evil${i}.zip`, await makeZip({ 'data.sql': variant.join('\n') }));
      expect(await statusOf(pbB.backups.restore(`evil${i}.zip`)), `variant ${i}`).toBe(400);
      expect(await stateOf(b)).toEqual(before);
      await pbB.backups.delete(`evil${i}.zip`);
    }
  }, 60_000);
});

describe('one backup or restore at a time', () => {
  it('a create while another runs → 400; health says canBackup when none runs', async () => {
    const results = await Promise.all([statusOf(pbA.backups.create('one.zip')), statusOf(pbA.backups.create('two.zip')), statusOf(pbA.backups.create(''))]);
    expect(results.filter((s) => s === 204).length).toBeGreaterThanOrEqual(1);
    expect(results.filter((s) => s === 400).length).toBeGreaterThanOrEqual(1);
    for (const key of ['one.zip', 'two.zip']) await pbA.backups.delete(key).catch(() => {});
    const health = await send(a, 'GET', '/api/health', { auth: pbA.authStore.token });
    expect(health.body.data.canBackup).toBe(true);
    // An auto-named one: pb_backup_<app>_<UTC time>.zip.
    await pbA.backups.create('');
    expect((await pbA.backups.getFullList()).map((x) => x.key).some((k) => /^pb_backup_backup_test_\d{14}\.zip$/.test(k))).toBe(true);
    expect(await statusOf(pbA.backups.delete('one.zip'))).toBe(400);
  }, 60_000);
});
