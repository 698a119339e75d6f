/**
 * `POST /api/collections/meta/validate`, the dry run of a collection save (a Basalt addition the
 * dashboard calls as the superuser types). Each case is sent to the dry run, then checked to have
 * changed nothing, then sent as the real save: the two answers must be the same (a 204 where the
 * save answers 200, the same 400 body otherwise). Hostile inputs get a clear 4xx and no change.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINE } from '../harness/engines.js';
import { addHooks, createAuthRecord, createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { send, type Method, type ScenarioResponse } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let su = '';
let userToken = '';
/** The collections the create hook saw. */
const hookCalls: string[] = [];
let notesIdValue = '';
const notesId = () => notesIdValue;

const VALIDATE = '/api/collections/meta/validate';
const validate = (body: unknown, auth = su, headers?: Record<string, string>) => send(t, 'POST', VALIDATE, { auth, body, headers });

/** Every definition and the records of `notes`: what a dry run must leave alone. */
async function snapshot() {
  const all = await send(t, 'GET', '/api/collections?perPage=500&sort=id', { auth: su });
  const notes = await send(t, 'GET', '/api/collections/notes/records?perPage=500&sort=id', { auth: su });
  return { collections: all.body, notes: notes.body };
}

function expectErrorShape(res: ScenarioResponse): void {
  expect(Object.keys(res.body ?? {}).sort(), res.raw).toEqual(['data', 'message', 'status']);
  expect(res.body.status).toBe(res.status);
}

/** Dry run, nothing changed, then the real save: the same verdict. */
async function sameAsSave(body: Record<string, unknown>, expected: { status: 204 | 400; field?: string; code?: string }) {
  const before = await snapshot();
  const dry = await validate(body);
  expect(dry.status, dry.raw).toBe(expected.status);
  expect(await snapshot(), 'a dry run must change nothing').toEqual(before);
  const update = typeof body.id === 'string' && body.id !== '' && before.collections.items.some((c: any) => c.id === body.id);
  const method: Method = update ? 'PATCH' : 'POST';
  const saved = await send(t, method, update ? `/api/collections/${body.id as string}` : '/api/collections', { auth: su, body });
  if (expected.status === 204) {
    expect(dry.raw).toBe('');
    expect(saved.status, saved.raw).toBe(200);
    return;
  }
  expectErrorShape(dry);
  if (expected.field) expect(dry.body.data, dry.raw).toHaveProperty([expected.field]);
  if (expected.code) expect(dry.body.data[expected.field!].code).toBe(expected.code);
  expect(saved.status).toBe(400);
  expect(dry.body, 'the dry run answers exactly as the save').toEqual(saved.body);
}

beforeAll(async () => {
  t = await startTestApp();
  su = (await createSuperuser(t)).token;
  userToken = (await createAuthRecord(t, 'users', { email: 'alice@example.com', name: 'Alice' })).token;
  const notes = await createCollection(t, { name: 'notes', type: 'base', fields: [{ name: 'title', type: 'text' }], listRule: '' });
  notesIdValue = notes.id as string;
  await createRecord(t, 'notes', { title: 'same' });
  await createRecord(t, 'notes', { title: 'same' });
  addHooks(t, (app) => {
    app.onCollectionCreate(async (e) => {
      hookCalls.push(e.collection.name);
      await e.next();
    });
  });
});
afterAll(async () => {
  await t?.close();
});

describe('access', () => {
  it('guests get 401, users 403, and neither changes anything', async () => {
    for (const [auth, status] of [[undefined, 401], [userToken, 403]] as const) {
      const res = await send(t, 'POST', VALIDATE, { auth, body: { name: 'sneaky' } });
      expect(res.status).toBe(status);
      expectErrorShape(res);
    }
  });
});

