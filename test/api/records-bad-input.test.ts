/**
 * Bad input on the records API: malformed or mistyped bodies, unknown fields, bodies over the
 * configured limit and invalid list parameters. Every error has the standard shape (checked by
 * runScenarios) and every refused write leaves the data as it was.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { runScenarios, type Scenario } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';
import { BOUNDARY, CREATE_FAILED, UPDATE_FAILED, countAsSuperuser, listAsSuperuser, multipart, urlencoded, viewAsSuperuser } from './records-helpers.js';

const INVALID_BODY = 'Failed to load the submitted data due to invalid formatting.';
const TOO_LARGE = 'Request entity too large.';

let t: TestApp;
let small: TestApp;
let su = '';
let smallSu = '';
let thingId = '';
const app = () => t;
const smallApp = () => small;
const X = '/api/collections/things/records';
const json = { 'content-type': 'application/json' };
const SEEDED = { title: 'seed', n: 5, flag: true, tags: ['a'] };

const definition = {
  name: 'things',
  type: 'base',
  listRule: '',
  viewRule: '',
  createRule: '',
  updateRule: '',
  deleteRule: '',
  fields: [
    { name: 'title', type: 'text' },
    { name: 'n', type: 'number' },
    { name: 'flag', type: 'bool' },
    { name: 'tags', type: 'select', values: ['a', 'b'], maxSelect: 2 },
    { name: 'meta', type: 'json' },
  ],
};

beforeAll(async () => {
  t = await startTestApp();
  small = await startTestApp({ config: { bodyLimit: 1024 } });
  su = (await createSuperuser(t)).token;
  smallSu = (await createSuperuser(small)).token;
  await createCollection(t, definition);
  await createCollection(small, definition);
  thingId = String((await createRecord(t, 'things', SEEDED)).values.id);
});

afterAll(async () => {
  await t?.close();
  await small?.close();
});

/** Nothing was written: still only the seeded record, unchanged. */
const nothingWritten = async () => {
  const all = await listAsSuperuser(t, su, 'things');
  expect(all).toHaveLength(1);
  expect(all[0]).toMatchObject({ id: thingId, ...SEEDED });
};

/** A bad create and a bad update with the same payload, each checked for no write. */
function badWrites(name: string, payload: Pick<Scenario, 'body' | 'headers'>, expectation: Pick<Scenario, 'expect' | 'check'> & { status?: number } = {}): Scenario[] {
  const { status = 400, check, ...rest } = expectation;
  const verify = async (body: any, raw: string) => {
    await check?.(body, raw);
    await nothingWritten();
  };
  return [
    { name: `create: ${name}`, method: 'POST', url: X, ...payload, status, ...rest, check: verify },
    { name: `update: ${name}`, method: 'PATCH', url: () => `${X}/${thingId}`, ...payload, status, ...rest, check: verify },
  ];
}

