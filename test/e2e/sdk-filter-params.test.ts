/**
 * End-to-end: `pb.filter()` of the PocketBase JS SDK (0.28) quotes string parameters with
 * `JSON.stringify`, so whatever a string holds, `getFirstListItem(pb.filter('title = {:t}', {t}))`
 * must find the record whose title is exactly `t` (and `~` must find it too). Hand-written
 * filters keep PocketBase's reading (`'it\'s'`, `"a \"b\""`).
 */
import PocketBase from 'pocketbase';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCollection, createSuperuser } from '../harness/fixtures.js';
import { listenOnLoopback, startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let pb: PocketBase;

/** Titles that a naive reading of the quoted text mangles; each one is a record. */
const NASTY_TITLES: Record<string, string> = {
  backslash: 'back\\slash',
  'trailing backslash': 'ends with \\',
  'two backslashes': '\\\\',
  'backslash then quote': '\\"',
  'double quotes': 'say "hi"',
  'single quote': "it's",
  newline: 'line\nbreak',
  tab: 'tab\there',
  'carriage return': 'cr\r\nlf',
  'control characters': 'ctl \u0001\u0008\u000b\u000c\u001b\u001f\u007f',
  emoji: 'party 🎉 日本',
  'line and paragraph separators': 'sep \u2028 \u2029',
  'escape look-alikes': 'not escapes: \\n \\t \\u0041',
  'LIKE characters': '100% a_b \\%',
};

beforeAll(async () => {
  t = await startTestApp();
  pb = new PocketBase(await listenOnLoopback(t));
  pb.autoCancellation(false);
  const { token } = await createSuperuser(t);
  pb.authStore.save(token, { id: 'su', collectionId: 'pbc_3142635823', collectionName: '_superusers' });

  await createCollection(t, {
    name: 'posts',
    type: 'base',
    listRule: '',
    viewRule: '',
    fields: [{ name: 'title', type: 'text' }],
  });
  for (const title of Object.values(NASTY_TITLES)) await pb.collection('posts').create({ title });
  await pb.collection('posts').create({ title: 'plain' });
});

afterAll(async () => {
  await t?.close();
});

describe('pb.filter() string parameters round-trip', () => {
  it.each(Object.entries(NASTY_TITLES))('%s: = finds exactly that record', async (_name, title) => {
    const found = await pb.collection('posts').getFirstListItem(pb.filter('title = {:t}', { t: title }));
    expect(found.title).toBe(title);
    const all = await pb.collection('posts').getFullList({ filter: pb.filter('title = {:t}', { t: title }) });
    expect(all.map((r) => r.title)).toEqual([title]);
  });

  it.each(Object.entries(NASTY_TITLES))('%s: != excludes only that record', async (_name, title) => {
    const rest = await pb.collection('posts').getFullList({ filter: pb.filter('title != {:t}', { t: title }) });
    expect(rest.map((r) => r.title)).not.toContain(title);
    expect(rest).toHaveLength(Object.keys(NASTY_TITLES).length);
  });

  it.each(Object.entries(NASTY_TITLES).filter(([, title]) => !title.includes('%')))(
    '%s: ~ finds it as a substring',
    async (_name, title) => {
      const found = await pb.collection('posts').getFullList({ filter: pb.filter('title ~ {:t}', { t: title }) });
      expect(found.map((r) => r.title)).toContain(title);
    },
  );
});

describe('hand-written quoted text keeps PocketBase\'s escapes', () => {
  it.each([
    { filter: String.raw`title = 'it\'s'`, title: "it's" },
    { filter: String.raw`title = "say \"hi\""`, title: 'say "hi"' },
    { filter: String.raw`title = 'say "hi"'`, title: 'say "hi"' },
    { filter: `title = "it's"`, title: "it's" },
    // A backslash before a letter that is no escape is kept, in either quote style.
    { filter: String.raw`title ~ 'back\slash'`, title: 'back\\slash' },
    { filter: String.raw`title = 'not escapes: \n \t \u0041'`, title: 'not escapes: \\n \\t \\u0041' },
  ])('$filter', async ({ filter, title }) => {
    const found = await pb.collection('posts').getFullList({ filter });
    expect(found.map((r) => r.title)).toEqual([title]);
  });
});
