/**
 * The filter language's semantics, end to end (spec §2.1, PocketBase's record field resolver as
 * the reference): one table of `filter → exact set of records`, listed by a superuser through
 * `GET /api/collections/posts/records`; then list rules evaluated for users and guests, size
 * limits, and `@request.body` in create/update rules.
 *
 * The same table runs on every engine (BASALT_TEST_DB=sqlite|postgres); an engine giving other
 * rows than PocketBase would is a bug. Rows that Basalt currently gets wrong keep the correct
 * expectation and name the engines to skip in `bugOn`, with a `// BUG:` note (expected vs actual).
 * BASALT_TEST_KNOWN_BUGS=1 runs those rows too: they must then fail, and only on those engines.
 *
 * Dataset (test/api/filter-dataset.ts), in short:
 *
 * | post          | views | score | pub | publishAt        | status    | tags           | author | editors     | teams       |
 * |---------------|-------|-------|-----|------------------|-----------|----------------|--------|-------------|-------------|
 * | Alpha         | 10    | 2.5   | T   | 1999-05-01 10:30 | published | go,js          | alice  | alice,bob   | Red,Blue    |
 * | Beta          | 0     | -1    | F   | 2199-12-31 23:00 | draft     | sql            | bob    | alice       | Red         |
 * | Gamma         | 100   | 0     | T   | ''               | ''        | —              | alice  | —           | —           |
 * | delta         | 55    | 10.25 | F   | 2001-01-01 00:00 | archived  | go,js,sql,rust | ''     | bob,carol   | Blue,Green  |
 * | Epsilon 100%  | 5     | 1     | T   | 2050-06-15 12:00 | published | rust           | carol  | carol       | Green       |
 * | Zeta_x        | 10    | 2.5   | F   | 1999-05-01 10:30 | draft     | js,go          | dave   | dave        | Amber       |
 *
 * users: alice (Alice, team Red, editor, email visible, verified), bob (Bob, Blue, viewer),
 * carol (carol, Green, admin, email visible, verified), dave ('' name, no team, no role).
 * teams → orgs: Red → Acme (DE, Berlin), Blue → Globex (FR, Paris), Green → none, Amber → Initech ('' country, 0,0).
 * comments: Alpha ← bob "Great post" 12, carol "meh" 3; Beta ← alice "great!" 20; delta ← alice "first" 0.
 * reviews (multi relation `posts`): [Alpha, Beta] 5★, [Alpha] 2★, [delta] 4★.
 * stats (single relation `post` with a unique index): Alpha 7 hits, Beta 0.
 * data (json): Alpha {n:5, s:'hello', a:{b:1}, list:[x,y], flag:true}; Beta {n:'5', s:'', list:[],
 * flag:false}; Gamma NULL; delta {n:7, a:{b:2}, list:[y], nested:{deep:{v:'z'}}}; Epsilon {n:0,
 * s:'Hello', obj:{k:1}}; Zeta_x [1,2,3]. code: '50%_off', 'a_b', 'axb', 'C:\temp', '100%', 'A_B'.
 * body: 'Hello World', '', 'hello again', 'ÉCOLE café', 'école', 'underscore_here'.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { ENGINE, PG_ADMIN_URL, type Engine } from '../harness/engines.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';
import { POST_TITLES, seedFilterDataset, type FilterDataset, type PostTitle } from './filter-dataset.js';

type Who = 'superuser' | 'alice' | 'bob' | 'carol' | 'dave' | 'guest';

interface Row {
  /** `{{alice}}`, `{{Alpha}}`, `{{Red}}`… are replaced by the record ids. */
  filter: string;
  expect: readonly PostTitle[];
  query?: Query;
  headers?: Headers;
  /** Engines on which Basalt gives another result (see the `// BUG:` note above the row). */
  bugOn?: readonly Engine[];
}

const ALL = POST_TITLES;
/** BASALT_TEST_KNOWN_BUGS=1 runs the `bugOn` rows too (they should then fail where listed). */
const RUN_KNOWN_BUGS = process.env.BASALT_TEST_KNOWN_BUGS === '1';
const testFor = (bugOn: readonly Engine[] | undefined) => (bugOn?.includes(ENGINE) && !RUN_KNOWN_BUGS ? it.skip : it);

let t: TestApp;
let ds: FilterDataset;

beforeAll(async () => {
  t = await startTestApp();
  ds = await seedFilterDataset(t);
});
afterAll(async () => {
  await t?.close();
});

function substitute(filter: string): string {
  const ids: Record<string, string> = { ...ds.users, ...ds.posts, ...ds.teams, ...ds.orgs };
  return filter.replace(/\{\{(\w+)\}\}/g, (m, key: string) => {
    if (!(key in ids)) throw new Error(`unknown record ${m}`);
    return ids[key];
  });
}

function tokenOf(who: Who): string | undefined {
  if (who === 'guest') return undefined;
  return who === 'superuser' ? ds.superuserToken : ds.tokens[who];
}

type Query = Record<string, string | string[]>;
type Headers = Record<string, string | string[]>;

function queryString(query: Query | undefined): string {
  return new URLSearchParams(Object.entries(query ?? {}).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x): [string, string] => [k, x]))).toString();
}

async function list(who: Who, filter: string | null, options: { query?: Query; headers?: Headers } = {}) {
  const params = new URLSearchParams({ perPage: '500', sort: '@rowid' });
  if (filter !== null) params.set('filter', substitute(filter));
  const extra = queryString(options.query);
  const url = `/api/collections/posts/records?${params.toString()}${extra ? `&${extra}` : ''}`;
  const token = tokenOf(who);
  const reply = await t.server.inject({ method: 'GET', url, headers: { ...(options.headers ?? {}), ...(token ? { authorization: token } : {}) } });
  const res = { status: reply.statusCode, body: reply.body === '' ? undefined : (JSON.parse(reply.body) as any) };
  if (res.status >= 400) {
    // the standard error shape (spec §1.1)
    expect(Object.keys(res.body ?? {}).sort()).toEqual(['data', 'message', 'status']);
    expect(res.body.status).toBe(res.status);
  }
  const ids: string[] = res.status === 200 ? res.body.items.map((i: { id: string }) => i.id) : [];
  if (res.status === 200) expect(res.body.totalItems, 'COUNT(*) and the page disagree').toBe(ids.length);
  return { status: res.status, body: res.body, ids };
}

/** Test names without control characters. */
function printable(text: string): string {
  return [...text].map((c) => (c === '\n' ? '⏎' : c.charCodeAt(0) < 32 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c)).join('');
}

function titlesOf(ids: string[]): string[] {
  const byId = new Map(Object.entries(ds.posts).map(([title, id]) => [id, title]));
  return ids.map((id) => byId.get(id) ?? `?${id}`);
}

async function expectRows(who: Who, filter: string | null, expected: readonly PostTitle[], options: { query?: Query; headers?: Headers } = {}) {
  const res = await list(who, filter, options);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  // Compare ids (sorted by @rowid = seeding order); the message names them by title.
  expect(res.ids, `got ${JSON.stringify(titlesOf(res.ids))}`).toEqual(POST_TITLES.filter((p) => expected.includes(p)).map((p) => ds.posts[p]));
}

// ---------------------------------------------------------------------------------------------
// The table. Titles: Alpha, Beta, Gamma, delta, 'Epsilon 100%', Zeta_x.
// ---------------------------------------------------------------------------------------------

const A = 'Alpha', B = 'Beta', G = 'Gamma', D = 'delta', E = 'Epsilon 100%', Z = 'Zeta_x';