describe('malformed bodies', () => {
  runScenarios(app, [
    ...badWrites('malformed JSON', { body: '{"title": ', headers: json }, { expect: { message: INVALID_BODY, data: {} } }),
    ...badWrites('JSON with trailing garbage', { body: '{"title": "x"} extra', headers: json }, { expect: { message: INVALID_BODY } }),
    ...badWrites('a JSON array body', { body: '[{"title": "x"}]', headers: json }),
    ...badWrites('a JSON string body', { body: '"abc"', headers: json }),
    ...badWrites('a JSON number body', { body: '42', headers: json }),
    ...badWrites('an unsupported content type', { body: 'title=x', headers: { 'content-type': 'text/plain' } }),
    ...badWrites('an @jsonPayload that is not an object', multipart({ title: 'x', '@jsonPayload': '[1,2]' })),
    ...badWrites('an @jsonPayload that is not JSON', multipart({ '@jsonPayload': '{"n": ' })),
  ]);

  describe('malformed multipart bodies', () => {
    runScenarios(app, [
      ...badWrites('multipart without a boundary', { body: '--x\r\nContent-Disposition: form-data; name="title"\r\n\r\nx\r\n--x--\r\n', headers: { 'content-type': 'multipart/form-data' } }),
      ...badWrites('a truncated multipart body', {
        body: `--${BOUNDARY}\r\nContent-Disposition: form-data; name="title"\r\n\r\nhalf`,
        headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      }),
      ...badWrites('a multipart body that is not multipart at all', { body: 'hello world', headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` } }),
    ]);
  });
});

describe('wrong value types', () => {
  const fieldError = (field: string) => ({
    check: (body: any) => {
      expect(Object.keys(body.data)).toEqual([field]);
      expect(typeof body.data[field].code).toBe('string');
      expect(typeof body.data[field].message).toBe('string');
    },
  });
  runScenarios(app, [
    ...badWrites('an object for a text field', { body: { title: { a: 1 } } }, fieldError('title')),
    ...badWrites('an array for a text field', { body: { title: ['x'] } }, fieldError('title')),
    ...badWrites('a non-numeric string for a number field', { body: { n: 'abc' } }, fieldError('n')),
    ...badWrites('an object for a number field', { body: { n: { v: 1 } } }, fieldError('n')),
    ...badWrites('an array for a bool field', { body: { flag: [true] } }, fieldError('flag')),
    ...badWrites('a word for a bool field', { body: { flag: 'perhaps' } }, fieldError('flag')),
    ...badWrites('an object for a select field', { body: { tags: { a: true } } }, fieldError('tags')),
    ...badWrites('a non-numeric number in a form', urlencoded({ n: 'ten' }), fieldError('n')),
    ...badWrites('a non-numeric number in multipart', multipart({ title: 'ok', n: 'ten' }), fieldError('n')),
    ...badWrites(
      'several wrong fields at once',
      { body: { title: { a: 1 }, n: 'abc', flag: [1] } },
      { check: (body) => expect(Object.keys(body.data).sort()).toEqual(['flag', 'n', 'title']) },
    ),
    {
      name: 'the create message names the action',
      method: 'POST',
      url: X,
      body: { n: 'abc' },
      status: 400,
      expect: { message: CREATE_FAILED },
    },
    {
      name: 'the update message names the action',
      method: 'PATCH',
      url: () => `${X}/${thingId}`,
      body: { n: 'abc' },
      status: 400,
      expect: { message: UPDATE_FAILED },
    },
  ]);
});

describe('unknown fields', () => {
  const unknown = (key: string) => ({
    expect: { data: { [key]: { code: 'validation_unknown_field' } } },
    check: (body: any) => expect(Object.keys(body.data)).toEqual([key]),
  });
  runScenarios(app, [
    ...badWrites('an unknown JSON key', { body: { title: 'x', bogus: 1 } }, unknown('bogus')),
    ...badWrites('an unknown key differing only in case', { body: { Title: 'x' } }, unknown('Title')),
    ...badWrites('an unknown form key', urlencoded({ title: 'x', bogus: '1' }), unknown('bogus')),
    ...badWrites('an unknown multipart part', multipart({ title: 'x', bogus: '1' }), unknown('bogus')),
    ...badWrites('an unknown key in @jsonPayload', multipart({ '@jsonPayload': JSON.stringify({ title: 'x', bogus: 1 }) }), unknown('bogus')),
    {
      name: 'output-only keys sent back unchanged are ignored',
      method: 'PATCH',
      url: () => `${X}/${thingId}`,
      body: { collectionId: 'other', collectionName: 'other', expand: { x: 1 }, title: 'seed' },
      status: 200,
      expect: { collectionName: 'things', title: 'seed' },
      check: async (body) => {
        expect(body).not.toHaveProperty('expand');
        await nothingWritten();
      },
    },
  ]);
});

describe('bad query parameters', () => {
  const list = (query: string): Scenario => ({ name: `list with ${query}`, method: 'GET', url: `${X}?${query}`, status: 400 });
  runScenarios(app, [
    list('page=abc'),
    list('page=1e3'),
    list('perPage=x'),
    list('perPage=10.5'),
    list('sort=nope'),
    list(`sort=${encodeURIComponent('n,n,n,n,n,n,n,n,n')}`),
    list(`filter=${encodeURIComponent('title ==')}`),
    list(`expand=${encodeURIComponent('a..b')}`),
    list(`expand=${encodeURIComponent('a b')}`),
    list(`fields=${encodeURIComponent('title:excerpt(0)')}`),
    list(`fields=${encodeURIComponent('title:nope()')}`),
    { name: 'view with a bad expand', method: 'GET', url: () => `${X}/${thingId}?expand=${encodeURIComponent('a..b')}`, status: 400 },
    { name: 'view with bad fields', method: 'GET', url: () => `${X}/${thingId}?fields=${encodeURIComponent('title:excerpt(')}`, status: 400 },
    {
      name: 'create with a bad expand writes nothing',
      method: 'POST',
      url: `${X}?expand=${encodeURIComponent('a..b')}`,
      body: { title: 'bad expand' },
      status: 400,
      check: nothingWritten,
    },
    {
      name: 'update with a bad expand changes nothing',
      method: 'PATCH',
      url: () => `${X}/${thingId}?expand=${encodeURIComponent('a..b')}`,
      body: { title: 'bad expand' },
      status: 400,
      check: nothingWritten,
    },
  ]);

  describe('invalid fields on writes', () => {
    runScenarios(app, [
      {
        name: 'create with bad fields writes nothing',
        method: 'POST',
        url: `${X}?fields=${encodeURIComponent('title:excerpt(0)')}`,
        body: { title: 'bad fields' },
        status: 400,
        check: nothingWritten,
      },
      {
        name: 'update with bad fields changes nothing',
        method: 'PATCH',
        url: () => `${X}/${thingId}?fields=${encodeURIComponent('title:excerpt(0)')}`,
        body: { title: 'bad fields' },
        status: 400,
        check: nothingWritten,
      },
    ]);
  });
});

describe('bodies over the configured limit (bodyLimit 1024)', () => {
  const big = 'x'.repeat(2000);
  const smallCount = async (expected: number) => expect(await countAsSuperuser(small, smallSu, 'things')).toBe(expected);
  runScenarios(smallApp, [
    { name: 'a body under the limit is fine', method: 'POST', url: X, body: { title: 'y'.repeat(900) }, status: 200, check: () => smallCount(1) },
    {
      name: 'a JSON body over the limit',
      method: 'POST',
      url: X,
      body: { title: big },
      status: 413,
      expect: { status: 413, message: TOO_LARGE, data: {} },
      check: () => smallCount(1),
    },
    {
      name: 'an urlencoded body over the limit',
      method: 'POST',
      url: X,
      ...urlencoded({ title: big }),
      status: 413,
      expect: { message: TOO_LARGE },
      check: () => smallCount(1),
    },
    {
      name: 'an update over the limit',
      method: 'PATCH',
      url: X + '/whatever0000000',
      body: { title: big },
      status: 413,
      expect: { message: TOO_LARGE },
    },
  ]);

  describe('multipart bodies over the limit', () => {
    runScenarios(smallApp, [
      {
        name: 'a multipart body over the limit',
        method: 'POST',
        url: X,
        ...multipart({ title: big }),
        status: 413,
        expect: { message: TOO_LARGE },
        check: () => smallCount(1),
      },
      {
        name: 'a multipart @jsonPayload over the limit',
        method: 'POST',
        url: X,
        ...multipart({ '@jsonPayload': JSON.stringify({ title: big }) }),
        status: 413,
        expect: { message: TOO_LARGE },
        check: () => smallCount(1),
      },
    ]);
  });

  runScenarios(app, [
    {
      name: 'the default limit accepts the same body',
      method: 'POST',
      url: X,
      body: { title: big },
      status: 200,
      check: async (body) => {
        expect(body.title).toHaveLength(2000);
        expect(await viewAsSuperuser(t, su, 'things', body.id)).not.toBeNull();
      },
    },
  ]);
});
