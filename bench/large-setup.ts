/**
 * The large bench's schema, made through the HTTP API of a running `basalt serve` on an empty
 * database, as an operator would: the first superuser from the installer link the server prints
 * (core/auth/first-run.ts), stored logs off, the `authors` and `posts` collections, then one
 * author and one post written by Basalt itself, whose stored row and JSON are the reference the
 * seeded rows are checked against (bench/large-dataset.ts), and which are deleted again.
 */
import { readFileSync } from 'node:fs';
import type { ServerProcess } from './processes.js';

const SUPERUSER = { email: 'bench-large@example.com', password: 'benchpass123' };

export const AUTHORS_COLLECTION = {
  name: 'authors',
  type: 'base',
  fields: [
    { name: 'name', type: 'text' },
    { name: 'country', type: 'text' },
  ],
  listRule: '',
  viewRule: '',
};

export const POSTS_COLLECTION = {
  name: 'posts',
  type: 'base',
  fields: [
    { name: 'title', type: 'text', searchable: true }, // the substring index `~` narrows with (README "Large collections")
    { name: 'n', type: 'number' },
    { name: 'published', type: 'bool' },
    { name: 'author', type: 'relation', collectionId: 'authors', maxSelect: 1 },
    { name: 'created', type: 'autodate', onCreate: true },
    { name: 'updated', type: 'autodate', onCreate: true, onUpdate: true },
  ],
  indexes: ['CREATE INDEX idx_posts_n ON posts (n)'],
  listRule: 'published = true',
  viewRule: '',
  createRule: '',
};

export interface LargeSchema {
  /** A superuser's token (the same database keeps it valid across restarts). */
  token: string;
  authorsId: string;
  postsId: string;
}

type Json = Record<string, unknown>;

/** One API call; anything but a 2xx stops the run with the server's answer. */
export async function api(server: ServerProcess, method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<Json> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = options.token;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(server.url + path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as Json) : {};
}

/** The installer token of the first-run link (`…/_/#/pbinstal/<token>`) in the server's output. */
async function installerToken(server: ServerProcess): Promise<string> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const match = /\/_\/#\/pbinstal\/(\S+)/.exec(readFileSync(server.logFile, 'utf8'));
    if (match) return match[1];
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no first-run link in ${server.logFile}: was the database empty?`);
}

/** Creates the superuser, the settings and the collections; returns what seeding needs. */
export async function createSchema(server: ServerProcess): Promise<LargeSchema> {
  await api(server, 'POST', '/api/collections/_superusers/records', {
    token: await installerToken(server),
    body: { email: SUPERUSER.email, password: SUPERUSER.password, passwordConfirm: SUPERUSER.password },
  });
  const auth = await api(server, 'POST', '/api/collections/_superusers/auth-with-password', { body: { identity: SUPERUSER.email, password: SUPERUSER.password } });
  const token = String(auth.token);
  // Stored request logs off, as bench/dataset.ts does for the other runs (bench/logs.ts measures them).
  await api(server, 'PATCH', '/api/settings', { token, body: { logs: { maxDays: 0 } } });
  const authors = await api(server, 'POST', '/api/collections', { token, body: AUTHORS_COLLECTION });
  const posts = await api(server, 'POST', '/api/collections', { token, body: POSTS_COLLECTION });
  return { token, authorsId: String(authors.id), postsId: String(posts.id) };
}

/**
 * One author (as the superuser: authors have no create rule) and one post (as a guest, as the
 * mixed scenario creates them). `inspect` reads the post's stored row while it exists. Returns
 * the post's JSON: the shape every seeded record must have.
 */
export async function withSampleRecords(server: ServerProcess, schema: LargeSchema, inspect: (postId: string) => Promise<void>): Promise<Json> {
  const author = await api(server, 'POST', '/api/collections/authors/records', { token: schema.token, body: { name: 'Sample', country: 'FR' } });
  const post = await api(server, 'POST', '/api/collections/posts/records', { body: { title: 'sample lantern', n: 1234, published: true, author: author.id } });
  try {
    await inspect(String(post.id));
  } finally {
    await api(server, 'DELETE', `/api/collections/posts/records/${String(post.id)}`, { token: schema.token });
    await api(server, 'DELETE', `/api/collections/authors/records/${String(author.id)}`, { token: schema.token });
  }
  return post;
}