describe('creates: the same verdict as POST /api/collections', () => {
  it('a valid collection → 204, then created by the save', () =>
    sameAsSave({ name: 'posts', type: 'base', fields: [{ name: 'title', type: 'text' }], listRule: 'title != ""' }, { status: 204 }));
  it('a rule naming an unknown field', () => sameAsSave({ name: 'bad1', fields: [{ name: 'title', type: 'text' }], listRule: 'nosuch = 1' }, { status: 400, field: 'listRule' }));
  it('a rule that does not parse', () => sameAsSave({ name: 'bad2', fields: [{ name: 'title', type: 'text' }], viewRule: 'title = ' }, { status: 400, field: 'viewRule' }));
  it('an unknown field type', () => sameAsSave({ name: 'bad3', fields: [{ name: 'x', type: 'nope' }] }, { status: 400, field: 'fields' }));
  it('an index on a missing column', () => sameAsSave({ name: 'bad4', fields: [{ name: 'title', type: 'text' }], indexes: ['CREATE INDEX idx_bad4 ON bad4 (nosuch)'] }, { status: 400, field: 'indexes' }));
  it('a taken name', () => sameAsSave({ name: 'notes' }, { status: 400, field: 'name' }));
  it('a view whose query fails', () => sameAsSave({ name: 'badview', type: 'view', viewQuery: 'SELECT id FROM nowhere' }, { status: 400, field: 'viewQuery' }));
  it('a valid view → 204', () => sameAsSave({ name: 'titles', type: 'view', viewQuery: 'SELECT id, title FROM notes' }, { status: 204 }));
  it('an unknown id is a create with that custom id', () => sameAsSave({ id: 'custom_id_1', name: 'custom1' }, { status: 204 }));
  it('an invalid custom id', () => sameAsSave({ id: '../x', name: 'custom2' }, { status: 400, field: 'id' }));
});

describe('updates (an existing id): the same verdict as PATCH', () => {
  it('an invalid rule', () => sameAsSave({ id: notesId(), listRule: 'title ~' }, { status: 400, field: 'listRule' }));
  // Only the DDL finds this one: the dry run must run the write path to the end.
  it('a UNIQUE index over duplicate values', () =>
    sameAsSave({ id: notesId(), indexes: ['CREATE UNIQUE INDEX idx_notes_title ON notes (title)'] }, { status: 400, field: 'indexes', code: 'validation_unique_index_failed' }));
  it('a rename that a view depends on (only rebuilding the views finds it)', () =>
    sameAsSave({ id: notesId(), name: 'notes2' }, { status: 400, field: 'viewQuery' }));
  it('a valid rename → 204, renamed by the save (and back)', async () => {
    const posts = await send(t, 'GET', '/api/collections/posts', { auth: su });
    await sameAsSave({ id: posts.body.id, name: 'posts2' }, { status: 204 });
    const back = await send(t, 'PATCH', '/api/collections/posts2', { auth: su, body: { name: 'posts' } });
    expect(back.status, back.raw).toBe(200);
  });
});

describe('hostile input: a clear 4xx, never a change', () => {
  const cases: [string, () => Promise<ScenarioResponse>, number][] = [
    ['a JSON array', () => validate([1, 2]), 400],
    ['a JSON string', () => validate('"x"', su, { 'content-type': 'application/json' }), 400],
    ['no body', () => validate(undefined), 400],
    ['malformed JSON', () => validate('{"name":', su, { 'content-type': 'application/json' }), 400],
    ['a huge body', () => validate({ name: 'huge', listRule: 'x'.repeat(40 * 1024 * 1024) }), 413],
    ['deeply nested JSON', () => validate(`{"name":"deep","fields":${'['.repeat(5000)}${']'.repeat(5000)}}`, su, { 'content-type': 'application/json' }), 400],
    ['a huge rule', () => validate({ name: 'longrule', listRule: 'id = "a" || '.repeat(20000) + 'id = "b"' }), 400],
    ['fields of the wrong shape', () => validate({ name: 'shape', fields: { a: 1 } }), 400],
    ['a type change', () => validate({ id: notesId(), type: 'view' }), 400],
    ['a view that writes', () => validate({ name: 'writer', type: 'view', viewQuery: 'DELETE FROM notes' }), 400],
    ['two statements', () => validate({ name: 'two', type: 'view', viewQuery: 'SELECT id FROM notes; DROP TABLE notes' }), 400],
  ];
  for (const [name, run, status] of cases) {
    it(`${name} → ${status}`, async () => {
      const before = await snapshot();
      const res = await run();
      expect(res.status, res.raw.slice(0, 300)).toBe(status);
      expectErrorShape(res);
      expect(await snapshot()).toEqual(before);
    });
  }

  it('a view query that would never end is described, not run', async () => {
    const before = await snapshot();
    const started = Date.now();
    const res = await validate({
      name: 'forever',
      type: 'view',
      viewQuery: 'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT CAST(n AS TEXT) AS id FROM r',
    });
    expect([204, 400]).toContain(res.status);
    if (res.status === 400) expectErrorShape(res);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await snapshot()).toEqual(before);
  });
});

