/**
 * The benchmark dataset: ~100 users and 10,000 posts, written through Basalt's own services
 * (collection service and record writer, one transaction per collection) so every row is a valid
 * Basalt record with the ids, defaults and encodings the server would have produced.
 */
import { localAdapters } from '../src/adapters/local-adapters.js';
import { join } from 'node:path';
import { systemCaller } from '../src/core/records/caller.js';
import { createApp, type App } from '../src/core/app.js';
import type { CollectionModel } from '../src/core/model/collection-model.js';
import { defaultConfig } from '../src/core/config.js';
import { transact } from '../src/core/events/transaction.js';
import { silentLogger } from '../src/core/ports.js';
import { createDatabase } from '../src/db/create-database.js';

/** Where the data lives: a SQLite file under `dir`, or a PostgreSQL database. */
export type Target = { engine: 'sqlite'; dir: string } | { engine: 'postgres'; dir: string; url: string };

export interface Dataset {
  /** Id of the `posts` collection (the floor needs it for `collectionId`). */
  postsCollectionId: string;
  postIds: string[];
  userIds: string[];
  /** Sign-in identities of the users (their password is USER_PASSWORD). */
  userEmails: string[];
  /** A valid auth token per user, for auth-refresh. */
  userTokens: string[];
}

export const USER_PASSWORD = 'bench-password';

export const STATUSES = ['public', 'draft', 'archived'] as const;

/** The `posts` collection the issue describes: an indexed sort field, a select, a text, a relation. */
export const POSTS_COLLECTION = {
  name: 'posts',
  type: 'base',
  fields: [
    { name: 'title', type: 'text', max: 200 },
    { name: 'rank', type: 'number' },
    { name: 'status', type: 'select', values: [...STATUSES], maxSelect: 1 },
    { name: 'author', type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1 },
    { name: 'created', type: 'autodate', onCreate: true },
    { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
  ],
  indexes: ['CREATE INDEX idx_posts_rank ON posts (rank)'],
  listRule: "status = 'public' || author = @request.auth.id",
  viewRule: '',
  createRule: '',
};

/** Deterministic pseudo-random numbers (mulberry32), so every run seeds the same data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const USER_CONCURRENCY = 4;

const WORDS = ['basalt', 'granite', 'river', 'summit', 'lantern', 'harbor', 'meadow', 'quartz', 'signal', 'timber'];

function openTargetApp(target: Target): Promise<App> {
  const dbConfig = target.engine === 'postgres' ? { type: 'postgres' as const, url: target.url, maxConnections: 2 } : { type: 'sqlite' as const, file: join(target.dir, 'data.db') };
  return createDatabase(dbConfig).then((db) =>
    createApp(defaultConfig({ dataDir: target.dir, databaseUrl: target.engine === 'postgres' ? target.url : '', logLevel: 'silent' }), { db, logger: silentLogger, ...localAdapters({ dataDir: target.dir }) }),
  );
}

function collectionNamed(app: App, name: string): CollectionModel {
  const c = app.registry.find(name);
  if (!c) throw new Error(`the ${name} collection is missing after seeding`);
  return c;
}

async function seedUsers(app: App, count: number): Promise<string[]> {
  const users = collectionNamed(app, 'users');
  return transact(app.db, async (tx) => {
    const ids: string[] = new Array(count);
    const create = async (i: number) => {
      const data = { email: `user${i}@bench.test`, password: USER_PASSWORD, passwordConfirm: USER_PASSWORD, name: `User ${i}` };
      const record = await app.records.writer.create(users, { data }, systemCaller(), tx);
      ids[i] = String(record.values.id);
    };
    // NB: each user costs one bcrypt hash (cost 10, ~55 ms) on libuv's thread pool; a few
    // creates in flight at once (statements of one transaction may interleave) halve the wait.
    for (let i = 0; i < count; i += USER_CONCURRENCY) {
      await Promise.all(Array.from({ length: Math.min(USER_CONCURRENCY, count - i) }, (_, k) => create(i + k)));
    }
    return ids;
  });
}

async function seedPosts(app: App, count: number, userIds: string[]): Promise<string[]> {
  const posts = collectionNamed(app, 'posts');
  const random = prng(42);
  return transact(app.db, async (tx) => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const r = random();
      const data = {
        title: `Post ${i}: ${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]} ${WORDS[(i * 3) % WORDS.length]}`,
        rank: Math.floor(random() * 1_000_000),
        // About half the posts are public: the list rule keeps one row in two.
        status: r < 0.5 ? 'public' : r < 0.8 ? 'draft' : 'archived',
        author: userIds[Math.floor(random() * userIds.length)],
      };
      const record = await app.records.writer.create(posts, { data }, systemCaller(), tx);
      ids.push(String(record.values.id));
    }
    return ids;
  });
}

/** Creates the collections and records on an empty database, then closes it. */
export async function seedDataset(target: Target, sizes: { users: number; posts: number }): Promise<Dataset> {
  const app = await openTargetApp(target);
  try {
    // Stored logs off, as the request log line is (`--log-level warn`): the floor logs nothing,
    // and what storing every request costs is measured on its own (bench/logs.ts).
    await app.settings.update({ logs: { maxDays: 0 } });
    await app.collections.create(POSTS_COLLECTION);
    const userIds = await seedUsers(app, sizes.users);
    const postIds = await seedPosts(app, sizes.posts, userIds);
    const users = collectionNamed(app, 'users');
    const userTokens: string[] = [];
    for (const id of userIds) {
      const record = await app.records.reader.find(users, id, systemCaller());
      userTokens.push(await app.auth.issueToken(record!));
    }
    return { postsCollectionId: collectionNamed(app, 'posts').id, postIds, userIds, userEmails: userIds.map((_, i) => `user${i}@bench.test`), userTokens };
  } finally {
    await app.close();
  }
}