const operators: Row[] = [
  { filter: "title = 'Alpha'", expect: [A] },
  { filter: "title = 'alpha'", expect: [] },
  { filter: "title != 'Alpha'", expect: [B, G, D, E, Z] },
  { filter: "title ~ 'ALPHA'", expect: [A] },
  { filter: "title !~ 'a'", expect: [E] },
  { filter: "title > 'Beta'", expect: [G, D, E, Z] },
  { filter: "title >= 'Beta'", expect: [B, G, D, E, Z] },
  // binary collation: every capitalised title sorts before 'a' (SQLite BINARY, PostgreSQL "C")
  { filter: "title < 'a'", expect: [A, B, G, E, Z] },
  { filter: "title <= 'Alpha'", expect: [A] },
  { filter: "title ?= 'Beta'", expect: [B] },
  { filter: "title ?!= 'Beta'", expect: [A, G, D, E, Z] },
  { filter: "title ?~ 'eta'", expect: [B, Z] },
  { filter: "title ?!~ 'eta'", expect: [A, G, D, E] },
  { filter: 'views ?> 50', expect: [G, D] },
  { filter: 'views ?>= 55', expect: [G, D] },
  { filter: 'views ?< 5', expect: [B] },
  { filter: 'views ?<= 5', expect: [B, E] },
  { filter: 'title = "Alpha"', expect: [A] },
  { filter: "title = 'it\\'s' || title = \"Beta\"", expect: [B] },
  { filter: "title = 'a\u0000b'", expect: [] },
];

const numbers: Row[] = [
  { filter: 'views = 10', expect: [A, Z] },
  { filter: 'views != 10', expect: [B, G, D, E] },
  { filter: 'views > 10', expect: [G, D] },
  { filter: 'views >= 10', expect: [A, G, D, Z] },
  { filter: 'views < 10', expect: [B, E] },
  { filter: 'views <= 0', expect: [B] },
  { filter: 'views = 0', expect: [B] },
  { filter: 'views = 10.0', expect: [A, Z] },
  { filter: 'score = 2.5', expect: [A, Z] },
  { filter: 'score < 0', expect: [B] },
  { filter: 'score > -1', expect: [A, G, D, E, Z] },
  { filter: 'score >= -1.0', expect: ALL },
  { filter: '10 < views', expect: [G, D] },
  // numeric strings compare as numbers against number fields (NUMERIC affinity in PocketBase)
  { filter: "views = '10'", expect: [A, Z] },
  { filter: "views > '9'", expect: [A, G, D, Z] },
  // number fields are never NULL/'': they equal neither
  { filter: "views = ''", expect: [] },
  { filter: 'views = null', expect: [] },
  { filter: 'views != null', expect: ALL },
  { filter: "views ~ '5'", expect: [D, E] },
  { filter: "score ~ '.25'", expect: [D] },
  // numbers render as text the same way on every engine (integers without a fraction)
  { filter: "score ~ '.'", expect: [A, D, Z] },
  { filter: "score ~ '-1'", expect: [B] },
  { filter: "views ~ '.'", expect: [] },
  { filter: 'views = true', expect: [] },
  { filter: 'views = score', expect: [] },
  { filter: 'views > score', expect: [A, B, G, D, E, Z] },
  { filter: "'10' = 10", expect: [] },
  { filter: '1 = 1', expect: ALL },
  { filter: '1 = 2', expect: [] },
];

const bools: Row[] = [
  { filter: 'published = true', expect: [A, G, E] },
  { filter: 'published = false', expect: [B, D, Z] },
  { filter: 'published != true', expect: [B, D, Z] },
  { filter: 'true = published', expect: [A, G, E] },
  { filter: 'published = 1', expect: [A, G, E] },
  { filter: 'published = 0', expect: [B, D, Z] },
  { filter: 'published = null', expect: [] },
  { filter: 'published != null', expect: ALL },
  { filter: 'published = 2', expect: [] },
  { filter: 'true = true', expect: ALL },
  { filter: 'true = false', expect: [] },
  { filter: 'TRUE = true', expect: ALL },
  { filter: 'published = true && published != false', expect: [A, G, E] },
  { filter: 'published > false', expect: [A, G, E] },
  { filter: 'published < 1', expect: [B, D, Z] },
  { filter: 'published > 0.5', expect: [A, G, E] },
  { filter: "published ~ '1'", expect: [A, G, E] },
  { filter: "published ~ 'tru'", expect: [] },
];

const nullish: Row[] = [
  { filter: "body = ''", expect: [B] },
  { filter: 'body = null', expect: [B] },
  { filter: 'null = body', expect: [B] },
  { filter: "body != ''", expect: [A, G, D, E, Z] },
  { filter: 'body != null', expect: [A, G, D, E, Z] },
  { filter: "'' != body", expect: [A, G, D, E, Z] },
  { filter: "status = ''", expect: [G] },
  { filter: 'status = null', expect: [G] },
  { filter: "status != ''", expect: [A, B, D, E, Z] },
  { filter: "author = ''", expect: [D] },
  { filter: "author != ''", expect: [A, B, G, E, Z] },
  { filter: "publishAt = ''", expect: [G] },
  { filter: "secret = ''", expect: [G] },
  { filter: "secret = 'top'", expect: [A, D] },
  { filter: "null = ''", expect: ALL },
  { filter: "null != ''", expect: [] },
  { filter: 'null = null', expect: ALL },
  { filter: "'' = ''", expect: ALL },
  { filter: 'body = body', expect: ALL },
  { filter: 'body != body', expect: [] },
  { filter: 'body = secret', expect: [] },
  { filter: 'status = secret', expect: [G] },
];

const logic: Row[] = [
  { filter: "title = 'Beta' || title = 'Alpha' && views > 50", expect: [B] },
  { filter: "(title = 'Beta' || title = 'Alpha') && views > 50", expect: [] },
  { filter: "views > 50 && published = true || title = 'Beta'", expect: [B, G] },
  { filter: "views > 50 && (published = true || title = 'Beta')", expect: [G] },
  { filter: "((title = 'Alpha'))", expect: [A] },
  { filter: "(views > 5 || views < 1) && (tags ~ 'go' || tags ~ 'sql')", expect: [A, B, D, Z] },
  { filter: "title = 'Alpha' || title = 'Beta' || title = 'Gamma' && views = 0", expect: [A, B] },
  { filter: "title = 'Alpha' && views = 10 || title = 'Zeta_x' && views = 10", expect: [A, Z] },
  { filter: "title = 'Alpha' // a comment\n|| title = 'Gamma'", expect: [A, G] },
  { filter: "// leading comment\ntitle = 'Beta'", expect: [B] },
  { filter: "title = 'Alpha' || title = 'Beta' // && title = 'nothing'", expect: [A, B] },
  { filter: "title = 'Alpha'\n// title = 'Beta'\n|| title = 'delta'", expect: [A, D] },
  { filter: "title = '// not a comment' || title = 'Gamma'", expect: [G] },
  { filter: "\ttitle\t=\t'Alpha'\r\n||\n\ntitle='Beta'", expect: [A, B] },
];

