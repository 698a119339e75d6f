/**
 * Body modifiers on create and update (spec §1.2 "Body modifiers"): number `+`/`-`, select and
 * relation append, prepend and remove, `text:autogenerate`, plain keys applied before modifiers,
 * and the same modifiers in multipart bodies.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { runScenarios } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';
import { CREATE_FAILED, UPDATE_FAILED, countAsSuperuser, multipart, urlencoded, viewAsSuperuser } from './records-helpers.js';

let t: TestApp;
let su = '';
const app = () => t;
const id: Record<string, string> = {};
const C = '/api/collections/counters/records';
const rec = () => `${C}/${id.r}`;
const CODE = /^[A-Z]{5}$/;
let lastCode = '';

beforeAll(async () => {
  t = await startTestApp();
  su = (await createSuperuser(t)).token;
  const open = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };
  await createCollection(t, { name: 'targets', type: 'base', ...open, fields: [{ name: 'name', type: 'text' }] });
  await createCollection(t, {
    name: 'counters',
    type: 'base',
    ...open,
    fields: [
      { name: 'title', type: 'text' },
      { name: 'n', type: 'number' },
      { name: 'tags', type: 'select', values: ['a', 'b', 'c', 'd'], maxSelect: 3 },
      { name: 'rels', type: 'relation', collectionId: 'targets', maxSelect: 5 },
      { name: 'code', type: 'text', autogeneratePattern: '[A-Z]{5}' },
      { name: 'slug', type: 'text' },
    ],
  });
  await createCollection(t, {
    name: 'capped',
    type: 'base',
    listRule: '',
    viewRule: '',
    createRule: '@request.body.n <= 10',
    updateRule: '@request.body.n:isset = false || @request.body.n <= 10',
    fields: [
      { name: 'title', type: 'text' },
      { name: 'n', type: 'number' },
    ],
  });
  id.capped = String((await createRecord(t, 'capped', { n: 8 })).values.id);
  for (const name of ['t1', 't2', 't3']) id[name] = String((await createRecord(t, 'targets', { name })).values.id);
  id.r = String((await createRecord(t, 'counters', { title: 'r', n: 10, tags: ['a', 'b'], rels: [id.t1], code: 'FIXED' })).values.id);
});

afterAll(async () => {
  await t?.close();
});

describe('modifiers on create', () => {
  runScenarios(app, [
    { name: 'number+ starts from zero', method: 'POST', url: C, body: { title: 'c1', 'n+': 3 }, status: 200, expect: { n: 3 } },
    { name: 'number- starts from zero', method: 'POST', url: C, body: { title: 'c2', 'n-': 3 }, status: 200, expect: { n: -3 } },
    { name: 'plain number then number+', method: 'POST', url: C, body: { 'n+': 5, n: 10 }, status: 200, expect: { n: 15 } },
    { name: 'an unset autogenerate field is generated', method: 'POST', url: C, body: { title: 'c3' }, status: 200, check: (body) => expect(body.code).toMatch(CODE) },
    { name: 'an explicit value wins over the pattern', method: 'POST', url: C, body: { code: 'mine' }, status: 200, expect: { code: 'mine' } },
    {
      name: 'text:autogenerate with a prefix',
      method: 'POST',
      url: C,
      body: { 'code:autogenerate': 'pre-' },
      status: 200,
      check: (body) => expect(body.code).toMatch(/^pre-[A-Z]{5}$/),
    },
    { name: 'plain select then select+', method: 'POST', url: C, body: { 'tags+': ['b'], tags: ['a'] }, status: 200, expect: { tags: ['a', 'b'] } },
    { name: '+select prepends to the plain value', method: 'POST', url: C, body: { '+tags': 'c', tags: ['a', 'b'] }, status: 200, expect: { tags: ['c', 'a', 'b'] } },
    { name: 'select- on create removes from the plain value', method: 'POST', url: C, body: { 'tags-': 'a', tags: ['a', 'b'] }, status: 200, expect: { tags: ['b'] } },
    { name: 'relation+ on create', method: 'POST', url: C, body: () => ({ 'rels+': [id.t2], rels: [id.t1] }), status: 200, check: (body) => expect(body.rels).toEqual([id.t1, id.t2]) },
  ]);
});

describe('modifiers on update', () => {
  runScenarios(app, [
    { name: 'number+', method: 'PATCH', url: rec, body: { 'n+': 5 }, status: 200, expect: { n: 15 } },
    { name: 'number+ is stored', method: 'GET', url: rec, status: 200, expect: { n: 15, title: 'r', tags: ['a', 'b'] } },
    { name: 'number-', method: 'PATCH', url: rec, body: { 'n-': 20 }, status: 200, expect: { n: -5 } },
    { name: 'number+ with a decimal', method: 'PATCH', url: rec, body: { 'n+': 2.5 }, status: 200, expect: { n: -2.5 } },
    { name: 'number+ with a numeric string', method: 'PATCH', url: rec, body: { 'n+': '2.5' }, status: 200, expect: { n: 0 } },
    { name: 'plain keys are applied before modifiers', method: 'PATCH', url: rec, body: { 'n+': 5, n: 10 }, status: 200, expect: { n: 15 } },
    { name: 'number- after a plain value', method: 'PATCH', url: rec, body: { n: 10, 'n-': 4 }, status: 200, expect: { n: 6 } },
    { name: 'select+ appends', method: 'PATCH', url: rec, body: { 'tags+': 'c' }, status: 200, expect: { tags: ['a', 'b', 'c'] } },
    { name: 'select- removes the listed values', method: 'PATCH', url: rec, body: { 'tags-': ['a', 'c'] }, status: 200, expect: { tags: ['b'] } },
    { name: '+select prepends', method: 'PATCH', url: rec, body: { '+tags': ['d'] }, status: 200, expect: { tags: ['d', 'b'] } },
    { name: 'select+ of a present value keeps values unique', method: 'PATCH', url: rec, body: { 'tags+': ['b'] }, status: 200, expect: { tags: ['d', 'b'] } },
    { name: 'select- of an absent value changes nothing', method: 'PATCH', url: rec, body: { 'tags-': 'a' }, status: 200, expect: { tags: ['d', 'b'] } },
    {
      name: 'select+ of a value outside the values',
      method: 'PATCH',
      url: rec,
      body: { 'tags+': 'zz' },
      status: 400,
      expect: { message: UPDATE_FAILED, data: { tags: { code: 'validation_invalid_value' } } },
      check: async () => expect((await viewAsSuperuser(t, su, 'counters', id.r)).tags).toEqual(['d', 'b']),
    },
    {
      name: 'select+ beyond maxSelect',
      method: 'PATCH',
      url: rec,
      body: { 'tags+': ['a', 'c'] },
      status: 400,
      expect: { message: UPDATE_FAILED, data: { tags: { code: 'validation_too_many_values' } } },
      check: async () => expect((await viewAsSuperuser(t, su, 'counters', id.r)).tags).toEqual(['d', 'b']),
    },
    { name: 'select+ up to maxSelect', method: 'PATCH', url: rec, body: { 'tags+': ['a'] }, status: 200, expect: { tags: ['d', 'b', 'a'] } },
    { name: 'a plain value then select-', method: 'PATCH', url: rec, body: { 'tags-': 'b', tags: ['a', 'b', 'c'] }, status: 200, expect: { tags: ['a', 'c'] } },
    { name: 'relation+ appends', method: 'PATCH', url: rec, body: () => ({ 'rels+': id.t2 }), status: 200, check: (body) => expect(body.rels).toEqual([id.t1, id.t2]) },
    { name: '+relation prepends', method: 'PATCH', url: rec, body: () => ({ '+rels': [id.t3] }), status: 200, check: (body) => expect(body.rels).toEqual([id.t3, id.t1, id.t2]) },
    { name: 'relation- removes', method: 'PATCH', url: rec, body: () => ({ 'rels-': [id.t1] }), status: 200, check: (body) => expect(body.rels).toEqual([id.t3, id.t2]) },
    {
      name: 'relation+ of a missing record',
      method: 'PATCH',
      url: rec,
      body: { 'rels+': 'missingrecord00' },
      status: 400,
      expect: { message: UPDATE_FAILED, data: { rels: { code: 'validation_missing_rel_records' } } },
      check: async () => expect((await viewAsSuperuser(t, su, 'counters', id.r)).rels).toEqual([id.t3, id.t2]),
    },
    { name: 'the record keeps its autogenerate value on update', method: 'PATCH', url: rec, body: { title: 'r2' }, status: 200, expect: { code: 'FIXED', title: 'r2' } },
    {
      name: 'text:autogenerate regenerates on update',
      method: 'PATCH',
      url: rec,
      body: { 'code:autogenerate': '' },
      status: 200,
      check: (body) => {
        expect(body.code).toMatch(CODE);
        lastCode = body.code;
      },
    },
    {
      name: 'text:autogenerate is applied after the plain key',
      method: 'PATCH',
      url: rec,
      body: { 'code:autogenerate': 'x-', code: 'ignored' },
      status: 200,
      check: (body) => {
        expect(body.code).toMatch(/^x-[A-Z]{5}$/);
        expect(body.code).not.toBe(lastCode);
      },
    },
    { name: 'text:autogenerate without a pattern keeps the prefix only', method: 'PATCH', url: rec, body: { 'slug:autogenerate': 'plain' }, status: 200, expect: { slug: 'plain' } },
    {
      name: 'modifiers of several fields with plain keys in one body',
      method: 'PATCH',
      url: rec,
      body: () => ({ title: 'mixed', n: 1, 'n+': 1, 'tags-': ['a'], 'rels+': [id.t1], '+tags': 'b' }),
      status: 200,
      check: (body) => {
        expect(body).toMatchObject({ title: 'mixed', n: 2, tags: ['b', 'c'] });
        expect(body.rels).toEqual([id.t3, id.t2, id.t1]);
      },
    },
    { name: 'the mixed update is stored', method: 'GET', url: rec, status: 200, expect: { title: 'mixed', n: 2, tags: ['b', 'c'] } },
  ]);
});

describe('modifiers in form bodies', () => {
  runScenarios(app, [
    {
      name: 'multipart: number+ and select+ parts (strings coerced)',
      method: 'PATCH',
      url: rec,
      ...multipart({ 'n+': '3', 'tags+': 'd' }),
      status: 200,
      expect: { n: 5, tags: ['b', 'c', 'd'] },
    },
    {
      name: 'multipart: a repeated select- part removes every value',
      method: 'PATCH',
      url: rec,
      ...multipart([
        ['tags-', 'b'],
        ['tags-', 'd'],
      ]),
      status: 200,
      expect: { tags: ['c'] },
    },
    {
      name: 'multipart: a plain part and its modifier',
      method: 'PATCH',
      url: rec,
      ...multipart([
        ['n-', '1'],
        ['n', '100'],
      ]),
      status: 200,
      expect: { n: 99 },
    },
    {
      name: 'multipart: modifiers in @jsonPayload',
      method: 'PATCH',
      url: rec,
      ...multipart({ title: 'json', '@jsonPayload': JSON.stringify({ 'n-': 9, '+tags': ['a'] }) }),
      status: 200,
      expect: { title: 'json', n: 90, tags: ['a', 'c'] },
    },
    {
      name: 'multipart: relation- and text:autogenerate',
      method: 'PATCH',
      url: rec,
      headers: multipart({}).headers,
      body: () => multipart({ 'rels-': id.t3, 'code:autogenerate': '' }).body,
      status: 200,
      check: (body) => {
        expect(body.rels).toEqual([id.t2, id.t1]);
        expect(body.code).toMatch(CODE);
      },
    },
    {
      name: 'urlencoded: number+ and select-',
      method: 'PATCH',
      url: rec,
      ...urlencoded({ 'n+': '10', 'tags-': 'a' }),
      status: 200,
      expect: { n: 100, tags: ['c'] },
    },
    {
      name: 'multipart: create with modifiers',
      method: 'POST',
      url: C,
      ...multipart([
        ['n+', '7'],
        ['tags', 'a'],
        ['tags+', 'b'],
        ['code:autogenerate', 'mp-'],
      ]),
      status: 200,
      check: (body) => {
        expect(body).toMatchObject({ n: 7, tags: ['a', 'b'] });
        expect(body.code).toMatch(/^mp-[A-Z]{5}$/);
      },
    },
  ]);
});

describe('invalid modifiers', () => {
  const unchanged = async () => expect(await viewAsSuperuser(t, su, 'counters', id.r)).toMatchObject({ n: 100, tags: ['c'], title: 'json' });
  runScenarios(app, [
    {
      name: 'number+ with a non-numeric value',
      method: 'PATCH',
      url: rec,
      body: { 'n+': 'abc' },
      status: 400,
      expect: { message: UPDATE_FAILED },
      check: async (body) => {
        expect(Object.keys(body.data)).toEqual(['n+']);
        await unchanged();
      },
    },
    {
      name: '+number (prepend) is not a number modifier',
      method: 'PATCH',
      url: rec,
      body: { '+n': 1 },
      status: 400,
      check: async (body) => {
        expect(Object.keys(body.data)).toEqual(['+n']);
        await unchanged();
      },
    },
    {
      name: 'text+ is not a modifier',
      method: 'PATCH',
      url: rec,
      body: { 'title+': 'x', n: 1 },
      status: 400,
      check: async (body) => {
        expect(Object.keys(body.data)).toEqual(['title+']);
        await unchanged();
      },
    },
    {
      name: 'a modifier of an unknown field',
      method: 'POST',
      url: C,
      body: { 'nope+': 1 },
      status: 400,
      expect: { message: CREATE_FAILED, data: { 'nope+': { code: 'validation_unknown_field' } } },
    },
    {
      name: 'select+ with an object',
      method: 'PATCH',
      url: rec,
      body: { 'tags+': { a: 1 } },
      status: 400,
      check: async (body) => {
        expect(Object.keys(body.data)).toEqual(['tags+']);
        await unchanged();
      },
    },
  ]);
});

describe('rules see the body after the modifiers', () => {
  const K = '/api/collections/capped/records';
  const capped = () => `${K}/${id.capped}`;
  runScenarios(app, [
    { name: 'number+ within the cap', method: 'PATCH', url: capped, body: { 'n+': 1 }, status: 200, expect: { n: 9 } },
    {
      name: 'number+ beyond the cap fails the update rule',
      method: 'PATCH',
      url: capped,
      body: { 'n+': 5 },
      status: 404,
      check: async () => expect((await viewAsSuperuser(t, su, 'capped', id.capped)).n).toBe(9),
    },
    { name: 'number- is resolved too', method: 'PATCH', url: capped, body: { n: 20, 'n-': 15 }, status: 200, expect: { n: 5 } },
    { name: 'other fields only', method: 'PATCH', url: capped, body: { title: 'x' }, status: 200, expect: { n: 5, title: 'x' } },
    { name: 'number+ on create within the cap', method: 'POST', url: K, body: { n: 4, 'n+': 6 }, status: 200, expect: { n: 10 } },
    {
      name: 'number+ on create beyond the cap',
      method: 'POST',
      url: K,
      body: { n: 4, 'n+': 7 },
      status: 400,
      expect: { message: CREATE_FAILED },
      check: async () => expect(await countAsSuperuser(t, su, 'capped')).toBe(2),
    },
  ]);
});
