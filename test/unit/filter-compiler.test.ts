/**
 * The filter compiler at the SQL level, for every engine's dialect, without a database: a
 * CollectionRegistry built in memory, compileFilter() rendered by a Kysely instance of each
 * dialect (a PostgreSQL Kysely compiles without ever connecting).
 *
 * (a) user text (literals, JSON path segments, aliases, request values, comments) reaches the
 *     database only as bound parameters, never as SQL text;
 * (b) names that do not resolve are FilterResolveError (the API's 400), never another error;
 * (c) the EXISTS wrapper that keeps joins from multiplying rows appears only when joins are used.
 */
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type CompiledQuery } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { CollectionRegistry } from '../../src/core/collections/collection-registry.js';
import { defaultCollectionId, makeField, scaffoldCollection } from '../../src/core/collections/scaffolds.js';
import type { Collection, Field } from '../../src/core/model/collection-types.js';
import { compileFilter, FilterResolveError, validateFilter } from '../../src/core/rules/compiler.js';
import type { FilterDialect } from '../../src/core/rules/filter-dialect.js';
import { FILTER_MAX_EXPRESSIONS } from '../../src/core/rules/ast.js';
import { MAX_NESTED_RELATIONS } from '../../src/core/rules/path-walker.js';
import { FilterSyntaxError, parseFilter } from '../../src/core/rules/parser.js';
import { guestRequest, type RequestInfo } from '../../src/core/rules/request-info.js';
import { PostgresFilterDialect } from '../../src/db/postgres/postgres-filter-dialect.js';
import { SqliteFilterDialect } from '../../src/db/sqlite/sqlite-filter-dialect.js';

// ---------------------------------------------------------------------------------------------
// Schema: orgs ← teams ← users (auth) ← posts ← comments; nodes relates to itself (depth tests).
// ---------------------------------------------------------------------------------------------

const id = (name: string) => defaultCollectionId(name);

function base(name: string, fields: Field[], indexes: string[] = []): Collection {
  const c = scaffoldCollection('base', name, id(name));
  return { ...c, fields: [...c.fields, ...fields], indexes };
}

function rel(name: string, target: string, props: Partial<Field> = {}): Field {
  return makeField('relation', name, { collectionId: id(target), maxSelect: 1, ...props });
}

function buildRegistry(): CollectionRegistry {
  const users = scaffoldCollection('auth', 'users', id('users'));
  users.fields = [...users.fields, makeField('text', 'name'), rel('team', 'teams')];
  const registry = new CollectionRegistry();
  registry.replace([
    base('orgs', [makeField('text', 'name'), makeField('geoPoint', 'hq')]),
    base('teams', [makeField('text', 'name'), rel('org', 'orgs')]),
    users,
    base('posts', [
      makeField('text', 'title'),
      makeField('number', 'views'),
      makeField('bool', 'published'),
      makeField('date', 'publishAt'),
      makeField('select', 'tags', { values: ['a', 'b', 'c'], maxSelect: 3 }),
      rel('author', 'users'),
      rel('editors', 'users', { maxSelect: 5 }),
      makeField('json', 'data'),
      makeField('geoPoint', 'loc'),
      makeField('text', 'secret', { hidden: true }),
    ]),
    base('comments', [rel('post', 'posts'), rel('hiddenPost', 'posts', { hidden: true }), makeField('text', 'text'), makeField('number', 'likes')]),
    base('nodes', [makeField('text', 'name'), rel('parent', 'nodes')]),
  ]);
  return registry;
}

const registry = buildRegistry();
const posts = registry.find('posts')!;
const users = registry.find('users')!;

const pool = new pg.Pool({ host: '127.0.0.1', max: 1 });
const engines: { name: string; dialect: FilterDialect; db: Kysely<any> }[] = [
  { name: 'sqlite', dialect: new SqliteFilterDialect(), db: new Kysely<any>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) }) },
  { name: 'postgres', dialect: new PostgresFilterDialect(), db: new Kysely<any>({ dialect: new PostgresDialect({ pool }) }) },
];