const multiSelect: Row[] = [
  // a plain multi-valued field compares as its stored JSON text
  { filter: "tags ~ 'go'", expect: [A, D, Z] },
  { filter: "tags !~ 'go'", expect: [B, G, E] },
  { filter: 'tags = \'["go","js"]\'', expect: [A] },
  { filter: "tags = '[]'", expect: [G] },
  { filter: "tags ?= 'go'", expect: [] },
  { filter: "tags ~ '\"sql\",\"rust\"'", expect: [D] },
  // :each — without `?` every value must match (and there must be one)
  { filter: "tags:each = 'rust'", expect: [E] },
  { filter: "tags:each = 'go'", expect: [] },
  { filter: "tags:each ?= 'go'", expect: [A, D, Z] },
  { filter: "tags:each != 'go'", expect: [B, E] },
  // the empty array joins one NULL value: NULL IS NOT 'go' holds for the "any" reading
  { filter: "tags:each ?!= 'go'", expect: ALL },
  { filter: "tags:each ~ 's'", expect: [B, E] },
  { filter: "tags:each ?~ 'u'", expect: [D, E] },
  { filter: "tags:each !~ 'o'", expect: [B, E] },
  { filter: "tags:each ?!~ 'o'", expect: [A, B, D, E, Z] },
  { filter: "tags:each > 'r'", expect: [B, E] },
  { filter: "tags:each ?< 'h'", expect: [A, D, Z] },
  { filter: "tags:each ?>= 'sql'", expect: [B, D] },
  { filter: "tags:each <= 'js'", expect: [A, Z] },
  { filter: 'tags:length = 0', expect: [G] },
  { filter: 'tags:length > 1', expect: [A, D, Z] },
  { filter: 'tags:length = 4', expect: [D] },
  { filter: "tags:length = '2'", expect: [A, Z] },
  { filter: "tags:each = ''", expect: [G] },
  // one json_each join per path (as PocketBase): one value cannot be both
  { filter: "tags:each ?= 'go' && tags:each ?= 'js'", expect: [] },
  { filter: "tags:each = 'go' || tags:each = 'js'", expect: [] },
  { filter: 'tags:length = editors:length', expect: [A, B, G, E] },
  { filter: 'editors:length > teams:length', expect: [] },
  { filter: "status:each = 'draft'", expect: [B, Z] },
  { filter: 'status:length = 1', expect: [A, B, D, E, Z] },
  { filter: "status:lower = 'draft'", expect: [B, Z] },
  { filter: 'editors:length = 2', expect: [A, D] },
  { filter: 'editors:length = 0', expect: [G] },
  { filter: 'teams:length >= 2', expect: [A, D] },
];

const relations: Row[] = [
  { filter: "author = '{{alice}}'", expect: [A, G] },
  { filter: "author.id = '{{alice}}'", expect: [A, G] },
  { filter: "author.id != '{{alice}}'", expect: [B, D, E, Z] },
  { filter: "author.name = 'Alice'", expect: [A, G] },
  { filter: "author.name = ''", expect: [D, Z] },
  { filter: "author.name != 'Alice'", expect: [B, D, E, Z] },
  { filter: "author.name ~ 'AL'", expect: [A, G] },
  { filter: "author.name:lower = 'alice'", expect: [A, G] },
  { filter: "author.name:lower = 'carol'", expect: [E] },
  { filter: "author.role = 'editor'", expect: [A, G] },
  { filter: "author.team.name = 'Red'", expect: [A, G] },
  { filter: "author.team.org.name = 'Acme'", expect: [A, G] },
  { filter: "author.team.org.country = ''", expect: [D, E, Z] },
  { filter: "author.team.org.country ?= 'FR'", expect: [B] },
  { filter: 'author.team.org.hq.lat > 50', expect: [A, G] },
  { filter: 'author.verified = true', expect: [A, G, E] },
  { filter: 'author.emailVisibility = false', expect: [B, Z] },
  // superusers see every e-mail: no visibility guard
  { filter: "author.email = 'bob@example.com'", expect: [B] },
  { filter: "author.email ~ 'example.com'", expect: [A, B, G, E, Z] },
  { filter: "author.team = '{{Red}}'", expect: [A, G] },
  { filter: "author.team.id = '{{Blue}}'", expect: [B] },
  // multiple relations: without `?` all related records must match (and one must exist)
  { filter: "editors ~ '{{bob}}'", expect: [A, D] },
  { filter: "editors.id ?= '{{bob}}'", expect: [A, D] },
  { filter: "editors.id = '{{alice}}'", expect: [B] },
  { filter: "editors.name ?= 'Bob'", expect: [A, D] },
  { filter: "editors.name = 'Alice'", expect: [B] },
  { filter: "editors.name != 'Alice'", expect: [D, E, Z] },
  { filter: "editors.name ?!= 'Alice'", expect: [A, G, D, E, Z] },
  { filter: "editors.name = ''", expect: [G, Z] },
  { filter: 'editors.name = null', expect: [G, Z] },
  { filter: 'editors.name != null', expect: [A, B, D, E] },
  { filter: "'Bob' ?= editors.name", expect: [A, D] },
  { filter: "'Alice' = editors.name", expect: [B] },
  { filter: "editors.name:lower ?= 'alice'", expect: [A, B] },
  { filter: "editors.name:lower = 'carol'", expect: [E] },
  // one join per relation path (as PocketBase): one editor cannot be named both
  { filter: "editors.name ?= 'Alice' && editors.name ?= 'Bob'", expect: [] },
  { filter: "editors.team:each ?= '{{Blue}}'", expect: [A, D] },
  { filter: 'editors.created ?< @now', expect: [A, B, D, E, Z] },
  { filter: 'author.team.org.hq.lon > 13 && editors.team.org.hq.lon ?> 13', expect: [A] },
  { filter: "teams.org.hq ~ '52.52'", expect: [B] },
  { filter: 'teams.org.hq.lat ~ loc.lat', expect: [Z] },
  { filter: "teams.org.hq.lat ~ '5'", expect: [A, B] },
  { filter: "editors.name ~ 'o'", expect: [D, E] },
  { filter: "editors.name ?~ 'o'", expect: [A, D, E] },
  { filter: "editors.name !~ 'o'", expect: [B, Z] },
  { filter: "editors.name ?!~ 'o'", expect: [A, B, Z] },
  { filter: "editors.name > 'B'", expect: [D, E] },
  { filter: "editors.name ?< 'B'", expect: [A, B, Z] },
  { filter: "editors.team.name ?= 'Blue'", expect: [A, D] },
  { filter: "editors.team.org.name = 'Acme'", expect: [B] },
  { filter: "editors.team.org.country ?= 'FR'", expect: [A, D] },
  { filter: "editors:each ?= '{{carol}}'", expect: [D, E] },
  { filter: "editors:each = '{{carol}}'", expect: [E] },
  { filter: "teams.name ?= 'Red'", expect: [A, B] },
  { filter: "teams.name = 'Red'", expect: [B] },
  { filter: "teams.org.name ?~ 'glo'", expect: [A, D] },
  { filter: "teams.org.name = ''", expect: [G, E] },
  { filter: 'teams.org.hq.lat ?> 50', expect: [A, B] },
  { filter: 'teams.org.hq.lat > 50', expect: [B] },
  { filter: 'teams.org.hq.lat > 40', expect: [A, B] },
  // multi-valued on both sides: every pair must match
  { filter: 'editors.name = author.name', expect: [E, Z] },
  { filter: 'editors.name ?= author.name', expect: [A, E, Z] },
  { filter: "editors.id ?= author", expect: [A, E, Z] },
];

