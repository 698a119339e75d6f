/**
 * The cost model of client filters (src/core/rules/filter-cost.ts), without a database: which
 * filters a budget lets through, and what the refusal says. The HTTP suite (query-cost.test.ts)
 * runs the attacks themselves on both engines.
 */
import { describe, expect, it } from 'vitest';
import { CollectionRegistry } from '../../src/core/collections/collection-registry.js';
import { defaultCollectionId, makeField, scaffoldCollection } from '../../src/core/collections/scaffolds.js';
import { CLIENT_BUDGET, SUPERUSER_BUDGET } from '../../src/core/records/client-budget.js';
import { compileFilter, FilterCostError, type CostBudget } from '../../src/core/rules/compiler.js';
import { parseFilter } from '../../src/core/rules/parser.js';
import { guestRequest } from '../../src/core/rules/request-info.js';
import { SqliteFilterDialect } from '../../src/db/sqlite/sqlite-filter-dialect.js';

const id = (name: string) => defaultCollectionId(name);
const users = scaffoldCollection('auth', 'users', id('users'));
const posts = scaffoldCollection('base', 'posts', id('posts'));
posts.fields = [
  ...posts.fields,
  makeField('text', 'title'),
  makeField('autodate', 'created', { onCreate: true }),
  makeField('text', 'body'),
  makeField('select', 'tags', { values: ['a', 'b'], maxSelect: 2 }),
  makeField('relation', 'author', { collectionId: id('users'), maxSelect: 1 }),
  makeField('relation', 'editors', { collectionId: id('users'), maxSelect: 5 }),
];
const registry = new CollectionRegistry();
registry.replace([users, posts]);

function compile(filter: string, budget?: CostBudget): void {
  compileFilter(parseFilter(filter), { schema: registry, collection: registry.find('posts')!, dialect: new SqliteFilterDialect(), request: guestRequest(), allowHiddenFields: false, budget, now: new Date() }, '__r');
}

function refusal(filter: string, budget: CostBudget = CLIENT_BUDGET): string {
  try {
    compile(filter, budget);
  } catch (err) {
    if (err instanceof FilterCostError) return err.message;
    throw err;
  }
  throw new Error(`"${filter}" was not refused`);
}

const DEEP = 'author.posts_via_author.author.posts_via_author';

describe('filter cost', () => {
  it('lets ordinary relation filters through a guest budget', () => {
    for (const filter of [
      'title = "x" && author.email != ""',
      'tags:each ?= "a"',
      'tags:each = "a"',
      'editors.email ?= "x" && editors.email != "y"',
      'author.posts_via_author.title = "x"',
      'author.posts_via_author.title != author.posts_via_author.body',
      'editors.email != author.posts_via_author.title',
      `${DEEP}.title != "x"`,
      `${DEEP}.title ?= ${DEEP}.body`,
    ]) {
      expect(() => compile(filter, CLIENT_BUDGET), filter).not.toThrow();
    }
  });

  it('refuses a comparison of two deep multi-valued paths, naming them', () => {
    const message = refusal(`${DEEP}.title != ${DEEP}.body`, SUPERUSER_BUDGET);
    expect(message).toBe(
      `"${DEEP}.title" joins 2 multi-valued relations and "${DEEP}.body" 2 multi-valued relations; a comparison of two such paths may create too many row combinations: compare one of them with a literal or use fewer back-relations`,
    );
  });

  it('suggests the "any" operator when one deep path must match in every value', () => {
    const message = refusal(`${DEEP}.author.posts_via_author.title != "x"`, { ...SUPERUSER_BUDGET, maxFanOut: 10 });
    expect(message).toMatch(/"\?!=" \(any value\)/);
  });

  it('sums the comparisons of a filter', () => {
    const one = `${DEEP}.title != "x"`;
    expect(() => compile(one, CLIENT_BUDGET)).not.toThrow();
    // Each adds 10^8 estimated rows; together they pass the guest bound of 5·10^8.
    const many = Array.from({ length: 6 }, (_, i) => `${DEEP}.title != "x${i}"`).join(' && ');
    expect(() => compile(many, { ...CLIENT_BUDGET, maxFanOut: 100 })).toThrow(FilterCostError);
  });

  it('counts to-many steps across the whole filter', () => {
    expect(refusal(`${DEEP}.title ?= "x" || editors.email ?= "y" || tags:each ?= "a" || author.posts_via_author.body ?= "z"`)).toMatch(/at most 4/);
    expect(() => compile(`${DEEP}.title ?= "x" || editors.email ?= "y" || tags:each ?= "a" || author.posts_via_author.body ?= "z"`, SUPERUSER_BUDGET)).not.toThrow();
  });

  it('weighs @collection as a whole table', () => {
    expect(refusal('@collection.posts.title != @collection.posts.body', SUPERUSER_BUDGET)).toMatch(/"@collection\.posts\.title" joins 1 multi-valued relation and/);
    expect(() => compile('@collection.posts.title ?= title', SUPERUSER_BUDGET)).not.toThrow();
  });

  it('bounds literal function arguments', () => {
    expect(refusal(`strftime("${'%Y'.repeat(51)}", created) = "x"`)).toBe('an argument of strftime() has 102 characters (at most 100): use a shorter format or modifier');
    expect(() => compile(`strftime("%Y-%m-%d %H:%M:%S", created, "+1 day", "start of month") = "x"`, CLIENT_BUDGET)).not.toThrow();
  });

  it('leaves compilations without a budget (collection rules) unbounded', () => {
    expect(() => compile(`${DEEP}.title != ${DEEP}.body && ${DEEP}.author.posts_via_author.title != "x"`)).not.toThrow();
  });
});