describe('side effects', () => {
  it('runs no collection hook (a hook may act outside the database); the save does', async () => {
    hookCalls.length = 0;
    expect((await validate({ name: 'hooked' })).status).toBe(204);
    expect(hookCalls).toEqual([]);
    expect((await send(t, 'POST', '/api/collections', { auth: su, body: { name: 'hooked' } })).status).toBe(200);
    expect(hookCalls).toEqual(['hooked']);
  });

  it('stores no log entry for a 204 (the dashboard asks as the user types); a refusal is logged', async () => {
    await send(t, 'DELETE', '/api/logs', { auth: su });
    expect((await validate({ name: 'quiet' })).status).toBe(204);
    expect((await validate({ name: 'loud', listRule: 'nosuch = 1' })).status).toBe(400);
    await t.app.logs.writer?.flush();
    const logs = await send(t, 'GET', `/api/logs?filter=${encodeURIComponent("data.url ~ 'meta/validate'")}`, { auth: su });
    expect(logs.status).toBe(200);
    expect(logs.body.items.map((e: { data: { status: number } }) => e.data.status)).toEqual([400]);
  });
});

// A schema change runs past the query deadline (README "Guard rails"); its dry run keeps it, so a
// check asked as the superuser types cannot hold the schema lock (and every record write) for long.
describe.skipIf(ENGINE !== 'postgres')('cost: the dry run keeps the query deadline (PostgreSQL)', () => {
  let slow: TestApp;
  let token = '';
  beforeAll(async () => {
    slow = await startTestApp({ config: { queryTimeoutMs: 500 } });
    token = (await createSuperuser(slow)).token;
    await createCollection(slow, { name: 'busy', type: 'base', fields: [{ name: 'title', type: 'text' }] });
  });
  afterAll(async () => {
    await slow?.close();
  });

  it('a change that must wait for the table answers 503 at the deadline, changing nothing; then 204', async () => {
    const busy = (await send(slow, 'GET', '/api/collections/busy', { auth: token })).body;
    const body = { id: busy.id, fields: [...busy.fields, { name: 'extra', type: 'text' }] };
    // A reader keeps the table: adding a column must wait for it (ACCESS EXCLUSIVE).
    const reader = new pg.Client({ connectionString: slow.config.databaseUrl });
    await reader.connect();
    try {
      await reader.query('BEGIN');
      await reader.query('SELECT * FROM "busy"');
      const started = Date.now();
      const res = await send(slow, 'POST', VALIDATE, { auth: token, body });
      expect(res.status, res.raw).toBe(503);
      expectErrorShape(res);
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      await reader.query('ROLLBACK');
      await reader.end();
    }
    const after = (await send(slow, 'GET', '/api/collections/busy', { auth: token })).body;
    expect(after.fields.map((f: any) => f.name)).not.toContain('extra');
    expect((await send(slow, 'POST', VALIDATE, { auth: token, body })).status).toBe(204);
  });
});
