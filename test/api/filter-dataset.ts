/**
 * The dataset the filter-language suites share (filter-semantics, filter-fuzz): orgs ← teams ←
 * users (auth) ← posts → comments / reviews, with every field type the filter language handles
 * and deliberately empty, zero and NULL-ish values. Seeded through the services the API uses, so
 * it is the same data on every engine. Records have fixed ids so results can be compared across
 * engines by id; tests name them by their stable `title` / `name`.
 */
import type { TestApp } from '../harness/test-app.js';
import { createAuthRecord, createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';

export interface FilterDataset {
  /** post title → post id */
  posts: Record<string, string>;
  /** user name key (alice, bob, carol, dave) → user id */
  users: Record<string, string>;
  /** user name key → auth token */
  tokens: Record<string, string>;
  teams: Record<string, string>;
  orgs: Record<string, string>;
  comments: Record<string, string>;
  superuserToken: string;
}

/** Fixed 15-character ids ([a-z0-9]) so every engine holds identical rows. */
const id = (prefix: string, n: number) => `${prefix}${'0'.repeat(15 - prefix.length - String(n).length)}${n}`;

export const POST_TITLES = ['Alpha', 'Beta', 'Gamma', 'delta', 'Epsilon 100%', 'Zeta_x'] as const;
export type PostTitle = (typeof POST_TITLES)[number];

/** Field paths of `posts` that resolve (for the fuzzers), grouped by what they yield. */
export const POST_FIELD_PATHS = {
  text: ['id', 'title', 'body', 'code', 'status', 'publishAt', 'created', 'updated', 'secret', 'author', 'author.name', 'author.email', 'author.team.name', 'author.team.org.name', 'author.team.org.country', 'editors.name', 'editors.team.name', 'teams.name', 'teams.org.name', 'comments_via_post.text', 'reviews_via_posts.id', 'title:lower', 'author.name:lower', 'tags:each', 'editors:each', 'tags', 'editors', 'teams', 'data.s', 'data.list.0', 'data.nested.deep.v'],
  number: ['views', 'score', 'comments_via_post.likes', 'reviews_via_posts.stars', 'tags:length', 'editors:length', 'teams:length', 'data.n', 'data.a.b', 'loc.lon', 'loc.lat', 'teams.org.hq.lat'],
  bool: ['published', 'author.verified', 'author.emailVisibility', 'data.flag'],
  json: ['data', 'data.list', 'data.obj', 'loc'],
} as const;

export async function seedFilterDataset(t: TestApp): Promise<FilterDataset> {
  const su = await createSuperuser(t);

  await createCollection(t, {
    name: 'orgs',
    type: 'base',
    listRule: '',
    viewRule: '',
    fields: [
      { name: 'name', type: 'text' },
      { name: 'country', type: 'text' },
      { name: 'hq', type: 'geoPoint' },
      { name: 'created', type: 'autodate', onCreate: true },
    ],
  });
  await createCollection(t, {
    name: 'teams',
    type: 'base',
    listRule: '',
    viewRule: '',
    fields: [
      { name: 'name', type: 'text' },
      { name: 'org', type: 'relation', collectionId: 'orgs', maxSelect: 1 },
      { name: 'created', type: 'autodate', onCreate: true },
    ],
  });
  const users = t.app.registry.find('users')!;
  await t.app.collections.update('users', {
    fields: [
      ...users.data.fields,
      { name: 'team', type: 'relation', collectionId: 'teams', maxSelect: 1 },
      { name: 'role', type: 'select', values: ['admin', 'editor', 'viewer'], maxSelect: 1 },
    ],
  });
  await createCollection(t, {
    name: 'posts',
    type: 'base',
    listRule: null,
    viewRule: null,
    fields: [
      { name: 'title', type: 'text', required: true },
      { name: 'body', type: 'text' },
      { name: 'code', type: 'text' },
      { name: 'views', type: 'number' },
      { name: 'score', type: 'number' },
      { name: 'published', type: 'bool' },
      { name: 'publishAt', type: 'date' },
      { name: 'status', type: 'select', values: ['draft', 'published', 'archived'], maxSelect: 1 },
      { name: 'tags', type: 'select', values: ['go', 'js', 'sql', 'rust'], maxSelect: 4 },
      { name: 'author', type: 'relation', collectionId: 'users', maxSelect: 1 },
      { name: 'editors', type: 'relation', collectionId: 'users', maxSelect: 5 },
      { name: 'teams', type: 'relation', collectionId: 'teams', maxSelect: 5 },
      { name: 'data', type: 'json' },
      { name: 'loc', type: 'geoPoint' },
      { name: 'secret', type: 'text', hidden: true },
      { name: 'created', type: 'autodate', onCreate: true },
      { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
    ],
  });
  await createCollection(t, {
    name: 'comments',
    type: 'base',
    listRule: '',
    viewRule: '',
    fields: [
      { name: 'post', type: 'relation', collectionId: 'posts', maxSelect: 1 },
      { name: 'author', type: 'relation', collectionId: 'users', maxSelect: 1 },
      { name: 'text', type: 'text' },
      { name: 'likes', type: 'number' },
      { name: 'created', type: 'autodate', onCreate: true },
    ],
  });
  await createCollection(t, {
    name: 'reviews',
    type: 'base',
    listRule: '',
    viewRule: '',
    fields: [
      { name: 'posts', type: 'relation', collectionId: 'posts', maxSelect: 5 },
      { name: 'stars', type: 'number' },
    ],
  });

  // a back-relation through a relation with a single-column unique index is single-valued
  await createCollection(t, {
    name: 'stats',
    type: 'base',
    listRule: '',
    viewRule: '',
    fields: [
      { name: 'post', type: 'relation', collectionId: 'posts', maxSelect: 1 },
      { name: 'hits', type: 'number' },
    ],
    indexes: ['CREATE UNIQUE INDEX idx_stats_post ON stats (post)'],
  });

  const orgs: Record<string, string> = {};
  const orgRows = [
    { name: 'Acme', country: 'DE', hq: { lon: 13.405, lat: 52.52 } }, // Berlin
    { name: 'Globex', country: 'FR', hq: { lon: 2.3522, lat: 48.8566 } }, // Paris
    { name: 'Initech', country: '', hq: { lon: 0, lat: 0 } },
  ];
  for (const [i, o] of orgRows.entries()) orgs[o.name] = String((await createRecord(t, 'orgs', { id: id('org', i + 1), ...o })).values.id);

  const teams: Record<string, string> = {};
  const teamRows = [
    { name: 'Red', org: orgs.Acme },
    { name: 'Blue', org: orgs.Globex },
    { name: 'Green', org: '' },
    { name: 'Amber', org: orgs.Initech },
  ];
  for (const [i, tm] of teamRows.entries()) teams[tm.name] = String((await createRecord(t, 'teams', { id: id('team', i + 1), ...tm })).values.id);

  const userRows = [
    { key: 'alice', email: 'alice@example.com', name: 'Alice', team: teams.Red, role: 'editor', emailVisibility: true, verified: true },
    { key: 'bob', email: 'bob@example.com', name: 'Bob', team: teams.Blue, role: 'viewer', emailVisibility: false, verified: false },
    { key: 'carol', email: 'carol@example.com', name: 'carol', team: teams.Green, role: 'admin', emailVisibility: true, verified: true },
    { key: 'dave', email: 'dave@example.com', name: '', team: '', role: '', emailVisibility: false, verified: false },
  ];
  const usersById: Record<string, string> = {};
  const tokens: Record<string, string> = {};
  for (const [i, u] of userRows.entries()) {
    const { key, ...data } = u;
    const created = await createAuthRecord(t, 'users', { id: id('user', i + 1), ...data });
    usersById[key] = created.id;
    tokens[key] = created.token;
  }
  const U = usersById;

  const postRows: (Record<string, unknown> & { title: PostTitle })[] = [
    {
      title: 'Alpha',
      body: 'Hello World',
      code: '50%_off',
      views: 10,
      score: 2.5,
      published: true,
      publishAt: '1999-05-01 10:30:00.000Z',
      status: 'published',
      tags: ['go', 'js'],
      author: U.alice,
      editors: [U.alice, U.bob],
      teams: [teams.Red, teams.Blue],
      data: { n: 5, s: 'hello', a: { b: 1 }, list: ['x', 'y'], flag: true },
      loc: { lon: 13.4, lat: 52.52 },
      secret: 'top',
    },
    {
      title: 'Beta',
      body: '',
      code: 'a_b',
      views: 0,
      score: -1,
      published: false,
      publishAt: '2199-12-31 23:00:00.000Z',
      status: 'draft',
      tags: ['sql'],
      author: U.bob,
      editors: [U.alice],
      teams: [teams.Red],
      data: { n: '5', s: '', list: [], flag: false },
      loc: { lon: 2.35, lat: 48.85 },
      secret: 'low',
    },
    {
      title: 'Gamma',
      body: 'hello again',
      code: 'axb',
      views: 100,
      score: 0,
      published: true,
      publishAt: '',
      status: '',
      tags: [],
      author: U.alice,
      editors: [],
      teams: [],
      // data left unset: stored as NULL
      secret: '',
    },
    {
      title: 'delta',
      body: 'ÉCOLE café',
      code: 'C:\\temp',
      views: 55,
      score: 10.25,
      published: false,
      publishAt: '2001-01-01 00:00:00.000Z',
      status: 'archived',
      tags: ['go', 'js', 'sql', 'rust'],
      author: '',
      editors: [U.bob, U.carol],
      teams: [teams.Blue, teams.Green],
      data: { n: 7, a: { b: 2 }, list: ['y'], nested: { deep: { v: 'z' } } },
      loc: { lon: 139.69, lat: 35.68 },
      secret: 'top',
    },
    {
      title: 'Epsilon 100%',
      body: 'école',
      code: '100%',
      views: 5,
      score: 1,
      published: true,
      publishAt: '2050-06-15 12:00:00.000Z',
      status: 'published',
      tags: ['rust'],
      author: U.carol,
      editors: [U.carol],
      teams: [teams.Green],
      data: { n: 0, s: 'Hello', obj: { k: 1 } },
      loc: { lon: 13.41, lat: 52.52 },
      secret: 'mid',
    },
    {
      title: 'Zeta_x',
      body: 'underscore_here',
      code: 'A_B',
      views: 10,
      score: 2.5,
      published: false,
      publishAt: '1999-05-01 10:30:00.000Z',
      status: 'draft',
      tags: ['js', 'go'],
      author: U.dave,
      editors: [U.dave],
      teams: [teams.Amber],
      data: [1, 2, 3],
      loc: { lon: 0, lat: 0 },
      secret: 'x',
    },
  ];
  const posts: Record<string, string> = {};
  for (const [i, p] of postRows.entries()) posts[p.title] = String((await createRecord(t, 'posts', { id: id('post', i + 1), ...p })).values.id);

  const comments: Record<string, string> = {};
  const commentRows = [
    { key: 'c1', post: posts.Alpha, author: U.bob, text: 'Great post', likes: 12 },
    { key: 'c2', post: posts.Alpha, author: U.carol, text: 'meh', likes: 3 },
    { key: 'c3', post: posts.Beta, author: U.alice, text: 'great!', likes: 20 },
    { key: 'c4', post: posts.delta, author: U.alice, text: 'first', likes: 0 },
  ];
  for (const [i, c] of commentRows.entries()) {
    const { key, ...data } = c;
    comments[key] = String((await createRecord(t, 'comments', { id: id('cmt', i + 1), ...data })).values.id);
  }
  const reviewRows = [
    { posts: [posts.Alpha, posts.Beta], stars: 5 },
    { posts: [posts.Alpha], stars: 2 },
    { posts: [posts.delta], stars: 4 },
  ];
  for (const [i, r] of reviewRows.entries()) await createRecord(t, 'reviews', { id: id('rev', i + 1), ...r });
  await createRecord(t, 'stats', { id: id('stat', 1), post: posts.Alpha, hits: 7 });
  await createRecord(t, 'stats', { id: id('stat', 2), post: posts.Beta, hits: 0 });

  return { posts, users: usersById, tokens, teams, orgs, comments, superuserToken: su.token };
}
