/**
 * `POST /api/sql`, the SQL console (PocketBase 0.39's apis/sql.go shape): superusers only; a
 * table of hostile bodies, each a 400 in the standard shape; read-only by default (every kind of
 * write refused and nothing changed); with `sqlConsole.allowWrites` writes work, but never on a
 * collection's or Basalt's own table definitions; the row cap; the query deadline over a real
 * socket while `/api/health` keeps answering; what the log line keeps and leaves out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthRecord, createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { ENGINE } from '../harness/engines.js';
import { runScenarios, send, type Scenario } from '../harness/scenario.js';
import { listenOnLoopback, startTestApp, type TestApp } from '../harness/test-app.js';
import type { Logger } from '../../src/core/ports.js';

const DEADLINE = 400;
const pg = ENGINE === 'postgres';
/** Counts to 20 million: seconds on either engine, far past the deadline. */
const SLOW = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000000) SELECT count(*) FROM c';

let t: TestApp;
const tok: Record<string, string> = {};
let superuserId = '';
const logs: { level: string; obj: Record<string, unknown>; msg?: string }[] = [];
const capture = (level: string) => (obj: object, msg?: string) => void logs.push({ level, obj: obj as Record<string, unknown>, msg });
const logger: Logger = { debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error') };

const sqlAs = (auth: string, query: unknown) => send(t, 'POST', '/api/sql', { auth, body: { query } });
const sql = (query: unknown) => sqlAs(tok.su, query);
const count = async (table: string) => Number((await sql(`SELECT count(*) AS n FROM ${table}`)).body.rows[0][0]);
const tableExists = async (name: string) =>
  (await sql(pg ? `SELECT count(*) FROM information_schema.tables WHERE table_name = '${name}'` : `SELECT count(*) FROM sqlite_schema WHERE name = '${name}'`)).body.rows[0][0] === '1';
const allowWrites = async (on: boolean) => {
  const res = await send(t, 'PATCH', '/api/settings', { auth: tok.su, body: { sqlConsole: { allowWrites: on } } });
  expect(res.status, res.raw).toBe(200);
  expect(res.body.sqlConsole).toEqual({ allowWrites: on });
};

beforeAll(async () => {
  t = await startTestApp({ config: { queryTimeoutMs: DEADLINE }, deps: { logger } });
  const su = await createSuperuser(t);
  tok.su = su.token;
  superuserId = su.id;
  tok.user = (await createAuthRecord(t, 'users', { email: 'alice@example.com' })).token;
  await createCollection(t, { name: 'notes', type: 'base', fields: [{ name: 'title', type: 'text' }, { name: 'n', type: 'number' }] });
  for (let i = 1; i <= 3; i++) await createRecord(t, 'notes', { title: `note ${i}`, n: i });
  const key = await send(t, 'POST', '/api/keys', { auth: tok.su, body: { name: 'ops', scopes: [{ collection: '*', actions: ['list', 'view', 'create', 'update', 'delete'] }] } });
  expect(key.status, key.raw).toBe(200);
  tok.key = key.body.key;
}, 60_000);

afterAll(async () => {
  await t?.close();
});

describe('who may use it, and PocketBase shape', () => {
  const scenarios: Scenario[] = [
    { name: 'guest', method: 'POST', url: '/api/sql', body: { query: 'select 1' }, status: 401 },
    { name: 'regular user', method: 'POST', url: '/api/sql', auth: () => tok.user, body: { query: 'select 1' }, status: 403 },
    { name: 'API key with every record scope', method: 'POST', url: '/api/sql', headers: {}, auth: () => tok.key, body: { query: 'select 1' }, status: 403 },
    {
      name: 'superuser: select 1',
      method: 'POST',
      url: '/api/sql',
      auth: () => tok.su,
      body: { query: 'select 1' },
      status: 200,
      check: (body) => {
        expect(Object.keys(body).sort()).toEqual(['affectedRows', 'columns', 'execTime', 'rows']);
        expect(typeof body.execTime).toBe('number');
        expect(body.affectedRows).toBe(0);
        // PocketBase (SQLite): the expression's name, no declared type; PostgreSQL names and types it.
        expect(body.columns).toEqual(pg ? [{ name: '?column?', type: 'INT4', nullable: true }] : [{ name: '1', type: '', nullable: true }]);
        expect(body.rows).toEqual([['1']]);
      },
    },
  ];
  runScenarios(() => t, scenarios);
});

describe('hostile bodies: 400 in the standard shape', () => {
  const long = `select '${'a'.repeat(4985)}' as id`;
  const cases: [string, unknown, ((body: any) => void)?][] = [
    ['empty query', { query: '' }, (b) => expect(b.data.query.code).toBe('validation_required')],
    ['blank query', { query: '  \n ' }, (b) => expect(b.data.query.code).toBe('validation_required')],
    ['no query', {}, (b) => expect(b.data.query.code).toBe('validation_required')],
    ['query is a number', { query: 1 }, (b) => expect(b.data.query.code).toBe('validation_invalid_type')],
    ['query is an array', { query: ['select 1'] }, (b) => expect(b.data.query.code).toBe('validation_invalid_type')],
    ['query is an object', { query: { text: 'select 1' } }, (b) => expect(b.data.query.code).toBe('validation_invalid_type')],
    ['5001 characters', { query: `select '${'a'.repeat(4992)}'` }, (b) => expect(b.data.query.code).toBe('validation_length_out_of_range')],
    ['a huge query', { query: 'x'.repeat(1 << 20) }, (b) => expect(b.data.query.code).toBe('validation_length_out_of_range')],
    ['two statements', { query: 'select 1; select 2' }],
    ['a statement hidden after a comment', { query: 'select 1 -- x\n; delete from notes' }],
    ['an unterminated string', { query: "select 'abc" }],
    ['invalid SQL', { query: 'invalid' }, (b) => expect(b.message).toContain('Raw error:')],
    ['an unknown table', { query: 'select * from nope' }, (b) => expect(b.message).toContain('Raw error:')],
    ['BEGIN', { query: 'BEGIN' }],
    ['COMMIT', { query: 'COMMIT' }],
    ['SAVEPOINT', { query: 'SAVEPOINT a' }],
  ];
  for (const [name, body, check] of cases) {
    it(`${name} → 400`, async () => {
      const res = await send(t, 'POST', '/api/sql', { auth: tok.su, body });
      expect(res.status, res.raw.slice(0, 300)).toBe(400);
      expect(Object.keys(res.body).sort()).toEqual(['data', 'message', 'status']);
      check?.(res.body);
    });
  }
  it('a body that is not an object, or not JSON → 400', async () => {
    for (const payload of ['"select 1"', '[]', 'null', '{"query":']) {
      const res = await send(t, 'POST', '/api/sql', { auth: tok.su, body: payload, headers: { 'content-type': 'application/json' } });
      expect(res.status, `${payload}: ${res.raw}`).toBe(400);
    }
  });
  it('exactly 5000 characters is accepted', async () => {
    expect(long.length).toBe(5000);
    const res = await sql(long);
    expect(res.status, res.raw.slice(0, 300)).toBe(200);
    expect(res.body.columns[0].name).toBe('id');
    expect(res.body.rows[0][0]).toBe('a'.repeat(4985));
  });
});

describe('reads', () => {
  it('a SELECT answers the columns, their types and every value as text', async () => {
    const res = await sql('SELECT id, title, n FROM notes ORDER BY n');
    expect(res.status, res.raw).toBe(200);
    expect(res.body.columns.map((c: any) => c.name)).toEqual(['id', 'title', 'n']);
    expect(res.body.columns[1].type).toBe('TEXT');
    if (pg) expect(res.body.columns[0].nullable).toBe(false); // the primary key
    expect(res.body.rows.map((r: any[]) => r.slice(1))).toEqual([
      ['note 1', '1'],
      ['note 2', '2'],
      ['note 3', '3'],
    ]);
    expect(res.body.affectedRows).toBe(0);
  });

  it('large integers keep every digit, NULL stays null, binary values are text', async () => {
    const res = await sql(pg ? "SELECT 9007199254740993 AS big, NULL AS nul, '\\x414243'::bytea AS blob, 1.5 AS half" : "SELECT 9007199254740993 AS big, NULL AS nul, x'414243' AS blob, 1.5 AS half");
    expect(res.status, res.raw).toBe(200);
    expect(res.body.rows).toEqual([['9007199254740993', null, pg ? '\\x414243' : 'ABC', '1.5']]);
  });

  it('binary values that are not UTF-8 cannot break the JSON', async () => {
    const res = await sql(pg ? "SELECT '\\xfffe00'::bytea AS b" : "SELECT x'fffe00' AS b");
    expect(res.status, res.raw).toBe(200);
    expect(typeof res.body.rows[0][0]).toBe('string');
  });

  it('the answer stops at 1,000 rows', async () => {
    const res = await sql('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000) SELECT x, x * 2 AS y FROM c');
    expect(res.status, res.raw.slice(0, 300)).toBe(200);
    expect(res.body.rows).toHaveLength(1000);
    expect(res.body.rows[999]).toEqual(['1000', '2000']);
  });

  it('a superuser may read password hashes (their database); the log line never carries what was read', async () => {
    logs.length = 0;
    const res = await sql('SELECT email, password FROM _superusers');
    expect(res.status, res.raw).toBe(200);
    const hash = res.body.rows[0][1];
    expect(hash).toMatch(/^\$2[aby]\$/);
    expect(JSON.stringify(logs)).not.toContain(hash);
  });

  it('every use is logged at info level with the superuser and the query, string literals masked', async () => {
    logs.length = 0;
    await sql("SELECT count(*) FROM _superusers WHERE password = 'hunter2-secret'");
    const line = logs.find((l) => l.msg === 'sql console');
    expect(line?.level).toBe('info');
    expect(line?.obj.superuserId).toBe(superuserId);
    expect(line?.obj.query).toBe("SELECT count(*) FROM _superusers WHERE password = '…'");
    expect(JSON.stringify(logs)).not.toContain('hunter2');
  });

  it('a long query is logged cut short', async () => {
    logs.length = 0;
    await sql(`SELECT 1 AS ${'x'.repeat(3000)}`);
    const line = logs.find((l) => l.msg === 'sql console');
    expect(String(line?.obj.query).length).toBeLessThanOrEqual(501);
  });
});

describe('read-only by default', () => {
  const writes = pg
    ? [
        "INSERT INTO notes (id, title) VALUES ('sqlconsole00001', 'x')",
        'UPDATE notes SET n = 100',
        'DELETE FROM notes',
        'CREATE TABLE scratch (x int)',
        'DROP TABLE notes',
        'TRUNCATE notes',
        "SELECT nextval('nope')",
        "WITH d AS (DELETE FROM notes RETURNING id) SELECT count(*) FROM d",
      ]
    : [
        "INSERT INTO notes (id, title) VALUES ('sqlconsole00001', 'x')",
        'UPDATE notes SET n = 100',
        'DELETE FROM notes',
        'CREATE TABLE scratch (x int)',
        'DROP TABLE notes',
        "INSERT INTO notes (id, title) VALUES ('sqlconsole00002', 'x') RETURNING id",
        'PRAGMA user_version = 5',
        'PRAGMA foreign_keys = ON',
        'PRAGMA case_sensitive_like(1)',
        "ATTACH DATABASE 'other.db' AS other",
        'DETACH DATABASE main',
        'VACUUM',
        'REINDEX',
        "SELECT load_extension('/tmp/nope')",
      ];
  for (const query of writes) {
    it(`refuses: ${query}`, async () => {
      const res = await sql(query);
      expect(res.status, res.raw).toBe(400);
      expect(Object.keys(res.body).sort()).toEqual(['data', 'message', 'status']);
    });
  }
  it('and nothing changed', async () => {
    expect(await count('notes')).toBe(3);
    expect(Number((await sql('SELECT max(n) FROM notes')).body.rows[0][0])).toBe(3);
    expect(await tableExists('scratch')).toBe(false);
    if (!pg) expect((await sql('PRAGMA user_version')).body.rows).toEqual([['0']]);
    // The records API still reads the collection (no connection was left changed).
    const list = await send(t, 'GET', "/api/collections/notes/records?filter=title~'NOTE'", { auth: tok.su });
    expect(list.body.totalItems).toBe(3);
  });
  it('describing pragmas still work (SQLite)', async () => {
    if (pg) return;
    const res = await sql('PRAGMA table_info(notes)');
    expect(res.status, res.raw).toBe(200);
    expect(res.body.rows.map((r: string[]) => r[1])).toContain('title');
  });
});

describe('with sqlConsole.allowWrites', () => {
  beforeAll(async () => allowWrites(true));
  afterAll(async () => allowWrites(false));

  it('the setting is refused with the wrong type', async () => {
    const res = await send(t, 'PATCH', '/api/settings', { auth: tok.su, body: { sqlConsole: { allowWrites: 'yes' } } });
    expect(res.status).toBe(400);
    expect(res.body.data.sqlConsole.allowWrites.code).toBe('validation_invalid_type');
  });

  it('an INSERT into a collection table works and counts its rows; the records API sees it', async () => {
    const res = await sql("INSERT INTO notes (id, title, n) VALUES ('sqlconsole00001', 'from sql', 10)");
    expect(res.status, res.raw).toBe(200);
    expect(res.body).toMatchObject({ affectedRows: 1, columns: [], rows: [] });
    const view = await send(t, 'GET', '/api/collections/notes/records/sqlconsole00001', { auth: tok.su });
    expect(view.status, view.raw).toBe(200);
    expect(view.body.title).toBe('from sql');
  });

  it('an UPDATE answers the rows it changed', async () => {
    const res = await sql('UPDATE notes SET n = n + 1');
    expect(res.status, res.raw).toBe(200);
    expect(res.body.affectedRows).toBe(4);
  });

  it('a table of its own can be created, written and dropped', async () => {
    expect((await sql('CREATE TABLE scratch (x int)')).status).toBe(200);
    expect((await sql('INSERT INTO scratch (x) VALUES (1), (2)')).body.affectedRows).toBe(2);
    expect(await count('scratch')).toBe(2);
    expect((await sql('DROP TABLE scratch')).status).toBe(200);
    expect(await tableExists('scratch')).toBe(false);
  });

  const ddl = [
    'DROP TABLE notes',
    'ALTER TABLE notes ADD COLUMN extra text',
    'ALTER TABLE notes RENAME TO notes2',
    'CREATE INDEX sqlconsole_idx ON notes (title)',
    'ALTER TABLE _superusers ADD COLUMN extra text',
    'DROP TABLE _params',
    'CREATE TABLE _mine (x int)',
    // (On SQLite a trigger's body has inner `;`s: one-statement-only refuses every CREATE TRIGGER.)
    pg ? 'CREATE RULE sqlconsole_rule AS ON INSERT TO notes DO INSTEAD NOTHING' : 'CREATE UNIQUE INDEX sqlconsole_uidx ON notes (id)',
  ];
  for (const query of ddl) {
    it(`refuses a change to a collection's or Basalt's table: ${query}`, async () => {
      const res = await sql(query);
      expect(res.status, res.raw).toBe(400);
      expect(res.body.message).toContain('collections API');
    });
  }
  it('and those tables are unchanged', async () => {
    expect(await tableExists('notes')).toBe(true);
    expect(await tableExists('notes2')).toBe(false);
    expect(await tableExists('_mine')).toBe(false);
    const created = await send(t, 'POST', '/api/collections/notes/records', { auth: tok.su, body: { title: 'after' } });
    expect(created.status, created.raw).toBe(200);
    expect(await count('notes')).toBe(5);
  });

  it('still one statement at a time', async () => {
    const res = await sql("DELETE FROM notes; INSERT INTO notes (id, title) VALUES ('sqlconsole00009', 'x')");
    expect(res.status).toBe(400);
    expect(await count('notes')).toBe(5);
  });
});

describe('the query deadline', () => {
  it('a slow query answers 503 at about the deadline while /api/health keeps answering', async () => {
    const base = await listenOnLoopback(t);
    const started = performance.now();
    let finished = false;
    const slow = fetch(`${base}/api/sql`, { method: 'POST', headers: { authorization: tok.su, 'content-type': 'application/json' }, body: JSON.stringify({ query: SLOW }) }).then(async (res) => {
      finished = true;
      return { status: res.status, body: await res.json(), ms: performance.now() - started };
    });
    let slowestHealth = 0;
    const statuses: number[] = [];
    while (!finished) {
      const t0 = performance.now();
      const h = await fetch(`${base}/api/health`);
      statuses.push(h.status);
      await h.arrayBuffer();
      slowestHealth = Math.max(slowestHealth, performance.now() - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
    const res = await slow;
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 503, message: `The query took longer than ${DEADLINE} ms and was cancelled. Simplify the filter, sort or expand, or add an index.`, data: {} });
    expect(res.ms).toBeLessThan(DEADLINE + 1500);
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(slowestHealth).toBeLessThan(DEADLINE);
    // And the console keeps working afterwards.
    expect((await sql('select 2 as two')).body.rows).toEqual([['2']]);
  }, 20_000);

  it('a slow write is cut at the deadline too, and leaves nothing behind', async () => {
    await allowWrites(true);
    try {
      const started = performance.now();
      const res = await sql(`INSERT INTO notes (id, title) ${SLOW.replace('SELECT count(*) FROM c', "SELECT 'sqlconsole_slow1', 'slow' FROM c WHERE x = 19999999")}`);
      expect(res.status, res.raw).toBe(503);
      expect(performance.now() - started).toBeLessThan(DEADLINE + 1500);
      // The records API can write again (the writer's lock came back).
      const created = await send(t, 'POST', '/api/collections/notes/records', { auth: tok.su, body: { title: 'after slow' } });
      expect(created.status, created.raw).toBe(200);
      expect((await sql("SELECT count(*) FROM notes WHERE id = 'sqlconsole_slow1'")).body.rows).toEqual([['0']]);
    } finally {
      await allowWrites(false);
    }
  }, 30_000);
});