const backRelations: Row[] = [
  { filter: "comments_via_post.text ?~ 'great'", expect: [A, B] },
  { filter: "comments_via_post.text ~ 'great'", expect: [B] },
  { filter: 'comments_via_post.likes > 2', expect: [A, B] },
  { filter: 'comments_via_post.likes ?> 15', expect: [B] },
  { filter: 'comments_via_post.likes ?< 1', expect: [D] },
  { filter: "comments_via_post.id = ''", expect: [G, E, Z] },
  { filter: "comments_via_post.id != ''", expect: [A, B, D] },
  { filter: "comments_via_post.author.name ?= 'carol'", expect: [A] },
  { filter: "comments_via_post.author.team.name ?= 'Red'", expect: [B, D] },
  { filter: "comments_via_post.author.team.org.country ?= 'FR'", expect: [A] },
  { filter: "comments_via_post.author ?= '{{alice}}'", expect: [B, D] },
  { filter: 'reviews_via_posts.stars ?>= 4', expect: [A, B, D] },
  { filter: 'reviews_via_posts.stars >= 4', expect: [B, D] },
  { filter: "reviews_via_posts.id = ''", expect: [G, E, Z] },
  { filter: "author.comments_via_author.text ?= 'meh'", expect: [E] },
  { filter: "author.posts_via_editors.title ?= 'delta'", expect: [B, E] },
  { filter: 'author.posts_via_author.views ?> 50', expect: [A, G] },
  { filter: "comments_via_post.author:each ?= '{{alice}}'", expect: [B, D] },
  { filter: '10 ?< comments_via_post.likes', expect: [A, B] },
  { filter: '2 < comments_via_post.likes', expect: [A, B] },
  { filter: 'comments_via_post.created > @yesterday', expect: [A, B, D] },
  // six relations deep (the maximum): back, post, back, post, author, team
  { filter: "comments_via_post.post.comments_via_post.post.author.team.name ?= 'Red'", expect: [A] },
  // a unique index on stats.post makes stats_via_post single-valued: no match-all constraint
  { filter: 'stats_via_post.hits != 7', expect: [B, G, D, E, Z] },
  { filter: 'stats_via_post.hits > 5', expect: [A] },
  { filter: "stats_via_post.id = ''", expect: [G, D, E, Z] },
];

const collections: Row[] = [
  // one join per collection (and alias): both conditions apply to the same comment
  { filter: '@collection.comments.post ?= id && @collection.comments.likes ?> 10', expect: [A, B] },
  { filter: "@collection.comments:c.post ?= id && @collection.comments:c.text ?~ 'first'", expect: [D] },
  // two aliases: two independent comments
  { filter: "@collection.comments:c1.post ?= id && @collection.comments:c2.text ?~ 'first'", expect: [A, B, D] },
  { filter: '@collection.comments:x.post ?= id', expect: [A, B, D] },
  { filter: "@collection.users.name ?= 'Alice'", expect: ALL },
  { filter: "@collection.users.name = 'Alice'", expect: [] },
  { filter: "@collection.orgs.country ?= author.team.org.country && @collection.orgs.name ?= 'Globex'", expect: [B] },
  { filter: '@collection.reviews.posts ?~ id && @collection.reviews.stars ?< 3', expect: [A] },
  { filter: "@collection.teams:t.id ?= author.team && @collection.teams:t.name ?= 'Green'", expect: [E] },
  // the base collection itself, joined again
  { filter: '@collection.posts:other.views ?> views', expect: [A, B, D, E, Z] },
  { filter: '@collection.posts.views ?> views', expect: [A, B, D, E, Z] },
  { filter: "@collection.posts:p.tags:each ?= 'rust' && @collection.posts:p.id ?= id", expect: [D, E] },
];

const requestFields: Row[] = [
  { filter: "@request.auth.collectionName = '_superusers'", expect: ALL },
  { filter: "@request.auth.id != ''", expect: ALL },
  { filter: "@request.auth.email = 'admin@example.com'", expect: ALL },
  { filter: "@request.auth.collectionId = 'pbc_3142635823'", expect: ALL },
  { filter: '@request.auth.nope = null', expect: ALL },
  { filter: "@request.method = 'GET'", expect: ALL },
  { filter: "@request.context = 'default'", expect: ALL },
  { filter: 'title = @request.query.t', query: { t: 'Gamma' }, expect: [G] },
  { filter: 'views >= @request.query.min', query: { min: '55' }, expect: [G, D] },
  { filter: '@request.query.missing:isset = false', expect: ALL },
  { filter: "@request.query.flag:isset = true && title = 'Alpha'", query: { flag: '' }, expect: [A] },
  { filter: '@request.query.flag:isset = true', expect: [] },
  { filter: "@request.query.n:lower = 'abc'", query: { n: 'ABC' }, expect: ALL },
  { filter: "@request.headers.x_token = 'abc'", headers: { 'X-Token': 'abc' }, expect: ALL },
  { filter: "@request.headers.x_token = 'abc'", expect: [] },
  { filter: "@request.headers.x_token = ''", expect: ALL },
  { filter: 'title ~ @request.query.p', query: { p: '%\\' }, expect: [] },
  { filter: '@request.body.title:changed = false', expect: ALL },
  { filter: '@request.body.title:isset = false', expect: ALL },
  { filter: '@request.body.title = null', expect: ALL },
  { filter: "@request.auth.team = ''", expect: ALL },
  { filter: 'tags:each ?= @request.query.tag', query: { tag: 'sql' }, expect: [B, D] },
  { filter: "@request.query.k = 'a'", query: { k: ['a', 'b'] }, expect: ALL },
  { filter: "@request.headers.x_k = 'a'", headers: { 'x-k': ['a', 'b'] }, expect: ALL },
];

const json: Row[] = [
  // JSON values compare strictly: a JSON number never equals the text '5'
  { filter: 'data.n = 5', expect: [A] },
  { filter: "data.n = '5'", expect: [B] },
  { filter: 'data.n > 4', expect: [A, D] },
  { filter: 'data.n = 0', expect: [E] },
  { filter: 'data.n != 5', expect: [B, G, D, E, Z] },
  { filter: "data.s = 'hello'", expect: [A] },
  { filter: "data.s = ''", expect: [B] },
  { filter: 'data.s = null', expect: [G, D, Z] },
  { filter: "data.s != ''", expect: [A, G, D, E, Z] },
  { filter: "data.s ~ 'HELLO'", expect: [A, E] },
  { filter: 'data.a.b = 1', expect: [A] },
  { filter: 'data.a.b >= 1', expect: [A, D] },
  { filter: "data.list.0 = 'x'", expect: [A] },
  { filter: "data.list.0 = 'y'", expect: [D] },
  { filter: "data.list.1 = 'y'", expect: [A] },
  { filter: 'data.flag = true', expect: [A] },
  { filter: 'data.flag = false', expect: [B] },
  { filter: 'data.flag = null', expect: [G, D, E, Z] },
  { filter: "data.nested.deep.v = 'z'", expect: [D] },
  { filter: 'data.0 = 1', expect: [Z] },
  { filter: 'data.2 >= 3', expect: [Z] },
  { filter: 'data.missing = null', expect: ALL },
  { filter: 'data = null', expect: [G] },
  { filter: 'data != null', expect: [A, B, D, E, Z] },
  { filter: "data = ''", expect: [] },
  { filter: "data.list ~ 'x'", expect: [A] },
  { filter: "data ~ '\"k\":1'", expect: [E] },
  { filter: "data.list ~ '\"x\",\"y\"'", expect: [A] },
  { filter: "data.obj.k = 1 && data.s = 'Hello'", expect: [E] },
  { filter: 'data.flag < loc.lat', expect: [A, B] },
  { filter: 'data.a.b = data.flag', expect: [A, G, E, Z] },
  { filter: "data.s != 'hello'", expect: [B, G, D, E, Z] },
  { filter: 'data.n = 5.0', expect: [A] },
  { filter: "data.n > '4'", expect: [B] },
  { filter: 'data.n < views', expect: [A, D, E] },
  { filter: 'data.flag = published', expect: [A, B] },
  { filter: 'data.a.b = data.a.b', expect: ALL },
  { filter: 'data.n = data.a.b', expect: [G, Z] },
  { filter: 'data.s = title', expect: [] },
  { filter: "data.nested.deep.v ~ 'Z'", expect: [D] },
  { filter: "loc ~ '13.4'", expect: [A, E] },
  { filter: "data.n ~ '5'", expect: [A, B] },
  { filter: 'loc.lat > 50', expect: [A, E] },
  { filter: 'loc.lon = 0', expect: [G, Z] },
  { filter: 'loc.lon > 100 || loc.lat < 0', expect: [D] },
];

