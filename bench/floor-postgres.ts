/**
 * The PostgreSQL floor: Basalt's own SQL for these requests (as a guest) through a `pg` Pool of
 * the size Basalt uses (10), the create in a BEGIN/COMMIT on one pooled client.
 *
 * Run by run.ts: FLOOR_DB=postgres://… FLOOR_PORT=… FLOOR_COLLECTION_ID=… node --import tsx bench/floor-postgres.ts
 */
import pg from 'pg';
import { serveFloor, type FloorStore, type PostRow } from './floor-server.js';

const COLUMNS = '"__r"."id", "__r"."title", "__r"."rank", "__r"."status", "__r"."author", "__r"."created", "__r"."updated"';
const LIST_RULE = `(("__r"."status" = CAST($1 AS text)) OR ("__r"."author" = '' OR "__r"."author" IS NULL))`;
const VIEW = `SELECT ${COLUMNS} FROM "posts" AS "__r" WHERE "__r"."id" = CAST($1 AS text) LIMIT 1`;
const PAGE = `SELECT ${COLUMNS} FROM "posts" AS "__r" WHERE ${LIST_RULE} ORDER BY "__r"."rank" DESC, "__r"."__rowid" LIMIT $2 OFFSET $3`;
const COUNT = `SELECT COUNT(*) AS "n" FROM "posts" AS "__r" WHERE ${LIST_RULE}`;
const AUTHOR = `SELECT "id" FROM "users" WHERE "id" IN (CAST($1 AS text))`;
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

  return {
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