afterAll(async () => {
  for (const e of engines) await e.db.destroy();
});

interface CompileOptions {
  collection?: string;
  request?: RequestInfo | null;
  allowHiddenFields?: boolean;
  allowSuperuserIdentifiers?: boolean;
}

const NOW = new Date(Date.UTC(2024, 0, 31, 12, 0, 0));

function compile(engine: (typeof engines)[number], filter: string, options: CompileOptions = {}): CompiledQuery {
  const collection = registry.find(options.collection ?? 'posts')!;
  const predicate = compileFilter(
    parseFilter(filter),
    {
      schema: registry,
      collection,
      dialect: engine.dialect,
      request: options.request === undefined ? guestRequest() : options.request,
      allowHiddenFields: options.allowHiddenFields ?? true,
      allowSuperuserIdentifiers: options.allowSuperuserIdentifiers,
      now: NOW,
    },
    '__r',
  );
  return sql`SELECT ${sql.ref('__r.id')} FROM ${sql.id(collection.table)} AS ${sql.id('__r')} WHERE ${predicate}`.compile(engine.db);
}

const authed = (values: Record<string, unknown>): RequestInfo => guestRequest({ auth: { collection: users, values: { id: 'u1', email: 'u@example.com', ...values } } });

// ---------------------------------------------------------------------------------------------
// (a) literals are parameters
// ---------------------------------------------------------------------------------------------

interface MarkerCase {
  filter: string;
  /** user text that must be bound (the whole text, or inside a larger parameter such as '%…%') */
  bound: string[];
  /** user text that must appear nowhere (SQL or parameters) */
  absent?: string[];
  request?: RequestInfo;
}

const INJECTION = "'; DROP TABLE posts; --";

