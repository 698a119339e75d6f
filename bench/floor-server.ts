/**
 * The HTTP half of the floor servers: a bare `node:http` server for the benchmarked routes (the
 * `posts` records, and password sign-in and refresh on `users`), answering with the same JSON
 * shapes as Basalt (record objects with collectionId/collectionName, the list envelope, the auth
 * response, PocketBase's error shape). What a store does is left to `FloorStore`
 * (floor-sqlite.ts, floor-postgres.ts). It is a floor, not a server: no rules engine, no filter
 * language, no MFA, no logging; only the work any server must do, with the same libraries
 * (bcrypt, jose) for the auth routes.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import bcrypt from 'bcrypt';
import { decodeJwt, jwtVerify, SignJWT } from 'jose';

/** A `posts` row, columns in schema order (`SELECT id, title, rank, status, author, created, updated`). */
export interface PostRow {
  id: string;
  title: string;
  rank: number;
  status: string;
  author: string;
  created: string;
  updated: string;
}

/** A `users` row (the default auth collection), columns in schema order. */
export interface UserRow {
  id: string;
  password: string;
  tokenKey: string;
  email: string;
  emailVisibility: boolean | number;
  verified: boolean | number;
  name: string;
  avatar: string;
  created: string;
  updated: string;
}

/** What signing a `users` auth token needs: the collection id, its secret and token duration. */
export interface AuthConfig {
  collectionId: string;
  secret: string;
  duration: number;
}

export interface FloorStore {
  userByEmail(email: string): Promise<UserRow | undefined>;
  userById(id: string): Promise<UserRow | undefined>;
  authConfig(): Promise<AuthConfig>;
  view(id: string): Promise<PostRow | undefined>;
  /** The page of `sort=-rank` under the guest list rule, and the count unless `withTotal` is false. */
  list(limit: number, offset: number, withTotal: boolean): Promise<{ rows: PostRow[]; total: number }>;
  /** Inserts `row` in a write transaction after checking that `author` exists; false if it does not. */
  create(row: PostRow): Promise<boolean>;
  close(): Promise<void>;
}

export const STATUSES = new Set(['public', 'draft', 'archived']);
const PREFIX = '/api/collections/posts/records';
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** 15 characters of [a-z0-9] from the CSPRNG, unbiased (as Basalt's ids). */
function newId(): string {
  let out = '';
  while (out.length < 15) {
    for (const b of randomBytes(30)) if (b < 252 && out.length < 15) out += ID_ALPHABET[b % 36];
  }
  return out;
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function fail(res: ServerResponse, status: number, message: string, data: Record<string, unknown> = {}): void {
  send(res, status, { status, message, data });
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });
}

/** Builds the response JSON of a row: Basalt's field order, after collectionId and collectionName. */
function recordJson(collectionId: string, r: PostRow) {
  return { collectionId, collectionName: 'posts', id: r.id, title: r.title, rank: r.rank, status: r.status, author: r.author, created: r.created, updated: r.updated };
}

async function list(store: FloorStore, collectionId: string, query: URLSearchParams, res: ServerResponse): Promise<void> {
  const page = Math.max(1, Number(query.get('page') ?? 1) || 1);
  const perPage = Math.min(1000, Math.max(1, Number(query.get('perPage') ?? 30) || 30));
  const skipTotal = ['1', 'true'].includes(query.get('skipTotal') ?? '');
  if ((query.get('sort') ?? '-rank') !== '-rank') return fail(res, 400, 'The floor sorts by -rank only.');
  const { rows, total } = await store.list(perPage, (page - 1) * perPage, !skipTotal);
  send(res, 200, {
    page,
    perPage,
    totalItems: skipTotal ? -1 : total,
    totalPages: skipTotal ? -1 : Math.ceil(total / perPage),
    items: rows.map((r) => recordJson(collectionId, r)),
  });
}

async function create(store: FloorStore, collectionId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body: Record<string, unknown>;
  try {
    body = (await readJson(req)) as Record<string, unknown>;
  } catch {
    return fail(res, 400, 'Failed to load the submitted data due to invalid formatting.');
  }
  const { title = '', rank = 0, status = '', author = '' } = body ?? {};
  const valid = typeof title === 'string' && title.length <= 200 && typeof rank === 'number' && Number.isFinite(rank) && typeof status === 'string' && (status === '' || STATUSES.has(status)) && typeof author === 'string';
  if (!valid) return fail(res, 400, 'Failed to create record.');
  const now = new Date().toISOString().replace('T', ' ');
  const row: PostRow = { id: newId(), title, rank, status, author, created: now, updated: now };
  if (!(await store.create(row))) return fail(res, 400, 'Failed to create record.', { author: { code: 'validation_missing_rel_records', message: 'Failed to find all relation records with the provided ids.' } });
  send(res, 200, recordJson(collectionId, row));
}

