import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let token = '';
const req = async (method: string, url: string, payload?: unknown, auth = token) => {
  const res = await t.server.inject({ method: method as any, url, payload: payload as any, headers: auth ? { authorization: auth } : {} });
  let body: any = res.body;
  try { body = res.json(); } catch { /* empty */ }
  return { status: res.statusCode, body };
};

beforeAll(async () => {
  t = await startTestApp();
  const { superuserCaller } = await import('../../src/core/auth/auth-service.js');
  const c = t.app.registry.find('_superusers')!;
  await t.app.records.writer.create(c, { data: { email: 'admin@example.com', password: 'password123', passwordConfirm: 'password123' } }, superuserCaller());
});
afterAll(async () => {
  await t?.close();
});

describe('smoke', () => {
  it('flows', async () => {
    let r = await req('POST', '/api/collections/_superusers/auth-with-password', { identity: 'admin@example.com', password: 'password123' }, '');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    token = r.body.token;
    r = await req('POST', '/api/collections', { name: 'posts', type: 'base', listRule: '', viewRule: '', createRule: '', fields: [
      { name: 'title', type: 'text', required: true },
      { name: 'views', type: 'number' },
      { name: 'tags', type: 'select', values: ['a', 'b', 'c'], maxSelect: 3 },
      { name: 'author', type: 'relation', collectionId: 'users', maxSelect: 1 },
      { name: 'data', type: 'json' },
      { name: 'created', type: 'autodate', onCreate: true },
    ], indexes: ['CREATE INDEX idx_posts_title ON posts (title)'] });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    r = await req('POST', '/api/collections/users/records', { email: 'u1@example.com', password: 'password123', passwordConfirm: 'password123', name: 'U1' }, '');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const user = r.body;
    for (let i = 0; i < 5; i++) {
      r = await req('POST', '/api/collections/posts/records', { title: 'post ' + i, views: i * 10, tags: i % 2 ? ['a', 'b'] : ['c'], author: user.id, data: { n: i, s: 'x' + i } }, '');
      expect(r.status, JSON.stringify(r.body)).toBe(200);
    }
    const filters = ["views > 15", "tags ~ 'a'", "tags:each ?= 'c'", "author.name = 'U1'", "data.n >= 3", "title ~ 'post%'", "created > '2000-01-01'", "@request.auth.id = ''", "author.email = 'u1@example.com'", "posts_via_author.id != ''", "strftime('%Y', created) >= '2020'", "geoDistance(0,0,1,1) > 100", "views:length > 0"];
    for (const f of filters) {
      r = await req('GET', '/api/collections/posts/records?filter=' + encodeURIComponent(f) + '&sort=-views,author.name&expand=author', undefined, '');
      console.log(f, r.status, r.status === 200 ? r.body.totalItems : JSON.stringify(r.body));
    }
    r = await req('GET', '/api/collections/posts/records?fields=title,expand.author.name&expand=author&perPage=2', undefined);
    console.log(JSON.stringify(r.body));
    r = await req('GET', '/api/collections/posts/records?perPage=1', undefined); r = await req('PATCH', `/api/collections/posts/records/${r.body.items[0].id}`, { 'views+': 5, 'tags-': ['c'] }, token);
    console.log(r.status, JSON.stringify(r.body));
    r = await req('PATCH', '/api/collections/posts', { fields: [...(await req('GET', '/api/collections/posts')).body.fields.map((f: any) => f.name === 'views' ? { ...f, name: 'hits', type: 'text' } : f)], listRule: 'views > 0' });
    console.log(r.status, JSON.stringify(r.body.listRule ?? r.body), JSON.stringify(r.body.indexes));
    r = await req('GET', '/api/collections/posts/records?sort=hits', undefined);
    console.log(r.status, JSON.stringify(r.body.items?.map((i: any) => i.hits)));
    r = await req('DELETE', `/api/collections/users/records/${user.id}`, undefined, token);
    console.log('delete user', r.status, JSON.stringify(r.body));
  });
});
