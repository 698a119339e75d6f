/**
 * Access rules on the records API (spec §1.2 "Access-rule semantics", §2.1 request fields,
 * §3 rules): the exact status mapping per action, what rules can read about the request, and
 * hidden fields.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createAuthRecord, createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { runScenarios, type Scenario } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';
import {
  CREATE_FAILED,
  NOT_FOUND,
  SUPERUSERS_ONLY,
  SUPERUSERS_ONLY_FILTER,
  countAsSuperuser,
  listAsSuperuser,
  multipart,
  viewAsSuperuser,
} from './records-helpers.js';

let t: TestApp;
const app = () => t;
const tok: Record<string, string> = {};
const id: Record<string, string> = {};
const open = { listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' };
const su = () => tok.su;
const userA = () => tok.a;
const userB = () => tok.b;
const member = () => tok.member;
const url = (collection: string, recordId?: () => string) => () => `/api/collections/${collection}/records${recordId ? `/${recordId()}` : ''}`;
const seed = async (collection: string, data: Record<string, unknown>) => String((await createRecord(t, collection, data)).values.id);
const titles = (body: any) => body.items.map((i: any) => i.title).sort();

beforeAll(async () => {
  t = await startTestApp();
  tok.su = (await createSuperuser(t)).token;
  const a = await createAuthRecord(t, 'users', { email: 'a@example.com' });
  const b = await createAuthRecord(t, 'users', { email: 'b@example.com' });
  tok.a = a.token;
  tok.b = b.token;
  id.a = a.id;
  id.b = b.id;
  await createCollection(t, { name: 'members', type: 'auth' });
  tok.member = (await createAuthRecord(t, 'members', { email: 'm@example.com' })).token;

  await createCollection(t, { name: 'locked', type: 'base', fields: [{ name: 'title', type: 'text' }] });
  id.locked = await seed('locked', { title: 'L1' });
  await createCollection(t, { name: 'open', type: 'base', ...open, fields: [{ name: 'title', type: 'text' }] });
  id.open = await seed('open', { title: 'O1' });

  const ownerRule = 'owner = @request.auth.id';
  await createCollection(t, {
    name: 'owned',
    type: 'base',
    listRule: ownerRule,
    viewRule: ownerRule,
    createRule: ownerRule,
    updateRule: ownerRule,
    deleteRule: ownerRule,
    fields: [
      { name: 'title', type: 'text' },
      { name: 'owner', type: 'relation', collectionId: 'users', maxSelect: 1 },
    ],
  });
  id.a1 = await seed('owned', { title: 'a1', owner: id.a });
  id.a2 = await seed('owned', { title: 'a2', owner: id.a });
  id.a3 = await seed('owned', { title: 'a3', owner: id.a });
  id.b1 = await seed('owned', { title: 'b1', owner: id.b });
  id.b2 = await seed('owned', { title: 'b2', owner: id.b });

  const membersOnly = "@request.auth.collectionName = 'members'";
  await createCollection(t, { name: 'staff', type: 'base', listRule: membersOnly, viewRule: membersOnly, fields: [{ name: 'title', type: 'text' }] });
  id.staff1 = await seed('staff', { title: 's1' });
  await seed('staff', { title: 's2' });

  await createCollection(t, {
    name: 'drafts',
    type: 'base',
    listRule: '',
    viewRule: '',
    createRule: "@request.auth.id != '' && @request.body.status != 'published' && @request.body.score:isset = false",
    updateRule: "@request.auth.id != '' && @request.body.title:changed = false",
    fields: [
      { name: 'title', type: 'text' },
      { name: 'status', type: 'select', values: ['draft', 'published'], maxSelect: 1 },
      { name: 'score', type: 'number' },
    ],
  });
  id.draft = await seed('drafts', { title: 'keep', status: 'draft' });

  await createCollection(t, {
    name: 'methodical',
    type: 'base',
    listRule: "@request.method = 'GET'",
    viewRule: "@request.method = 'POST'",
    updateRule: "@request.method = 'PATCH'",
    deleteRule: "@request.method = 'PATCH'",
    fields: [{ name: 'title', type: 'text' }],
  });
  id.methodical = await seed('methodical', { title: 'm1' });

  await createCollection(t, {
    name: 'queried',
    type: 'base',
    listRule: "@request.query.key = 'secret'",
    viewRule: "@request.headers.x_token = 'abc'",
    fields: [{ name: 'title', type: 'text' }],
  });
  id.q1 = await seed('queried', { title: 'q1' });
  await seed('queried', { title: 'q2' });

  await createCollection(t, { name: 'teams', type: 'base', fields: [{ name: 'name', type: 'text' }] });
  await createCollection(t, {
    name: 'people',
    type: 'base',
    fields: [
      { name: 'name', type: 'text' },
      { name: 'team', type: 'relation', collectionId: 'teams', maxSelect: 1 },
    ],
  });
  const teamRule = "author.team.name = 'red'";
  await createCollection(t, {
    name: 'articles',
    type: 'base',
    listRule: teamRule,
    viewRule: teamRule,
    createRule: teamRule,
    fields: [
      { name: 'title', type: 'text' },
      { name: 'author', type: 'relation', collectionId: 'people', maxSelect: 1 },
    ],
  });
  const red = await seed('teams', { name: 'red' });
  const blue = await seed('teams', { name: 'blue' });
  const pRed = (id.pRed = await seed('people', { name: 'pr', team: red }));
  const pBlue = (id.pBlue = await seed('people', { name: 'pb', team: blue }));
  await seed('articles', { title: 'art1', author: pRed });
  id.art2 = await seed('articles', { title: 'art2', author: pBlue });
  id.art3 = await seed('articles', { title: 'art3', author: pRed });
  await seed('articles', { title: 'art4' });

  await createCollection(t, { name: 'projects', type: 'base', fields: [{ name: 'title', type: 'text' }] });
  await createCollection(t, {
    name: 'tasks',
    type: 'base',
    fields: [
      { name: 'project', type: 'relation', collectionId: 'projects', maxSelect: 1 },
      { name: 'done', type: 'bool' },
    ],
  });
  await t.app.collections.update('projects', { listRule: 'tasks_via_project.done ?= true', viewRule: 'tasks_via_project.done = true' });
  const p1 = await seed('projects', { title: 'p1' });
  id.p2 = await seed('projects', { title: 'p2' });
  id.p4 = await seed('projects', { title: 'p4' });
  await seed('projects', { title: 'p3' });
  await seed('tasks', { project: p1, done: true });
  await seed('tasks', { project: p1, done: false });
  await seed('tasks', { project: id.p2, done: false });
  await seed('tasks', { project: id.p4, done: true });

  await createCollection(t, { name: 'vips', type: 'base', fields: [{ name: 'user', type: 'relation', collectionId: 'users', maxSelect: 1 }] });
  await createCollection(t, { name: 'docs', type: 'base', listRule: '@collection.vips.user ?= @request.auth.id', fields: [{ name: 'title', type: 'text' }] });
  await seed('vips', { user: id.a });
  await seed('docs', { title: 'd1' });
  await seed('docs', { title: 'd2' });

  await createCollection(t, {
    name: 'secrets',
    type: 'base',
    ...open,
    fields: [
      { name: 'title', type: 'text' },
      { name: 'secret', type: 'text', hidden: true },
    ],
  });
  id.secret = await seed('secrets', { title: 'one', secret: 'sss' });
});

afterAll(async () => {
  await t?.close();
});

describe('null rules: superusers only', () => {
  const L = '/api/collections/locked/records';
  const forbidden = { status: 403, message: SUPERUSERS_ONLY, data: {} };
  const callers: [string, (() => string) | undefined][] = [
    ['guest', undefined],
    ['user', userA],
    ['other auth collection', member],
  ];
  const scenarios: Scenario[] = [];
  for (const [who, auth] of callers) {
    scenarios.push(
      { name: `${who}: list`, method: 'GET', url: L, auth, status: 403, expect: forbidden },
      { name: `${who}: view`, method: 'GET', url: url('locked', () => id.locked), auth, status: 403, expect: forbidden },
      {
        name: `${who}: create`,
        method: 'POST',
        url: L,
        auth,
        body: { title: 'intruder' },
        status: 403,
        expect: forbidden,
        check: async () => expect(await countAsSuperuser(t, su(), 'locked')).toBe(1),
      },
      {
        name: `${who}: update`,
        method: 'PATCH',
        url: url('locked', () => id.locked),
        auth,
        body: { title: 'changed' },
        status: 403,
        expect: forbidden,
        check: async () => expect((await viewAsSuperuser(t, su(), 'locked', id.locked)).title).toBe('L1'),
      },
      {
        name: `${who}: delete`,
        method: 'DELETE',
        url: url('locked', () => id.locked),
        auth,
        status: 403,
        expect: forbidden,
        check: async () => expect(await viewAsSuperuser(t, su(), 'locked', id.locked)).not.toBeNull(),
      },
      { name: `${who}: view of a missing record is still 403`, method: 'GET', url: `${L}/missingrecord00`, auth, status: 403, expect: forbidden },
    );
  }
  scenarios.push(
    { name: 'superuser: list', method: 'GET', url: L, auth: su, status: 200, expect: { totalItems: 1, items: [{ title: 'L1' }] } },
    { name: 'superuser: view', method: 'GET', url: url('locked', () => id.locked), auth: su, status: 200, expect: { title: 'L1' } },
    { name: 'superuser: create', method: 'POST', url: L, auth: su, body: { title: 'L2' }, status: 200, expect: { title: 'L2' }, after: (b) => void (id.locked2 = b.id) },
    { name: 'superuser: update', method: 'PATCH', url: url('locked', () => id.locked2), auth: su, body: { title: 'L2b' }, status: 200, expect: { title: 'L2b' } },
    {
      name: 'superuser: delete',
      method: 'DELETE',
      url: url('locked', () => id.locked2),
      auth: su,
      status: 204,
      check: async () => expect(await countAsSuperuser(t, su(), 'locked')).toBe(1),
    },
  );
  runScenarios(app, scenarios);
});

describe('empty rules: open to everyone', () => {
  const O = '/api/collections/open/records';
  runScenarios(app, [
    { name: 'guest: list', method: 'GET', url: O, status: 200, expect: { totalItems: 1, items: [{ title: 'O1' }] } },
    { name: 'guest: view', method: 'GET', url: url('open', () => id.open), status: 200, expect: { title: 'O1' } },
    { name: 'guest: create', method: 'POST', url: O, body: { title: 'O2' }, status: 200, expect: { title: 'O2' }, after: (b) => void (id.open2 = b.id) },
    { name: 'guest: update', method: 'PATCH', url: url('open', () => id.open2), body: { title: 'O2b' }, status: 200, expect: { title: 'O2b' } },
    {
      name: 'guest: delete',
      method: 'DELETE',
      url: url('open', () => id.open2),
      status: 204,
      check: async () => expect(await countAsSuperuser(t, su(), 'open')).toBe(1),
    },
  ]);
});

describe('filter rules: list filters, view/update/delete 404, create 400', () => {
  const W = '/api/collections/owned/records';
  runScenarios(app, [
    { name: 'guest list is empty, not an error', method: 'GET', url: W, status: 200, expect: { page: 1, totalItems: 0, totalPages: 0, items: [] } },
    {
      name: 'user A lists only their records',
      method: 'GET',
      url: W,
      auth: userA,
      status: 200,
      expect: { totalItems: 3, totalPages: 1 },
      check: (body) => {
        expect(titles(body)).toEqual(['a1', 'a2', 'a3']);
        for (const item of body.items) expect(item.owner).toBe(id.a);
      },
    },
    { name: 'user B lists only their records', method: 'GET', url: `${W}?perPage=1`, auth: userB, status: 200, expect: { perPage: 1, totalItems: 2, totalPages: 2, items: [{ title: 'b1' }] } },
    { name: 'the list rule is ANDed with the client filter', method: 'GET', url: `${W}?filter=${encodeURIComponent("title != 'a1'")}`, auth: userA, status: 200, check: (body) => expect(titles(body)).toEqual(['a2', 'a3']) },
    { name: 'a client filter cannot widen the list rule', method: 'GET', url: `${W}?filter=${encodeURIComponent("title = 'b1' || title = 'a1'")}`, auth: userA, status: 200, check: (body) => expect(titles(body)).toEqual(['a1']) },
    { name: 'superuser lists everything', method: 'GET', url: W, auth: su, status: 200, expect: { totalItems: 5 } },
    { name: 'owner views', method: 'GET', url: url('owned', () => id.a1), auth: userA, status: 200, expect: { title: 'a1' } },
    { name: 'another user views: 404', method: 'GET', url: url('owned', () => id.a1), auth: userB, status: 404, expect: { message: NOT_FOUND, data: {} } },
    { name: 'guest views: 404', method: 'GET', url: url('owned', () => id.a1), status: 404, expect: { message: NOT_FOUND } },
    {
      name: 'another user updates: 404 and nothing changes',
      method: 'PATCH',
      url: url('owned', () => id.a1),
      auth: userB,
      body: { title: 'hijacked' },
      status: 404,
      expect: { message: NOT_FOUND },
      check: async () => expect((await viewAsSuperuser(t, su(), 'owned', id.a1)).title).toBe('a1'),
    },
    {
      name: 'another user deletes: 404 and the record stays',
      method: 'DELETE',
      url: url('owned', () => id.a1),
      auth: userB,
      status: 404,
      expect: { message: NOT_FOUND },
      check: async () => expect(await viewAsSuperuser(t, su(), 'owned', id.a1)).not.toBeNull(),
    },
    {
      name: 'create failing the rule: 400 and nothing written',
      method: 'POST',
      url: W,
      auth: userB,
      body: () => ({ title: 'forged', owner: id.a }),
      status: 400,
      expect: { status: 400, message: CREATE_FAILED, data: {} },
      check: async () => {
        expect(await countAsSuperuser(t, su(), 'owned')).toBe(5);
        expect(await countAsSuperuser(t, su(), 'owned', "title = 'forged'")).toBe(0);
      },
    },
    {
      name: 'guest create failing the rule',
      method: 'POST',
      url: W,
      body: () => ({ title: 'anonymous', owner: id.a }),
      status: 400,
      expect: { message: CREATE_FAILED },
      check: async () => expect(await countAsSuperuser(t, su(), 'owned')).toBe(5),
    },
    {
      name: 'create satisfying the rule',
      method: 'POST',
      url: W,
      auth: userB,
      body: () => ({ title: 'b3', owner: id.b }),
      status: 200,
      check: (body) => expect(body.owner).toBe(id.b),
      after: (body) => void (id.b3 = body.id),
    },
    { name: 'owner updates', method: 'PATCH', url: url('owned', () => id.b3), auth: userB, body: { title: 'b3!' }, status: 200, expect: { title: 'b3!' } },
    {
      name: 'the update rule is checked against the stored record, not the submitted one',
      method: 'PATCH',
      url: url('owned', () => id.b3),
      auth: userA,
      body: () => ({ owner: id.a }),
      status: 404,
      check: async () => expect((await viewAsSuperuser(t, su(), 'owned', id.b3)).owner).toBe(id.b),
    },
    {
      name: 'owner deletes',
      method: 'DELETE',
      url: url('owned', () => id.b3),
      auth: userB,
      status: 204,
      check: async () => expect(await countAsSuperuser(t, su(), 'owned')).toBe(5),
    },
    {
      name: 'superuser bypasses the create rule',
      method: 'POST',
      url: W,
      auth: su,
      body: { title: 'no owner' },
      status: 200,
      check: async () => expect(await countAsSuperuser(t, su(), 'owned')).toBe(6),
    },
  ]);
});

describe('rules reading the request', () => {
  runScenarios(app, [
    // @request.auth.collectionName
    { name: 'collectionName: a users token sees nothing', method: 'GET', url: url('staff'), auth: userA, status: 200, expect: { totalItems: 0, items: [] } },
    { name: 'collectionName: a guest sees nothing', method: 'GET', url: url('staff'), status: 200, expect: { totalItems: 0 } },
    { name: 'collectionName: a members token sees all', method: 'GET', url: url('staff'), auth: member, status: 200, expect: { totalItems: 2 } },
    { name: 'collectionName: view by a member', method: 'GET', url: url('staff', () => id.staff1), auth: member, status: 200, expect: { title: 's1' } },
    { name: 'collectionName: view by a user', method: 'GET', url: url('staff', () => id.staff1), auth: userA, status: 404 },

    // @request.body.x, :isset, :changed
    { name: 'body: create satisfying the body rule', method: 'POST', url: url('drafts'), auth: userA, body: { title: 'd', status: 'draft' }, status: 200, expect: { status: 'draft' } },
    {
      name: 'body: a forbidden body value fails the create rule',
      method: 'POST',
      url: url('drafts'),
      auth: userA,
      body: { title: 'p', status: 'published' },
      status: 400,
      expect: { message: CREATE_FAILED },
      check: async () => expect(await countAsSuperuser(t, su(), 'drafts')).toBe(2),
    },
    {
      name: 'body :isset: submitting a field the rule forbids',
      method: 'POST',
      url: url('drafts'),
      auth: userA,
      body: { title: 's', score: 5 },
      status: 400,
      expect: { message: CREATE_FAILED },
      check: async () => expect(await countAsSuperuser(t, su(), 'drafts')).toBe(2),
    },
    { name: 'body :isset: even a zero value is set', method: 'POST', url: url('drafts'), auth: userA, body: { title: 'z', score: 0 }, status: 400 },
    {
      name: 'body: the rule reads multipart bodies too',
      method: 'POST',
      url: url('drafts'),
      auth: userA,
      ...multipart({ title: 'mp', status: 'published' }),
      status: 400,
      expect: { message: CREATE_FAILED },
      check: async () => expect(await countAsSuperuser(t, su(), 'drafts')).toBe(2),
    },
    {
      name: 'body: the rule reads @jsonPayload',
      method: 'POST',
      url: url('drafts'),
      auth: userA,
      ...multipart({ title: 'mp', '@jsonPayload': JSON.stringify({ score: 1 }) }),
      status: 400,
      check: async () => expect(await countAsSuperuser(t, su(), 'drafts')).toBe(2),
    },
    { name: 'body: a multipart body satisfying the rule', method: 'POST', url: url('drafts'), auth: userA, ...multipart({ title: 'mp', status: 'draft' }), status: 200, expect: { title: 'mp' } },
    { name: 'body: guests fail the auth part', method: 'POST', url: url('drafts'), body: { title: 'g' }, status: 400, expect: { message: CREATE_FAILED } },
    { name: 'body :changed: the same title is not a change', method: 'PATCH', url: url('drafts', () => id.draft), auth: userA, body: { title: 'keep', score: 3 }, status: 200, expect: { title: 'keep', score: 3 } },
    { name: 'body :changed: other fields only', method: 'PATCH', url: url('drafts', () => id.draft), auth: userA, body: { status: 'published' }, status: 200, expect: { title: 'keep', status: 'published' } },
    {
      name: 'body :changed: a new title fails the update rule',
      method: 'PATCH',
      url: url('drafts', () => id.draft),
      auth: userA,
      body: { title: 'changed' },
      status: 404,
      check: async () => expect((await viewAsSuperuser(t, su(), 'drafts', id.draft)).title).toBe('keep'),
    },

    // @request.method
    { name: 'method: list with GET', method: 'GET', url: url('methodical'), status: 200, expect: { totalItems: 1 } },
    { name: 'method: view is never a POST', method: 'GET', url: url('methodical', () => id.methodical), status: 404 },
    { name: 'method: update is a PATCH', method: 'PATCH', url: url('methodical', () => id.methodical), body: { title: 'm2' }, status: 200, expect: { title: 'm2' } },
    {
      name: 'method: delete is not a PATCH',
      method: 'DELETE',
      url: url('methodical', () => id.methodical),
      status: 404,
      check: async () => expect(await viewAsSuperuser(t, su(), 'methodical', id.methodical)).not.toBeNull(),
    },

    // @request.query and @request.headers
    { name: 'query: without the key', method: 'GET', url: url('queried'), status: 200, expect: { totalItems: 0, items: [] } },
    { name: 'query: with a wrong key', method: 'GET', url: '/api/collections/queried/records?key=guess', status: 200, expect: { totalItems: 0 } },
    { name: 'query: with the key', method: 'GET', url: '/api/collections/queried/records?key=secret', status: 200, expect: { totalItems: 2 } },
    { name: 'headers: with X-Token', method: 'GET', url: url('queried', () => id.q1), headers: { 'X-Token': 'abc' }, status: 200, expect: { title: 'q1' } },
    { name: 'headers: with a wrong X-Token', method: 'GET', url: url('queried', () => id.q1), headers: { 'X-Token': 'abd' }, status: 404 },
    { name: 'headers: without X-Token', method: 'GET', url: url('queried', () => id.q1), status: 404 },
  ]);
});

describe('rules reading other records', () => {
  runScenarios(app, [
    { name: 'relation path author.team.name', method: 'GET', url: url('articles'), status: 200, expect: { totalItems: 2 }, check: (body) => expect(titles(body)).toEqual(['art1', 'art3']) },
    { name: 'relation path: view of a matching record', method: 'GET', url: url('articles', () => id.art3), status: 200, expect: { title: 'art3' } },
    { name: 'relation path: view of another record', method: 'GET', url: url('articles', () => id.art2), status: 404 },
    {
      name: 'create rule through a relation path of the submitted data: miss',
      method: 'POST',
      url: url('articles'),
      body: () => ({ title: 'art5', author: id.pBlue }),
      status: 400,
      expect: { message: CREATE_FAILED },
      check: async () => expect(await countAsSuperuser(t, su(), 'articles')).toBe(4),
    },
    {
      name: 'create rule through a relation path of the submitted data: match',
      method: 'POST',
      url: url('articles'),
      body: () => ({ title: 'art5', author: id.pRed }),
      status: 200,
      check: async () => expect(await countAsSuperuser(t, su(), 'articles')).toBe(5),
    },
    { name: 'back-relation with ?= (any)', method: 'GET', url: url('projects'), status: 200, expect: { totalItems: 2 }, check: (body) => expect(titles(body)).toEqual(['p1', 'p4']) },
    { name: 'back-relation with = (all) on view: every task done', method: 'GET', url: url('projects', () => id.p4), status: 200, expect: { title: 'p4' } },
    { name: 'back-relation with = (all) on view: not every task done', method: 'GET', url: url('projects', () => id.p2), status: 404 },
    { name: '@collection with ?=: a vip sees all', method: 'GET', url: url('docs'), auth: userA, status: 200, expect: { totalItems: 2 } },
    { name: '@collection with ?=: a non-vip sees none', method: 'GET', url: url('docs'), auth: userB, status: 200, expect: { totalItems: 0, items: [] } },
    { name: '@collection with ?=: a guest sees none', method: 'GET', url: url('docs'), status: 200, expect: { totalItems: 0 } },
  ]);
});

describe('@request. and @collection. in client filter and sort', () => {
  const O = '/api/collections/open/records';
  const forbidden = { status: 403, message: SUPERUSERS_ONLY_FILTER, data: {} };
  const q = (s: string) => encodeURIComponent(s);
  runScenarios(app, [
    { name: 'guest filter with @request.', method: 'GET', url: `${O}?filter=${q("@request.auth.id = ''")}`, status: 403, expect: forbidden },
    { name: 'user filter with @request.', method: 'GET', url: `${O}?filter=${q("@request.auth.id != ''")}`, auth: userA, status: 403, expect: forbidden },
    { name: 'user filter with @collection.', method: 'GET', url: `${O}?filter=${q("@collection.docs.title ?= 'd1'")}`, auth: userA, status: 403, expect: forbidden },
    { name: 'guest sort with @request.', method: 'GET', url: `${O}?sort=${q('@request.auth.id')}`, status: 403, expect: forbidden },
    { name: 'user sort with @collection.', method: 'GET', url: `${O}?sort=${q('-@collection.docs.title')}`, auth: userB, status: 403, expect: forbidden },
    { name: 'the check is textual (also inside a string literal)', method: 'GET', url: `${O}?filter=${q("title = '@request.x'")}`, status: 403, expect: forbidden },
    { name: 'also on rule-filtered collections', method: 'GET', url: `/api/collections/owned/records?filter=${q("@request.auth.id != ''")}`, auth: userA, status: 403, expect: forbidden },
    { name: 'superuser may filter with @request.', method: 'GET', url: `${O}?filter=${q("@request.auth.id != ''")}`, auth: su, status: 200, expect: { totalItems: 1 } },
    { name: 'superuser may filter with @request. (false)', method: 'GET', url: `${O}?filter=${q("@request.auth.id = ''")}`, auth: su, status: 200, expect: { totalItems: 0 } },
    { name: 'superuser may filter with @collection.', method: 'GET', url: `${O}?filter=${q("@collection.docs.title ?= 'd1'")}`, auth: su, status: 200, expect: { totalItems: 1 } },
    { name: 'superuser may filter with @collection. (no match)', method: 'GET', url: `${O}?filter=${q("@collection.docs.title ?= 'nope'")}`, auth: su, status: 200, expect: { totalItems: 0 } },
    // A superuser passes the 403 check; @request.auth.id is a value, not a column, so it cannot
    // be sorted by (PocketBase's SortField.BuildExpr refuses resolved params too).
    { name: 'superuser sort with @request. is checked like any sort', method: 'GET', url: `${O}?sort=${q('@request.auth.id')}`, auth: su, status: 400, expect: { data: { sort: { code: 'validation_invalid_sort_field' } } } },
  ]);
});

describe('hidden fields', () => {
  const S = '/api/collections/secrets/records';
  runScenarios(app, [
    { name: 'guest list omits hidden fields', method: 'GET', url: S, status: 200, expect: { totalItems: 1, items: [{ title: 'one' }] }, absent: ['secret'] },
    { name: 'user view omits hidden fields', method: 'GET', url: url('secrets', () => id.secret), auth: userA, status: 200, expect: { title: 'one' }, absent: ['secret'] },
    { name: 'superuser list shows hidden fields', method: 'GET', url: S, auth: su, status: 200, expect: { items: [{ title: 'one', secret: 'sss' }] } },
    { name: 'superuser view shows hidden fields', method: 'GET', url: url('secrets', () => id.secret), auth: su, status: 200, expect: { secret: 'sss' } },
    {
      name: 'guest filter on a hidden field',
      method: 'GET',
      url: `${S}?filter=${encodeURIComponent("secret = 'sss'")}`,
      status: 400,
      expect: { message: 'Invalid filter parameters.' },
    },
    { name: 'user filter on a hidden field', method: 'GET', url: `${S}?filter=${encodeURIComponent("secret ~ 's'")}`, auth: userA, status: 400 },
    { name: 'guest sort on a hidden field', method: 'GET', url: `${S}?sort=-secret`, status: 400 },
    { name: 'superuser filter on a hidden field', method: 'GET', url: `${S}?filter=${encodeURIComponent("secret = 'sss'")}`, auth: su, status: 200, expect: { totalItems: 1 } },
    { name: 'superuser sort on a hidden field', method: 'GET', url: `${S}?sort=-secret`, auth: su, status: 200, expect: { totalItems: 1 } },
    { name: 'auth secrets are not filterable: tokenKey', method: 'GET', url: `/api/collections/users/records?filter=${encodeURIComponent("tokenKey ~ 'a'")}`, auth: userA, status: 400 },
    { name: 'auth secrets are not filterable: password', method: 'GET', url: `/api/collections/users/records?filter=${encodeURIComponent("password != ''")}`, auth: userA, status: 400 },
    { name: 'auth secrets are not filterable through a relation', method: 'GET', url: `/api/collections/owned/records?filter=${encodeURIComponent("owner.tokenKey ~ 'a'")}`, auth: userA, status: 400 },
    { name: 'auth secrets are not sortable through a relation', method: 'GET', url: '/api/collections/owned/records?sort=owner.password', auth: userA, status: 400 },
    {
      name: 'a back-relation filter from an auth collection (list rule still applies)',
      method: 'GET',
      url: `/api/collections/users/records?filter=${encodeURIComponent("owned_via_owner.title ?= 'a1'")}`,
      auth: userA,
      status: 200,
      expect: { totalItems: 1 },
    },
    {
      name: 'a guest create ignores hidden fields in the body',
      method: 'POST',
      url: S,
      body: { title: 'two', secret: 'mine' },
      status: 200,
      expect: { title: 'two' },
      absent: ['secret'],
      check: async (body) => expect((await viewAsSuperuser(t, su(), 'secrets', body.id)).secret).toBe(''),
    },
    {
      name: 'a user update ignores hidden fields in the body',
      method: 'PATCH',
      url: url('secrets', () => id.secret),
      auth: userA,
      body: { title: 'one!', secret: 'leaked' },
      status: 200,
      expect: { title: 'one!' },
      absent: ['secret'],
      check: async () => expect((await viewAsSuperuser(t, su(), 'secrets', id.secret)).secret).toBe('sss'),
    },
    {
      name: 'a superuser sets hidden fields',
      method: 'PATCH',
      url: url('secrets', () => id.secret),
      auth: su,
      body: { secret: 'rotated' },
      status: 200,
      expect: { secret: 'rotated' },
      check: async () => {
        const all = await listAsSuperuser(t, su(), 'secrets');
        expect(all.map((r) => r.secret)).toEqual(['rotated', '']);
      },
    },
  ]);
});
