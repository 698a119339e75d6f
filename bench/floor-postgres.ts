/**
 * The PostgreSQL floor: Basalt's own SQL for these requests (as a guest) through a `pg` Pool of
 * the size Basalt uses (10), the create in a BEGIN/COMMIT on one pooled client.
 *
 * Run by run.ts: FLOOR_DB=postgres://… FLOOR_PORT=… FLOOR_COLLECTION_ID=… node --import tsx bench/floor-postgres.ts
 */
import pg from 'pg';
import { serveFloor, type AuthConfig, type FloorStore, type PostRow, type UserRow } from './floor-server.js';

const COLUMNS = '"__r"."id", "__r"."title", "__r"."rank", "__r"."status", "__r"."author", "__r"."created", "__r"."updated"';
const LIST_RULE = `(("__r"."status" = CAST($1 AS text)) OR ("__r"."author" = '' OR "__r"."author" IS NULL))`;
const VIEW = `SELECT ${COLUMNS} FROM "posts" AS "__r" WHERE "__r"."id" = CAST($1 AS text) LIMIT 1`;
const PAGE = `SELECT ${COLUMNS} FROM "posts" AS "__r" WHERE ${LIST_RULE} ORDER BY "__r"."rank" DESC, "__r"."__rowid" LIMIT $2 OFFSET $3`;
const COUNT = `SELECT COUNT(*) AS "n" FROM "posts" AS "__r" WHERE ${LIST_RULE}`;
const AUTHOR = `SELECT "id" FROM "users" WHERE "id" IN (CAST($1 AS text))`;
const USER_COLUMNS = '"id", "password", "tokenKey", "email", "emailVisibility", "verified", "name", "avatar", "created", "updated"';
const USER_BY_EMAIL = `SELECT ${USER_COLUMNS} FROM "users" WHERE "email" = CAST($1 AS text) LIMIT 1`;
const USER_BY_ID = `SELECT ${USER_COLUMNS} FROM "users" WHERE "id" = CAST($1 AS text) LIMIT 1`;
const INSERT = `insert into "posts" ("id", "title", "rank", "status", "author", "created", "updated") values ($1, $2, $3, $4, $5, $6, $7)`;

function openStore(url: string): FloorStore {
  // COUNT(*) is int8, which pg returns as a string: parse it as Basalt does.
  const types = {
    getTypeParser(oid: number, format?: 'text' | 'binary') {
      if (oid === 20) return (value: string) => Number(value);
      return pg.types.getTypeParser(oid, format as any);
    },
  };
  const pool = new pg.Pool({ connectionString: url, max: 10, types });
  pool.on('error', () => {});

  let auth: AuthConfig | null = null;
  return {
    async userByEmail(email) {
      return (await pool.query<UserRow>(USER_BY_EMAIL, [email])).rows[0];
    },
    async userById(id) {
      return (await pool.query<UserRow>(USER_BY_ID, [id])).rows[0];
    },
    async authConfig() {
      if (!auth) {
        const { rows } = await pool.query<{ id: string; options: unknown }>(`SELECT "id", "options" FROM "_collections" WHERE "name" = 'users'`);
        const options = (typeof rows[0].options === 'string' ? JSON.parse(rows[0].options) : rows[0].options) as { authToken: { secret: string; duration: number } };
        auth = { collectionId: rows[0].id, secret: options.authToken.secret, duration: options.authToken.duration };
      }
      return auth;
    },
    async view(id) {
      return (await pool.query<PostRow>(VIEW, [id])).rows[0];
    },
    async list(limit, offset, withTotal) {
      const [page, count] = await Promise.all([
        pool.query<PostRow>(PAGE, ['public', limit, offset]),
        withTotal ? pool.query<{ n: number }>(COUNT, ['public']) : null,
      ]);
      return { rows: page.rows, total: count ? count.rows[0].n : -1 };
    },
    async create(r) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        if (r.author !== '' && (await client.query(AUTHOR, [r.author])).rows.length === 0) {
          await client.query('ROLLBACK');
          return false;
        }
        await client.query(INSERT, [r.id, r.title, r.rank, r.status, r.author, r.created, r.updated]);
        await client.query('COMMIT');
        return true;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    close() {
      return pool.end();
    },
  };
}

serveFloor('floor-postgres', openStore(process.env.FLOOR_DB ?? ''));