const markerCases: MarkerCase[] = [
  { filter: "title = 'zz_marker_1'", bound: ['zz_marker_1'] },
  { filter: "'zz_marker_2' != title", bound: ['zz_marker_2'] },
  { filter: `title = "${INJECTION}"`, bound: [INJECTION] },
  { filter: `title ~ "${INJECTION}"`, bound: ["DROP TABLE posts"] },
  // LIKE literals are wrapped in %…% with `_` escaped
  { filter: "title ~ 'zz_marker_3'", bound: ['%zz\\_marker\\_3%'] },
  { filter: "title !~ 'zz_marker_4%'", bound: ['zz_marker_4%'] },
  { filter: "title ?~ 'zz\\_marker_5'", bound: ['zz\\_marker\\_5'] },
  { filter: "title:lower = 'ZZ_MARKER_6'", bound: ['ZZ_MARKER_6'] },
  { filter: 'views > 31337.5 && views < -271828', bound: [] },
  { filter: "data.zz_marker_7 = 1 || data.a.zz_marker_8.0 = 'zz_marker_9'", bound: ['zz_marker_7', 'zz_marker_8', 'zz_marker_9'] },
  { filter: "loc.zz_marker_10 > 1", bound: ['zz_marker_10'] },
  { filter: "strftime('zz_marker_11', publishAt, 'zz_marker_12', '+1 day') = 'zz_marker_13'", bound: ['zz_marker_11', 'zz_marker_12', 'zz_marker_13'] },
  { filter: 'geoDistance(loc.lon, loc.lat, 987654.321, 123456.789) < 4242.4242', bound: [] },
  { filter: "tags:each ?= 'zz_marker_14' && tags:each != 'zz_marker_15'", bound: ['zz_marker_14', 'zz_marker_15'] },
  { filter: "editors.name ?= 'zz_marker_16' && editors.name != 'zz_marker_17'", bound: ['zz_marker_16', 'zz_marker_17'] },
  { filter: "editors.team.org.hq.zz_marker_18 = 'zz_marker_19'", bound: ['zz_marker_18', 'zz_marker_19'] },
  { filter: "comments_via_post.text ?~ 'zz_marker_20'", bound: ['%zz\\_marker\\_20%'] },
  // the alias of @collection is only a name for the join: it appears nowhere
  { filter: "@collection.comments:zz_marker_21.text ?= 'zz_marker_22'", bound: ['zz_marker_22'], absent: ['zz_marker_21'] },
  // a comment appears nowhere
  { filter: "title = 'a' // zz_marker_23 '; DROP TABLE x; --", bound: [], absent: ['zz_marker_23', 'DROP TABLE'] },
  {
    filter: "@request.query.zz_key = title && @request.headers.x_zz = title && @request.body.zz_body = title && @request.query.zz_missing:isset = false",
    request: guestRequest({ query: { zz_key: 'zz_marker_24' }, headers: { x_zz: INJECTION }, body: { zz_body: 'zz_marker_25' } }),
    bound: ['zz_marker_24', INJECTION, 'zz_marker_25'],
    absent: ['zz_key', 'x_zz', 'zz_body', 'zz_missing'],
  },
  {
    filter: "@request.auth.id = author && @request.auth.email = 'zz_marker_26' && @request.auth.team.name = title",
    request: authed({ id: 'zz_marker_27', email: 'zz_marker_28' }),
    // Two literals (the auth email and the quoted text) are compared at compile time: neither
    // reaches the SQL, not even as a parameter.
    bound: ['zz_marker_27'],
    absent: ['zz_marker_26', 'zz_marker_28'],
  },
  {
    filter: "@request.query.zz_q:lower ~ title && @request.query.zz_q:length > 0",
    request: guestRequest({ query: { zz_q: 'ZZ_MARKER_29' } }),
    bound: ['ZZ_MARKER_29'],
  },
  { filter: "@collection.posts:p.title ?= 'zz_marker_30' && @collection.posts:p.data.zz_marker_31 ?> 5", bound: ['zz_marker_30', 'zz_marker_31'] },
];

const NUMBER_MARKERS = ['31337', '271828', '987654', '123456', '4242'];

describe('(a) user text is bound, never SQL', () => {
  for (const engine of engines) {
    describe(engine.name, () => {
      for (const c of markerCases) {
        it(c.filter, () => {
          const q = compile(engine, c.filter, { request: c.request });
          const params = JSON.stringify(q.parameters);
          const text = q.sql;
          for (const marker of [...c.bound, ...(c.absent ?? []), 'zz_marker', 'ZZ_MARKER', 'DROP TABLE', ...NUMBER_MARKERS]) {
            expect(text, `"${marker}" leaked into the SQL text`).not.toContain(marker);
          }
          for (const marker of c.bound) {
            expect(q.parameters.some((p) => JSON.stringify(p).includes(JSON.stringify(marker).slice(1, -1))), `"${marker}" is not a parameter: ${params}`).toBe(true);
          }
          for (const marker of c.absent ?? []) expect(params, `"${marker}" should appear nowhere`).not.toContain(marker);
        });
      }

      it('numbers are bound with their exact value', () => {
        const q = compile(engine, 'views > 31337.5 && views < -271828 && geoDistance(loc.lon, loc.lat, 987654.321, 123456.789) < 4242.4242');
        const numbers = q.parameters.filter((p): p is number => typeof p === 'number');
        expect(numbers).toEqual(expect.arrayContaining([31337.5, -271828, 987654.321, 123456.789, 4242.4242]));
      });

      it('the same filter always compiles to the same SQL (parameters differ only by value)', () => {
        const a = compile(engine, "title = 'x' && editors.name ?= 'y' && tags:each = 'z'");
        const b = compile(engine, "title = 'p' && editors.name ?= 'q' && tags:each = 'r'");
        expect(a.sql).toBe(b.sql);
        expect(a.parameters).not.toEqual(b.parameters);
      });
    });
  }
});

