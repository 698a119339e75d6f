/**
 * The SQLite floor: Basalt's own SQL (copied from what it generates for these requests as a
 * guest) on better-sqlite3 prepared statements, the database file opened in WAL mode with the
 * pragmas Basalt uses, so the only difference left is Basalt's code.
 *
 * Run by run.ts: FLOOR_DB=<data.db> FLOOR_PORT=… FLOOR_COLLECTION_ID=… node --import tsx bench/floor-sqlite.ts
 */
import BetterSqlite3 from 'better-sqlite3';
import { serveFloor, type AuthConfig, type FloorStore, type PostRow, type UserRow } from './floor-server.js';

const COLUMNS = '"__r"."id", "__r"."title", "__r"."rank", "__r"."status", "__r"."author", "__r"."created", "__r"."updated"';
// The list rule `status = 'public' || author = @request.auth.id` for a guest (auth id '').
const LIST_RULE = `(("__r"."status" = ?) OR ("__r"."author" = '' OR "__r"."author" IS NULL))`;

function openStore(file: string): FloorStore {
  const db = new BetterSqlite3(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 10000');
  db.pragma('temp_store = MEMORY');
  db.pragma('cache_size = -32000');

  const view = db.prepare<[string], PostRow>(`SELECT ${COLUMNS} FROM "posts" AS "__r" WHERE "__r"."id" = ? LIMIT 1`);
  const page = db.prepare<[string, number, number], PostRow>(`SELECT ${COLUMNS} FROM "posts" AS "__r" WHERE ${LIST_RULE} ORDER BY "__r"."rank" DESC, "__r"."rowid" LIMIT ? OFFSET ?`);
  const count = db.prepare<[string], { n: number }>(`SELECT COUNT(*) AS "n" FROM "posts" AS "__r" WHERE ${LIST_RULE}`);
  const author = db.prepare<[string], { id: string }>(`SELECT "id" FROM "users" WHERE "id" IN (?)`);
  const insert = db.prepare(`insert into "posts" ("id", "title", "rank", "status", "author", "created", "updated") values (?, ?, ?, ?, ?, ?, ?)`);
  const USER_COLUMNS = '"id", "password", "tokenKey", "email", "emailVisibility", "verified", "name", "avatar", "created", "updated"';
  const userByEmail = db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM "users" WHERE "email" = ? LIMIT 1`);
  const userById = db.prepare<[string], UserRow>(`SELECT ${USER_COLUMNS} FROM "users" WHERE "id" = ? LIMIT 1`);
  const usersCollection = db.prepare<[], { id: string; options: string }>(`SELECT "id", "options" FROM "_collections" WHERE "name" = 'users'`);
  let auth: AuthConfig | null = null;
  const create = db.transaction((r: PostRow): boolean => {
    if (r.author !== '' && author.all(r.author).length === 0) return false;
    insert.run(r.id, r.title, r.rank, r.status, r.author, r.created, r.updated);
    return true;
  });

  return {
    async userByEmail(email) {
      return userByEmail.get(email);
    },
    async userById(id) {
      return userById.get(id);
    },
    async authConfig() {
      if (!auth) {
        const row = usersCollection.get()!;
        const token = JSON.parse(row.options).authToken as { secret: string; duration: number };
        auth = { collectionId: row.id, secret: token.secret, duration: token.duration };
      }
      return auth;
    },
    async view(id) {
      return view.get(id);
    },
    async list(limit, offset, withTotal) {
      const rows = page.all('public', limit, offset);
      return { rows, total: withTotal ? count.get('public')!.n : -1 };
    },
    async create(row) {
      // BEGIN IMMEDIATE, as Basalt's writer: take the write lock before reading.
      return create.immediate(row);
    },
    async close() {
      db.close();
    },
  };
}

serveFloor('floor-sqlite', openStore(process.env.FLOOR_DB ?? ''));