const geo: Row[] = [
  { filter: 'geoDistance(loc.lon, loc.lat, 13.405, 52.52) < 1', expect: [A, E] },
  { filter: 'geoDistance(loc.lon, loc.lat, 13.405, 52.52) < 1000', expect: [A, B, E] },
  { filter: 'geoDistance(loc.lon, loc.lat, 2.3522, 48.8566) > 9000', expect: [D] },
  { filter: 'geoDistance(loc.lon, loc.lat, 2.3522, 48.8566) > 5000 && geoDistance(loc.lon, loc.lat, 2.3522, 48.8566) < 6000', expect: [G, Z] },
  { filter: 'geoDistance(0, 0, 0, 0) = 0', expect: ALL },
  { filter: 'geoDistance(13.405, 52.52, 2.3522, 48.8566) > 870 && geoDistance(13.405, 52.52, 2.3522, 48.8566) < 885', expect: ALL },
  { filter: 'geoDistance(author.team.org.hq.lon, author.team.org.hq.lat, 2.3522, 48.8566) < 1', expect: [B] },
  { filter: 'geoDistance(loc.lon, loc.lat, author.team.org.hq.lon, author.team.org.hq.lat) < 1', expect: [A, B] },
  { filter: 'geoDistance(author.team.org.hq.lon, author.team.org.hq.lat, 2.3522, 48.8566) > 1', expect: [A, G] },
  { filter: 'geoDistance(title, 0, 0, 0) = null', expect: ALL },
  // Numbers read as text in their shortest form on every engine ('0', '52.52', '1e+21'): SQLite
  // itself would print a computed REAL 0 as '0.0', PostgreSQL as '0'; Basalt picks one form.
  { filter: "geoDistance(0, 0, 0, 0) ~ '.0'", expect: [] },
  { filter: "geoDistance(0, 0, 0, 0) ~ '0'", expect: ALL },
  { filter: 'geoDistance(loc.lon, loc.lat, editors.team.org.hq.lon, 52.52) < 1', expect: [A] },
  { filter: 'geoDistance(teams.org.hq.lon, teams.org.hq.lat, 13.405, 52.52) < 50', expect: [A, B] },
];

const dates: Row[] = [
  { filter: "strftime('%Y', publishAt) = '1999'", expect: [A, Z] },
  { filter: "strftime('%Y-%m-%d', publishAt, '+1 day') = '1999-05-02'", expect: [A, Z] },
  { filter: "strftime('%Y', publishAt, 'start of year', '+1 year') = '2002'", expect: [D] },
  { filter: "strftime('%Y-%m', publishAt, '-1 month') = '1999-04'", expect: [A, Z] },
  { filter: "strftime('%H:%M', publishAt) = '10:30'", expect: [A, Z] },
  { filter: "strftime('%Y', publishAt) = ''", expect: [G] },
  { filter: "strftime('%w', publishAt) = '6'", expect: [A, Z] },
  { filter: "strftime('%j', publishAt) = '001'", expect: [D] },
  { filter: "strftime('%s', publishAt) = '978307200'", expect: [D] },
  { filter: "strftime('%m', publishAt) = '12'", expect: [B] },
  { filter: "strftime('%d', publishAt, 'start of month') = '01'", expect: [A, B, D, E, Z] },
  { filter: "strftime('%Y-%m-%d', publishAt, 'weekday 0') = '2001-01-07'", expect: [D] },
  { filter: "strftime('%Y', 0, 'unixepoch') = '1970'", expect: ALL },
  { filter: "strftime('%Y-%m-%d', views, 'unixepoch') = '1970-01-01'", expect: ALL },
  { filter: "strftime('%Y', created) >= '2020'", expect: ALL },
  { filter: "strftime('%Y', '2024-02-29 12:00:00.000Z', '+1 year') = '2025'", expect: ALL },
  { filter: "strftime('%Y', comments_via_post.created) ?= strftime('%Y', created)", expect: [A, B, D] },
  { filter: "strftime('%Y', editors.created) = strftime('%Y', created)", expect: [A, B, D, E, Z] },
  { filter: "strftime('%Y', @now) >= '2024'", expect: ALL },
  // macros, against dates far in the past / future (and '' which sorts first)
  { filter: 'publishAt > @now', expect: [B, E] },
  { filter: 'publishAt < @now', expect: [A, G, D, Z] },
  { filter: "publishAt < @now && publishAt != ''", expect: [A, D, Z] },
  { filter: 'publishAt > @tomorrow', expect: [B, E] },
  { filter: 'publishAt < @yesterday', expect: [A, G, D, Z] },
  { filter: 'publishAt >= @todayStart', expect: [B, E] },
  { filter: 'publishAt <= @todayEnd', expect: [A, G, D, Z] },
  { filter: 'publishAt > @monthEnd', expect: [B, E] },
  { filter: 'publishAt < @monthStart', expect: [A, G, D, Z] },
  { filter: 'publishAt > @yearEnd', expect: [B, E] },
  { filter: 'publishAt < @yearStart', expect: [A, G, D, Z] },
  { filter: "publishAt > '2001-01-01'", expect: [B, D, E] },
  { filter: "publishAt = '1999-05-01 10:30:00.000Z'", expect: [A, Z] },
  { filter: 'created > @yesterday && created < @tomorrow && created <= @now', expect: ALL },
  { filter: "updated >= created && created > '2000-01-01'", expect: ALL },
  { filter: 'created > @now', expect: [] },
  { filter: '@year >= 2024 && @month >= 1 && @month <= 12 && @day >= 1 && @day <= 31 && @weekday >= 0 && @weekday <= 6', expect: ALL },
  { filter: '@hour >= 0 && @hour < 24 && @minute >= 0 && @minute < 60 && @second >= 0 && @second < 60', expect: ALL },
  { filter: '@todayEnd > @todayStart && @monthEnd > @monthStart && @yearEnd > @yearStart && @tomorrow > @now && @yesterday < @now', expect: ALL },
  { filter: "@now = ''", expect: [] },
  { filter: '@todayStart <= @now && @now <= @todayEnd', expect: ALL },
];

const like: Row[] = [
  // `_` and `%` in a wrapped literal are literal characters
  { filter: "code ~ '_'", expect: [A, B, Z] },
  { filter: "code ~ 'a_b'", expect: [B, Z] },
  { filter: "code !~ '_'", expect: [G, D, E] },
  // a literal with its own `%` is not wrapped nor escaped: `_` is then a wildcard
  { filter: "code ~ 'a%b'", expect: [B, G, Z] },
  { filter: "code ~ '%b'", expect: [B, G, Z] },
  { filter: "code ~ '0%'", expect: [] },
  { filter: "code ~ '%\\_%'", expect: [A, B, Z] },
  // An escaped `\%` is not a wildcard: the literal is wrapped and matches a literal "%", exactly
  // as PocketBase's wrapLikeParams()/escapeUnescapedChars() build it (a `%` counts as the
  // caller's own wildcard only when unescaped).
  { filter: "code ~ '0\\%'", expect: [A, E] },
  { filter: "code ~ '50\\%'", expect: [A] },
  { filter: "title ~ '100%'", expect: [] },
  { filter: "title ~ '100\\%'", expect: [E] },
  { filter: "title ~ 'zeta_X'", expect: [Z] },
  // a doubled backslash is one literal backslash
  { filter: "code ~ 'C:\\\\temp'", expect: [D] },
  { filter: "code ~ 'C:\\temp'", expect: [D] },
  { filter: "body ~ 'WORLD'", expect: [A] },
  { filter: "body ~ 'Hello'", expect: [A, G] },
  { filter: "code ~ ''", expect: ALL },
  { filter: "code !~ ''", expect: [] },
  { filter: 'title ~ null', expect: [] },
  { filter: 'title !~ null', expect: [] },
  // column on the right: wrapped as '%' || col || '%' (its own `%`/`_` stay wildcards)
  { filter: 'title ~ code', expect: [E] },
  { filter: "'Hello World hello again' ~ body", expect: [A, B, G] },
  { filter: 'body !~ title', expect: [A, B, G, D, E, Z] },
  // case-insensitive for ASCII only, as SQLite's LIKE (PocketBase's engine)
  { filter: "body ~ 'école'", expect: [E] },
  { filter: "body ~ 'ÉCOLE'", expect: [D] },
  { filter: "body ~ 'CAFÉ'", expect: [] },
  { filter: "body ~ 'CAF'", expect: [D] },
  // :lower folds ASCII only (SQLite LOWER without ICU)
  { filter: "title:lower = 'delta'", expect: [D] },
  { filter: "title:lower = 'alpha'", expect: [A] },
  { filter: "title:lower ~ 'ALP'", expect: [A] },
  { filter: "body:lower = 'hello world'", expect: [A] },
  { filter: "body:lower = 'école café'", expect: [] },
  { filter: "body:lower = 'École café'", expect: [D] },
];