// ---------------------------------------------------------------------------------------------
// (b) unresolvable names are FilterResolveError
// ---------------------------------------------------------------------------------------------

const chain = (n: number, last = 'name') => [...Array(n).fill('parent'), last].join('.');
const backChain = (n: number, last = 'name') => [...Array(n).fill('nodes_via_parent'), last].join('.');

const resolveErrors: { filter: string; options?: CompileOptions; why: string }[] = [
  { filter: 'nope = 1', why: 'unknown field' },
  { filter: "author.nope = 'x'", why: 'unknown field of a relation' },
  { filter: "title.name = 'x'", why: 'a text field is not a relation' },
  { filter: 'views.x > 1', why: 'a number field is not a relation' },
  { filter: "nope_via_post.text ?= 'x'", why: 'unknown back-relation collection' },
  { filter: "comments_via_nope.text ?= 'x'", why: 'unknown back-relation field' },
  { filter: "comments_via_text.text ?= 'x'", why: 'back-relation through a non-relation field' },
  { filter: "teams_via_org.name ?= 'x'", why: 'back-relation whose field points elsewhere' },
  { filter: "secret = 'x'", options: { allowHiddenFields: false }, why: 'hidden field' },
  { filter: "author.password = 'x'", options: { allowHiddenFields: false }, why: 'hidden auth field' },
  { filter: "author.tokenKey = 'x'", options: { allowHiddenFields: false }, why: 'hidden auth field' },
  { filter: "comments_via_hiddenPost.text ?= 'x'", options: { allowHiddenFields: false }, why: 'hidden back-relation field' },
  { filter: "title:upper = 'x'", why: 'unknown modifier' },
  { filter: "author.name:nope = 'x'", why: 'unknown modifier on a relation path' },
  { filter: 'tags:each:length > 1', why: 'two modifiers' },
  { filter: "tags:EACH = 'a'", why: 'modifiers are case-sensitive' },
  { filter: "@request.query.q:nope = 'x'", why: 'unknown modifier on a request field' },
  { filter: "@request.body.nope:changed = true", why: ':changed needs a field of the collection' },
  { filter: 'foo(1) = 1', why: 'unknown function' },
  { filter: 'geodistance(1, 2, 3, 4) > 1', why: 'function names are case-sensitive' },
  { filter: 'geoDistance(1, 2, 3) > 1', why: 'geoDistance takes 4 arguments' },
  { filter: 'geoDistance(1, 2, 3, 4, 5) > 1', why: 'geoDistance takes 4 arguments' },
  { filter: "strftime() = ''", why: 'strftime needs a format' },
  { filter: "strftime('%Y', publishAt, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i') = ''", why: 'strftime takes at most 10 arguments' },
  { filter: "strftime('%Y', nope) = ''", why: 'unknown field inside a function' },
  { filter: `${chain(MAX_NESTED_RELATIONS + 1)} = 'x'`, options: { collection: 'nodes' }, why: '7 nested relations' },
  { filter: `${backChain(MAX_NESTED_RELATIONS + 1)} ?= 'x'`, options: { collection: 'nodes' }, why: '7 nested back-relations' },
  { filter: `${chain(MAX_NESTED_RELATIONS)}.parent.id = 'x'`, options: { collection: 'nodes' }, why: '7 levels even when the last hop is the id shortcut' },
  { filter: "@collection.nope.title = 'x'", why: 'unknown collection' },
  { filter: "@collection.posts = 'x'", why: '@collection without a field' },
  { filter: "@collection.comments.nope ?= 'x'", why: 'unknown field of @collection' },
  { filter: '@nope = 1', why: 'unknown @ identifier' },
  { filter: '@request.query.q = 1 && nope = 1', why: 'an unknown field anywhere fails the whole filter' },
];