/** An auth record as its owner sees it (hidden fields out, booleans as booleans). */
function userJson(auth: AuthConfig, u: UserRow) {
  return {
    collectionId: auth.collectionId,
    collectionName: 'users',
    id: u.id,
    email: u.email,
    emailVisibility: Boolean(u.emailVisibility),
    verified: Boolean(u.verified),
    name: u.name,
    avatar: u.avatar,
    created: u.created,
    updated: u.updated,
  };
}

const encoder = new TextEncoder();

function signToken(auth: AuthConfig, u: UserRow): Promise<string> {
  return new SignJWT({ id: u.id, type: 'auth', collectionId: auth.collectionId, refreshable: true })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setExpirationTime(Math.floor(Date.now() / 1000) + auth.duration)
    .sign(encoder.encode(u.tokenKey + auth.secret));
}

/** Password sign-in: the same lookup, the same bcrypt verify, the same token as Basalt. */
async function authWithPassword(store: FloorStore, auth: AuthConfig, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body: Record<string, unknown>;
  try {
    body = (await readJson(req)) as Record<string, unknown>;
  } catch {
    return fail(res, 400, 'Failed to load the submitted data due to invalid formatting.');
  }
  const identity = typeof body?.identity === 'string' ? body.identity : '';
  const password = typeof body?.password === 'string' ? body.password : '';
  const user = identity ? await store.userByEmail(identity) : undefined;
  if (!user || !(await bcrypt.compare(password, user.password))) return fail(res, 400, 'Failed to authenticate.');
  send(res, 200, { token: await signToken(auth, user), record: userJson(auth, user) });
}

/** Refresh: decode, look the record up, verify with its key, sign a new token. */
async function authRefresh(store: FloorStore, auth: AuthConfig, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const token = (req.headers.authorization ?? '').replace(/^bearer\s+/i, '');
  let user: UserRow | undefined;
  try {
    const claims = decodeJwt(token);
    user = typeof claims.id === 'string' ? await store.userById(claims.id) : undefined;
    if (user) await jwtVerify(token, encoder.encode(user.tokenKey + auth.secret), { algorithms: ['HS256'] });
  } catch {
    user = undefined;
  }
  if (!user) return fail(res, 401, 'The request requires valid record authorization token.');
  send(res, 200, { token: await signToken(auth, user), record: userJson(auth, user) });
}

async function route(store: FloorStore, collectionId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path === '/api/health') return send(res, 200, { code: 200, message: 'API is healthy.', data: {} });
  if (req.method === 'POST' && path === '/api/collections/users/auth-with-password') return authWithPassword(store, await store.authConfig(), req, res);
  if (req.method === 'POST' && path === '/api/collections/users/auth-refresh') return authRefresh(store, await store.authConfig(), req, res);
  if (path === PREFIX) {
    if (req.method === 'GET') return list(store, collectionId, new URLSearchParams(q < 0 ? '' : url.slice(q + 1)), res);
    if (req.method === 'POST') return create(store, collectionId, req, res);
  } else if (req.method === 'GET' && path.startsWith(PREFIX + '/')) {
    const row = await store.view(decodeURIComponent(path.slice(PREFIX.length + 1)));
    return row ? send(res, 200, recordJson(collectionId, row)) : fail(res, 404, "The requested resource wasn't found.");
  }
  fail(res, 404, "The requested resource wasn't found.");
}

/** Serves `store` on 127.0.0.1:FLOOR_PORT until SIGTERM/SIGINT. Reads FLOOR_PORT and FLOOR_COLLECTION_ID. */
export function serveFloor(name: string, store: FloorStore): void {
  const port = Number(process.env.FLOOR_PORT);
  const collectionId = process.env.FLOOR_COLLECTION_ID ?? '';
  if (!Number.isInteger(port) || port <= 0 || collectionId === '') {
    console.error(`${name}: set FLOOR_PORT, FLOOR_COLLECTION_ID (and FLOOR_DB); run.ts does`);
    process.exit(2);
  }
  const server = createServer((req, res) => {
    route(store, collectionId, req, res).catch((err: unknown) => {
      console.error(`${name}: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) fail(res, 500, 'Something went wrong while processing your request.');
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1', () => console.log(`${name} listening on http://127.0.0.1:${port}`));
  const stop = () => {
    server.close();
    server.closeAllConnections();
    store.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