const ids: Row[] = [
  { filter: "id = '{{Alpha}}'", expect: [A] },
  { filter: "id != ''", expect: ALL },
  { filter: "id ~ 'post'", expect: ALL },
  { filter: "id = '{{Alpha}}' || id = '{{Zeta_x}}'", expect: [A, Z] },
];

const tables: Record<string, Row[]> = {
  operators,
  numbers,
  bools,
  'null and empty': nullish,
  'logic, parentheses and comments': logic,
  'multi select, :each, :length': multiSelect,
  relations,
  'back-relations': backRelations,
  '@collection': collections,
  '@request (superuser)': requestFields,
  'JSON and geoPoint paths': json,
  geoDistance: geo,
  'dates, strftime and macros': dates,
  'LIKE and :lower': like,
  ids,
};

describe(`filter semantics as a superuser (${ENGINE})`, () => {
  for (const [group, rows] of Object.entries(tables)) {
    describe(group, () => {
      for (const row of rows) {
        const name = `${printable(row.filter)}${row.query ? ` ?${queryString(row.query)}` : ''}${row.headers ? ` [${Object.keys(row.headers).join(',')}]` : ''} → [${row.expect.join(', ')}]`;
        testFor(row.bugOn)(name, async () => {
          await expectRows('superuser', row.filter, row.expect, { query: row.query, headers: row.headers });
        });
      }
    });
  }
});

describe(`invalid filters (${ENGINE})`, () => {
  const invalid = [
    'nope = 1',
    "title:nope = 'x'",
    "title.name = 'x'",
    "author.nope = 'x'",
    'foo(1) = 1',
    'geoDistance(1, 2, 3) > 0',
    "@collection.nope.title = 'x'",
    "@collection.posts = 'x'",
    '@nope = 1',
    "nope_via_post.text = 'x'",
    "comments_via_nope.text = 'x'",
    "comments_via_text.text = 'x'",
    "title = 'x' &&",
    "(title = 'x'",
    "title == 'x'",
    'title',
    "title = 'unterminated",
    '',
  ];
  for (const filter of invalid) {
    it(`${JSON.stringify(filter)} → ${filter === '' ? 200 : 400}`, async () => {
      const res = await list('superuser', filter);
      if (filter === '') {
        // an empty filter is no filter
        expect(res.ids.length).toBe(POST_TITLES.length);
        return;
      }
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.data.filter.code).toBe('validation_invalid_filter');
    });
  }
});

// ---------------------------------------------------------------------------------------------
// List rules, evaluated for users and guests (superusers bypass them).
// ---------------------------------------------------------------------------------------------

interface RuleRow {
  rule: string | null;
  as: Who;
  filter?: string;
  query?: Query;
  headers?: Headers;
  /** titles, or an HTTP error status */
  expect: readonly PostTitle[] | number;
  bugOn?: readonly Engine[];
}

const ruleRows: RuleRow[] = [
  { rule: 'author = @request.auth.id', as: 'alice', expect: [A, G] },
  { rule: 'author = @request.auth.id', as: 'bob', expect: [B] },
  // a guest's @request.auth.id is empty, and so is delta's author: '' = NULL (the PocketBase pitfall
  // that `@request.auth.id != '' && …` guards against)
  { rule: 'author = @request.auth.id', as: 'guest', expect: [D] },
  { rule: "@request.auth.id != '' && author = @request.auth.id", as: 'guest', expect: [] },
  { rule: 'author = @request.auth.id', as: 'superuser', expect: ALL },
  { rule: "@request.auth.id != ''", as: 'guest', expect: [] },
  { rule: "@request.auth.id != ''", as: 'dave', expect: ALL },
  { rule: "@request.auth.id = ''", as: 'guest', expect: ALL },
  { rule: 'editors.id ?= @request.auth.id', as: 'alice', expect: [A, B] },
  { rule: 'editors.id ?= @request.auth.id', as: 'carol', expect: [D, E] },
  { rule: 'editors.id = @request.auth.id', as: 'carol', expect: [E] },
  { rule: "editors ~ @request.auth.id", as: 'bob', expect: [A, D] },
  { rule: 'author.team = @request.auth.team', as: 'alice', expect: [A, G] },
  { rule: 'author.team = @request.auth.team', as: 'bob', expect: [B] },
  // dave has no team: '' equals the missing team of delta's missing author too
  { rule: 'author.team = @request.auth.team', as: 'dave', expect: [D, Z] },
  { rule: 'author.team.name = @request.auth.team.name', as: 'carol', expect: [E] },
  { rule: "@request.auth.team.org.name = 'Acme' && author = @request.auth.id", as: 'alice', expect: [A, G] },
  { rule: "@request.auth.team.org.name = 'Acme'", as: 'bob', expect: [] },
  { rule: 'teams.id ?= @request.auth.team', as: 'bob', expect: [A, D] },
  { rule: "@request.auth.posts_via_author.title ?= 'Alpha'", as: 'alice', expect: ALL },
  { rule: "@request.auth.posts_via_author.title ?= 'Alpha'", as: 'bob', expect: [] },
  // (PocketBase reads an unknown @request.auth path as NULL; Basalt refuses to save such a rule,
  // since it would fail open: see security-regressions.test.ts.)
  { rule: "@request.auth.role = 'admin'", as: 'carol', expect: ALL },
  { rule: "@request.auth.role = 'admin'", as: 'alice', expect: [] },
  { rule: '@request.auth.verified = true && published = true', as: 'alice', expect: [A, G, E] },
  { rule: '@request.auth.verified = true && published = true', as: 'bob', expect: [] },
  { rule: "@request.auth.collectionName = 'users'", as: 'dave', expect: ALL },
  { rule: "@request.auth.collectionName = 'users'", as: 'guest', expect: [] },
  { rule: "@request.auth.email = 'bob@example.com' && status = 'draft'", as: 'bob', expect: [B, Z] },
  { rule: "@request.query.key = 'k1'", as: 'guest', query: { key: 'k1' }, expect: ALL },
  { rule: "@request.query.key = 'k1'", as: 'guest', expect: [] },
  { rule: "@request.query.key = 'k1'", as: 'guest', query: { key: ['k1', 'k2'] }, expect: ALL },
  { rule: 'views > @request.query.min', as: 'guest', query: { min: '10' }, expect: [G, D] },
  { rule: "@request.query.key:isset = true", as: 'guest', query: { key: '' }, expect: ALL },
  { rule: "@request.headers.x_api_key = 'secret'", as: 'guest', headers: { 'X-Api-Key': 'secret' }, expect: ALL },
  { rule: "@request.headers.x_api_key = 'secret'", as: 'guest', headers: { 'X-Api-Key': 'other' }, expect: [] },
  { rule: "@request.headers.x_api_key = 'secret'", as: 'guest', expect: [] },
  { rule: "@request.headers.x_api_key = 'secret'", as: 'guest', headers: { 'X-Api-Key': ['secret', 'other'] }, expect: ALL },
  { rule: "@request.method = 'GET' && @request.context = 'default' && status = 'draft'", as: 'guest', expect: [B, Z] },
  { rule: 'title ~ @request.query.p', as: 'guest', query: { p: 'ALP' }, expect: [A] },
  { rule: 'title ~ @request.query.p', as: 'guest', query: { p: '%\\' }, expect: [] },
  { rule: 'title ~ @request.query.p', as: 'guest', query: { p: 'x\u0000' }, expect: [Z] },
  { rule: '@collection.comments.post ?= id && @collection.comments.author ?= @request.auth.id', as: 'alice', expect: [B, D] },
  { rule: '@collection.comments.post ?= id && @collection.comments.author ?= @request.auth.id', as: 'bob', expect: [A] },
  { rule: '@collection.comments.post ?= id && @collection.comments.author ?= @request.auth.id', as: 'guest', expect: [] },
  { rule: 'comments_via_post.author ?= @request.auth.id', as: 'alice', expect: [B, D] },
  { rule: 'comments_via_post.author.id ?= @request.auth.id', as: 'carol', expect: [A] },
  // hidden fields are filterable in rules
  { rule: "secret = 'top'", as: 'guest', expect: [A, D] },
  // the client filter is ANDed with the rule
  { rule: 'author = @request.auth.id', as: 'alice', filter: 'views > 50', expect: [G] },
  { rule: "status != 'archived'", as: 'guest', filter: "tags:each ?= 'go'", expect: [A, Z] },
  { rule: "published = true || status = 'draft'", as: 'carol', filter: 'views >= 10', expect: [A, G, Z] },
  // the e-mail of an auth record is filterable only where it is visible
  { rule: '', as: 'guest', filter: "author.email = 'alice@example.com'", expect: [A, G] },
  { rule: '', as: 'guest', filter: "author.email = 'bob@example.com'", expect: [] },
  { rule: '', as: 'alice', filter: "author.email ~ 'example.com'", expect: [A, G, E] },
  { rule: '', as: 'guest', filter: "editors.email ?= 'bob@example.com'", expect: [] },
  // hidden fields are not filterable by non-superusers
  { rule: '', as: 'guest', filter: "secret = 'top'", expect: 400 },
  { rule: '', as: 'alice', filter: "author.tokenKey != ''", expect: 400 },
  { rule: '', as: 'alice', filter: "author.password != ''", expect: 400 },
  // @request / @collection in client filters: superusers only
  { rule: '', as: 'guest', filter: "@request.auth.id = ''", expect: 403 },
  { rule: '', as: 'alice', filter: "@collection.comments.likes > 1", expect: 403 },
  { rule: '', as: 'superuser', filter: "@collection.comments:c.post ?= id && @collection.comments:c.likes > 1", expect: [] },
  // locked: superusers only
  { rule: null, as: 'guest', expect: 403 },
  { rule: null, as: 'alice', expect: 403 },
  { rule: null, as: 'superuser', expect: ALL },
];