describe('(b) FilterResolveError', () => {
  for (const engine of engines) {
    describe(engine.name, () => {
      for (const c of resolveErrors) {
        it(`${c.filter} (${c.why})`, () => {
          expect(() => compile(engine, c.filter, c.options)).toThrow(FilterResolveError);
        });
      }

      it(`${MAX_NESTED_RELATIONS} nested relations and back-relations still compile`, () => {
        expect(() => compile(engine, `${chain(MAX_NESTED_RELATIONS)} = 'x'`, { collection: 'nodes' })).not.toThrow();
        expect(() => compile(engine, `${backChain(MAX_NESTED_RELATIONS)} ?= 'x'`, { collection: 'nodes' })).not.toThrow();
      });

      it('hidden fields resolve for superusers and rules (allowHiddenFields)', () => {
        for (const filter of ["secret = 'x'", "author.tokenKey = 'x'", "comments_via_hiddenPost.text ?= 'x'"]) {
          expect(() => compile(engine, filter, { allowHiddenFields: true }), filter).not.toThrow();
        }
      });

      it('@request.* and @collection.* resolve for any caller; unknown @request fields are NULL', () => {
        for (const filter of ["@request.nope = ''", "@request.auth.nope.deeper = ''", "@request.body.nope = ''", "@request.query.nope.deeper = ''", "@collection.users.name ?= ''"]) {
          expect(() => compile(engine, filter, { allowHiddenFields: false, request: authed({}) }), filter).not.toThrow();
        }
      });

      it('@collection.* reads hidden fields only where hidden fields are allowed (rules, superusers)', () => {
        expect(() => compile(engine, "@collection.users.tokenKey ?= ''", { allowHiddenFields: false, request: authed({}) })).toThrow('non-filterable field "tokenKey"');
        expect(() => compile(engine, "@collection.users.tokenKey ?= ''", { allowHiddenFields: true, request: authed({}) })).not.toThrow();
      });

      it('a client filter of a caller without the capability cannot use @request or @collection at all', () => {
        for (const filter of ["@request.auth.id != ''", "@collection.users.name ?= ''"]) {
          expect(() => compile(engine, filter, { allowHiddenFields: false, allowSuperuserIdentifiers: false, request: authed({}) }), filter).toThrow('is for superusers only');
        }
      });
    });
  }

  it('validateFilter() reports the same errors without a request', () => {
    const ctx = { schema: registry, collection: posts, dialect: engines[0].dialect, allowHiddenFields: true };
    expect(() => validateFilter(parseFilter("nope = 'x'"), ctx)).toThrow(FilterResolveError);
    expect(() => validateFilter(parseFilter("title:upper = 'x'"), ctx)).toThrow(FilterResolveError);
    expect(() => validateFilter(parseFilter("@request.auth.team.name = title && @request.body.title:changed = true && author.team.org.name = ''"), ctx)).not.toThrow();
  });

  it('syntax problems are FilterSyntaxError, from the parser', () => {
    expect(() => parseFilter("title = 'x' &&")).toThrow(FilterSyntaxError);
    expect(() => parseFilter(Array(FILTER_MAX_EXPRESSIONS + 1).fill('a = 1').join(' || '))).toThrow(FilterSyntaxError);
  });
});

// ---------------------------------------------------------------------------------------------
// (c) the EXISTS wrapper only when joins are needed
// ---------------------------------------------------------------------------------------------

const WRAPPER = /EXISTS \(SELECT 1 FROM "posts" AS "__f" /g;

const withoutJoins: { filter: string; request?: RequestInfo }[] = [
  { filter: "title = 'x'" },
  { filter: "views > 1 && published = true || title ~ 'x'" },
  { filter: "author = 'x'" },
  { filter: "author.id = 'x'" },
  { filter: "tags ~ 'a'" },
  { filter: 'tags:length > 1 && editors:length = 0' },
  { filter: 'data.a.b = 1 && data.list.0 = 2 && data = null' },
  { filter: 'loc.lon > 1 && geoDistance(loc.lon, loc.lat, 1, 2) < 3' },
  { filter: "strftime('%Y', publishAt, '+1 day') = '2020'" },
  { filter: 'publishAt > @now && publishAt < @yearEnd && @year > 2000' },
  { filter: '@request.auth.id = author && @request.auth.email != title', request: authed({}) },
  { filter: "@request.query.q = title && @request.headers.h != '' && @request.method = 'GET'", request: guestRequest({ query: { q: 'x' } }) },
  // a guest has no auth record to join
  { filter: "@request.auth.team.name = 'x'" },
  { filter: "@request.body.title:changed = false && @request.body.title:isset = false" },
];

const withJoins: { filter: string; request?: RequestInfo; notExists?: boolean }[] = [
  { filter: "author.name = 'x'" },
  { filter: "author.team.org.name = 'x'" },
  { filter: "editors.name ?= 'x'" },
  { filter: "editors.name = 'x'", notExists: true },
  { filter: "tags:each ?= 'a'" },
  { filter: "tags:each = 'a'", notExists: true },
  { filter: "comments_via_post.text ?= 'x'" },
  { filter: 'comments_via_post.likes > 1', notExists: true },
  { filter: "@collection.comments.text ?= 'x'" },
  { filter: "@collection.comments:c.post ?= id && @collection.comments:c.likes ?> 1" },
  { filter: "@request.auth.team.name = 'x'", request: authed({}) },
  { filter: "title = 'x' || author.name = 'y' && editors.name ?= 'z' || author.team.name = 'w'" },
  { filter: "strftime('%Y', comments_via_post.text) ?= '2020'" },
];

describe('(c) the EXISTS wrapper', () => {
  for (const engine of engines) {
    describe(engine.name, () => {
      for (const c of withoutJoins) {
        it(`no joins: ${c.filter}`, () => {
          const q = compile(engine, c.filter, { request: c.request });
          expect(q.sql).not.toMatch(/EXISTS|JOIN|__f/);
        });
      }
      for (const c of withJoins) {
        it(`joins: ${c.filter}`, () => {
          const q = compile(engine, c.filter, { request: c.request });
          const where = q.sql.slice(q.sql.indexOf(' WHERE ') + 7);
          // one wrapper, around the whole predicate, correlated by id
          expect(where.startsWith('EXISTS (SELECT 1 FROM "posts" AS "__f" '), where).toBe(true);
          expect(q.sql.match(WRAPPER)?.length).toBe(1);
          expect(q.sql).toContain('"__f"."id" = "__r"."id"');
          expect(q.sql).toContain('LEFT JOIN');
          if (c.notExists) expect(q.sql).toContain('NOT EXISTS');
        });
      }

      it('joins of the same path are shared, different paths are not', () => {
        const once = compile(engine, "author.name = 'x' && author.name != 'y' && author.email = 'z'");
        const twice = compile(engine, "author.name = 'x' && editors.name ?= 'y'");
        const joins = (q: CompiledQuery) => (q.sql.match(/LEFT JOIN/g) ?? []).length;
        expect(joins(once)).toBe(1);
        expect(joins(twice)).toBeGreaterThan(joins(once));
      });

      it('the root alias is the one given to compileFilter', () => {
        const predicate = compileFilter(
          parseFilter("author.name = 'x'"),
          { schema: registry, collection: posts, dialect: engine.dialect, request: null, allowHiddenFields: true, now: new Date() },
          'zz_root',
        );
        const q = sql`SELECT 1 FROM ${sql.id('posts')} AS ${sql.id('zz_root')} WHERE ${predicate}`.compile(engine.db);
        expect(q.sql).toContain('"__f"."id" = "zz_root"."id"');
        expect(q.sql).not.toContain('"__r"');
      });
    });
  }
});