describe(`list rules (${ENGINE})`, () => {
  let current: string | null | undefined;
  afterAll(async () => {
    await t.app.collections.update('posts', { listRule: null });
  });
  for (const row of ruleRows) {
    const name = `rule ${JSON.stringify(row.rule)} as ${row.as}${row.filter ? ` filter ${JSON.stringify(row.filter)}` : ''}${row.query ? ` ?${queryString(row.query)}` : ''}${row.headers ? ` ${JSON.stringify(row.headers)}` : ''} → ${typeof row.expect === 'number' ? row.expect : `[${row.expect.join(', ')}]`}`;
    testFor(row.bugOn)(name, async () => {
      if (current !== row.rule) {
        await t.app.collections.update('posts', { listRule: row.rule === null ? null : substitute(row.rule) });
        current = row.rule;
      }
      if (typeof row.expect === 'number') {
        const res = await list(row.as, row.filter ?? null, { query: row.query, headers: row.headers });
        expect(res.status, JSON.stringify(res.body)).toBe(row.expect);
        return;
      }
      await expectRows(row.as, row.filter ?? null, row.expect, { query: row.query, headers: row.headers });
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Size limits: a filter within the documented limits (3500 characters, 200 expressions) must be
// answered quickly with 200 or 400, never 500 (PocketBase answers 400 when a list query fails).
// ---------------------------------------------------------------------------------------------

/** Relations of the dataset, for building many distinct relation paths. */
const EDGES: Record<string, [string, string][]> = {
  posts: [['author', 'users'], ['editors', 'users'], ['teams', 'teams'], ['comments_via_post', 'comments'], ['reviews_via_posts', 'reviews']],
  users: [['team', 'teams'], ['comments_via_author', 'comments'], ['posts_via_author', 'posts'], ['posts_via_editors', 'posts']],
  teams: [['org', 'orgs'], ['users_via_team', 'users'], ['posts_via_teams', 'posts']],
  orgs: [['teams_via_org', 'teams']],
  comments: [['post', 'posts'], ['author', 'users']],
  reviews: [['posts', 'posts']],
};

function relationPaths(from: string, depth: number): string[] {
  if (depth === 0) return ['id'];
  return (EDGES[from] ?? []).flatMap(([name, to]) => relationPaths(to, depth - 1).map((rest) => `${name}.${rest}`));
}

/** As many `path ?= 'x'` as fit in `budget` characters, joined with `||`. */
function manyPaths(paths: string[], budget: number): string {
  let filter = '';
  for (const p of paths) {
    const next = `${filter}${filter ? '||' : ''}${p}?='x'`;
    if (next.length > budget) break;
    filter = next;
  }
  return filter;
}

/** Cancels the statements still running in this test's PostgreSQL database (after a timeout). */
async function cancelRunningQueries(): Promise<void> {
  if (t.engine !== 'postgres') return;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query("SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid()", [new URL(t.config.databaseUrl).pathname.slice(1)]);
  } finally {
    await admin.end();
  }
}

async function timedList(who: Who, filter: string, ms: number): Promise<{ status: number | 'timeout'; elapsed: number }> {
  const started = Date.now();
  const token = tokenOf(who);
  const request = t.server.inject({ method: 'GET', url: `/api/collections/posts/records?filter=${encodeURIComponent(filter)}`, headers: token ? { authorization: token } : {} });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  const first = await Promise.race([request.then((r) => r.statusCode), timeout]);
  clearTimeout(timer);
  if (first === 'timeout') {
    await cancelRunningQueries();
    await request.catch(() => undefined);
  }
  return { status: first, elapsed: Date.now() - started };
}

describe(`size limits (${ENGINE})`, () => {
  afterAll(async () => {
    await t.app.collections.update('posts', { listRule: null });
  });

  const limitRows: { name: string; who: Who; filter: () => string; bugOn?: readonly Engine[] }[] = [
    { name: '14 distinct two-hop relation paths (guest)', who: 'guest', filter: () => manyPaths(relationPaths('posts', 2), 3400) },
    { name: '54 distinct three-hop relation paths (guest)', who: 'guest', filter: () => manyPaths(relationPaths('posts', 3), 3400) },
    { name: '63 @collection aliases (superuser)', who: 'superuser', filter: () => Array.from({ length: 63 }, (_, i) => `@collection.comments:a${i}.likes?>=0`).join('&&') },
    { name: '64 @collection aliases (superuser)', who: 'superuser', filter: () => Array.from({ length: 64 }, (_, i) => `@collection.comments:a${i}.likes?>=0`).join('&&') },
    { name: '100 match-all comparisons on one multi relation', who: 'superuser', filter: () => Array.from({ length: 100 }, (_, i) => `editors.name!='x${i}'`).join('&&') },
    { name: '199 comparisons and 100 nested parentheses', who: 'superuser', filter: () => `${'('.repeat(100)}views=-1${')'.repeat(100)}||${Array.from({ length: 198 }, (_, i) => `views=${i}`).join('||')}` },
  ];

  for (const row of limitRows) {
    testFor(row.bugOn)(`${row.name}: 200 or 400 within 5 s`, async () => {
      await t.app.collections.update('posts', { listRule: '' });
      const filter = row.filter();
      expect(filter.length).toBeLessThanOrEqual(3500);
      const res = await timedList(row.who, filter, 5000);
      expect([200, 400], `answered ${res.status} after ${res.elapsed} ms`).toContain(res.status);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// @request.body in create and update rules (:isset, :changed, :length, :each, :lower, relations).
// Runs last: it adds comments and reviews.
// ---------------------------------------------------------------------------------------------

interface BodyRow {
  collection: 'comments' | 'reviews';
  /** the create rule, or the update rule when `update` names the record to PATCH */
  rule: string;
  update?: string;
  as: Who;
  body: Record<string, unknown>;
  /** 200 when the rule holds; 400 (create) or 404 (update) when it does not */
  status: number;
  bugOn?: readonly Engine[];
}

const bodyRows: BodyRow[] = [
  { collection: 'comments', rule: '@request.body.post.author = @request.auth.id', as: 'alice', body: { post: '{{Alpha}}', text: 'ok' }, status: 200 },
  { collection: 'comments', rule: '@request.body.post.author = @request.auth.id', as: 'alice', body: { post: '{{Beta}}', text: 'ok' }, status: 400 },
  { collection: 'comments', rule: "@request.body.post.author.team.name = 'Red'", as: 'bob', body: { post: '{{Gamma}}', text: 'ok' }, status: 200 },
  { collection: 'comments', rule: "@request.body.post.author.team.name = 'Red'", as: 'bob', body: { post: '{{Beta}}', text: 'ok' }, status: 400 },
  { collection: 'comments', rule: '@request.body.likes:isset = false', as: 'alice', body: { post: '{{Alpha}}', text: 'no likes' }, status: 200 },
  { collection: 'comments', rule: '@request.body.likes:isset = false', as: 'alice', body: { post: '{{Alpha}}', text: 'likes', likes: 1 }, status: 400 },
  { collection: 'comments', rule: '@request.body.likes < 10', as: 'alice', body: { post: '{{Alpha}}', likes: 5 }, status: 200 },
  { collection: 'comments', rule: '@request.body.likes < 10', as: 'alice', body: { post: '{{Alpha}}', likes: 50 }, status: 400 },
  { collection: 'comments', rule: "@request.body.text:lower ~ 'shout'", as: 'alice', body: { post: '{{Alpha}}', text: 'SHOUT' }, status: 200 },
  { collection: 'comments', rule: "@request.body.text:lower = 'shout'", as: 'alice', body: { post: '{{Alpha}}', text: 'whisper' }, status: 400 },
  { collection: 'comments', rule: '@request.body.author = @request.auth.id', as: 'carol', body: { post: '{{Alpha}}', author: '{{carol}}' }, status: 200 },
  { collection: 'comments', rule: '@request.body.author = @request.auth.id', as: 'carol', body: { post: '{{Alpha}}', author: '{{bob}}' }, status: 400 },
  // the rule also sees the new record's own fields
  { collection: 'comments', rule: "text = 'self' && post.title = 'Beta'", as: 'guest', body: { post: '{{Beta}}', text: 'self' }, status: 200 },
  { collection: 'comments', rule: "text = 'self' && post.title = 'Beta'", as: 'guest', body: { post: '{{Alpha}}', text: 'self' }, status: 400 },
  { collection: 'comments', rule: "@request.auth.id != ''", as: 'guest', body: { post: '{{Alpha}}' }, status: 400 },
  { collection: 'reviews', rule: '@request.body.posts:length > 1', as: 'alice', body: { posts: ['{{Alpha}}', '{{Beta}}'], stars: 1 }, status: 200 },
  { collection: 'reviews', rule: '@request.body.posts:length > 1', as: 'alice', body: { posts: ['{{Alpha}}'], stars: 1 }, status: 400 },
  { collection: 'reviews', rule: "@request.body.posts:each ?= '{{Gamma}}'", as: 'alice', body: { posts: ['{{Alpha}}', '{{Gamma}}'] }, status: 200 },
  { collection: 'reviews', rule: "@request.body.posts:each = '{{Gamma}}'", as: 'alice', body: { posts: ['{{Alpha}}', '{{Gamma}}'] }, status: 400 },
  { collection: 'reviews', rule: "@request.body.posts.title ?= 'Gamma'", as: 'alice', body: { posts: ['{{Alpha}}', '{{Gamma}}'] }, status: 200 },
  { collection: 'reviews', rule: "@request.body.posts.title = 'Gamma'", as: 'alice', body: { posts: ['{{Alpha}}', '{{Gamma}}'] }, status: 400 },
  { collection: 'reviews', rule: '@request.body.posts.views > 5', as: 'alice', body: { posts: ['{{Alpha}}', '{{Gamma}}'] }, status: 200 },
  { collection: 'reviews', rule: '@request.body.posts.views > 5', as: 'alice', body: { posts: ['{{Alpha}}', '{{Beta}}'] }, status: 400 },
  // updates: :changed compares the submitted value with the stored one
  { collection: 'comments', rule: '@request.body.likes:changed = false', update: 'c1', as: 'alice', body: { likes: 12 }, status: 200 },
  { collection: 'comments', rule: '@request.body.likes:changed = false', update: 'c1', as: 'alice', body: { likes: 13 }, status: 404 },
  { collection: 'comments', rule: '@request.body.text:changed = false', update: 'c1', as: 'alice', body: { likes: 14 }, status: 200 },
  { collection: 'comments', rule: '@request.body.text:changed = true', update: 'c1', as: 'alice', body: { likes: 15 }, status: 404 },
  { collection: 'comments', rule: "@request.body.text:changed = true && text = 'Great post'", update: 'c1', as: 'alice', body: { text: 'Edited' }, status: 200 },
  { collection: 'comments', rule: 'likes > @request.body.likes', update: 'c2', as: 'alice', body: { likes: 1 }, status: 200 },
  { collection: 'comments', rule: 'likes > @request.body.likes', update: 'c2', as: 'alice', body: { likes: 100 }, status: 404 },
];

describe(`@request.body in create and update rules (${ENGINE})`, () => {
  for (const row of bodyRows) {
    const name = `${row.collection} ${row.update ? `updateRule (PATCH ${row.update})` : 'createRule'} ${JSON.stringify(row.rule)} as ${row.as} ${JSON.stringify(row.body)} → ${row.status}`;
    testFor(row.bugOn)(name, async () => {
      await t.app.collections.update(row.collection, {
        createRule: row.update ? '' : substitute(row.rule),
        updateRule: row.update ? substitute(row.rule) : null,
      });
      const body = JSON.parse(substitute(JSON.stringify(row.body)));
      const token = tokenOf(row.as);
      const url = row.update ? `/api/collections/${row.collection}/records/${ds.comments[row.update]}` : `/api/collections/${row.collection}/records`;
      const reply = await t.server.inject({
        method: row.update ? 'PATCH' : 'POST',
        url,
        payload: body,
        headers: token ? { authorization: token } : {},
      });
      expect(reply.statusCode, reply.body).toBe(row.status);
      if (row.status === 200) {
        const saved = reply.json();
        for (const [key, value] of Object.entries(body)) expect(saved[key]).toEqual(value);
      }
    });
  }
});
