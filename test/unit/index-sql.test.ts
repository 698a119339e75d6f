import Database from 'better-sqlite3';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  formatIndex,
  indexColumnNames,
  INDEX_MAX_WHERE_DEPTH,
  IndexSyntaxError,
  parseIndex,
} from '../../src/core/collections/index-definition.js';
import type { IndexDefinition } from '../../src/core/collections/index-definition.js';
import { postgresCreateIndexSql, postgresDropIndexSql } from '../../src/db/postgres/index-sql.js';
import { sqliteCreateIndexSql, sqliteDropIndexSql } from '../../src/db/sqlite/index-sql.js';

const q = (name: string): string => `"${name}"`;

/** The little each engine needs to run these tests. */
interface Engine {
  name: string;
  /** Column types for: text, number, boolean. */
  types: { text: string; number: string; bool: string };
  exec(sql: string): Promise<void>;
  insert(table: string, row: Record<string, unknown>): Promise<void>;
  indexNames(table: string): Promise<string[]>;
  createIndexSql(def: IndexDefinition): string;
  dropIndexSql(name: string): string;
}

function sqliteEngine(): Engine {
  const db = new Database(':memory:');
  return {
    name: 'sqlite',
    types: { text: 'TEXT', number: 'REAL', bool: 'BOOLEAN' },
    exec: async (sql) => void db.exec(sql),
    insert: async (table, row) => {
      const keys = Object.keys(row);
      // better-sqlite3 binds no booleans; the record layer stores them as 0/1.
      const values = Object.values(row).map((v) => (typeof v === 'boolean' ? Number(v) : v));
      db.prepare(`INSERT INTO ${q(table)} (${keys.map(q).join(', ')}) VALUES (${keys.map(() => '?').join(', ')})`).run(
        ...values,
      );
    },
    indexNames: async (table) =>
      (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?`).all(table) as Array<{
        name: string;
      }>).map((r) => r.name),
    createIndexSql: sqliteCreateIndexSql,
    dropIndexSql: sqliteDropIndexSql,
  };
}

const PG_URL = process.env.BASALT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PG_SCHEMA = `basalt_index_sql_${process.pid}_${Date.now()}`;
let pgClient: pg.Client;

function postgresEngine(): Engine {
  return {
    name: 'postgres',
    types: { text: 'text', number: 'double precision', bool: 'boolean' },
    exec: async (sql) => void (await pgClient.query(sql)),
    insert: async (table, row) => {
      const keys = Object.keys(row);
      await pgClient.query(
        `INSERT INTO ${q(table)} (${keys.map(q).join(', ')}) VALUES (${keys.map((_, i) => `$${i + 1}`).join(', ')})`,
        Object.values(row),
      );
    },
    indexNames: async (table) =>
      (
        await pgClient.query<{ indexname: string }>(
          'SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2',
          [PG_SCHEMA, table],
        )
      ).rows.map((r) => r.indexname),
    createIndexSql: postgresCreateIndexSql,
    dropIndexSql: postgresDropIndexSql,
  };
}

beforeAll(async () => {
  pgClient = new pg.Client({ connectionString: PG_URL });
  await pgClient.connect();
  await pgClient.query(`CREATE SCHEMA ${q(PG_SCHEMA)}`);
  await pgClient.query(`SET search_path TO ${q(PG_SCHEMA)}`);
});

afterAll(async () => {
  await pgClient?.query(`DROP SCHEMA IF EXISTS ${q(PG_SCHEMA)} CASCADE`);
  await pgClient?.end();
});

describe('rendered DDL', () => {
  const def = parseIndex(
    "CREATE UNIQUE INDEX idx ON users (email COLLATE NOCASE, created DESC, name COLLATE RTRIM) " +
      "WHERE email <> '' AND (active == TRUE OR NOT verified) AND n > -1.5 AND x IS NOT NULL AND s = 'it''s\\'",
  );

  it('renders SQLite DDL from the definition', () => {
    expect(sqliteCreateIndexSql(def)).toBe(
      'CREATE UNIQUE INDEX "idx" ON "users" ("email" COLLATE NOCASE, "created" DESC, "name" COLLATE RTRIM) ' +
        `WHERE "email" != '' AND ("active" = 1 OR NOT "verified") AND "n" > -1.5 AND "x" IS NOT NULL AND "s" = 'it''s\\'`,
    );
    expect(sqliteDropIndexSql('idx')).toBe('DROP INDEX IF EXISTS "idx"');
  });

  it('renders PostgreSQL DDL from the definition', () => {
    expect(postgresCreateIndexSql(def)).toBe(
      'CREATE UNIQUE INDEX "idx" ON "users" ((lower("email")), "created" DESC, "name") ' +
        `WHERE "email" <> '' AND ("active" = TRUE OR NOT "verified") AND "n" > -1.5 AND "x" IS NOT NULL AND "s" = E'it''s\\\\'`,
    );
    expect(postgresDropIndexSql('idx')).toBe('DROP INDEX IF EXISTS "idx"');
  });

  it('refuses hand-built definitions and names outside the grammar', () => {
    const bad = { name: 'i', unique: false, table: 't', columns: [{ name: 'a") ; DROP TABLE t; --' }] };
    expect(() => sqliteCreateIndexSql(bad)).toThrow(IndexSyntaxError);
    expect(() => postgresCreateIndexSql(bad)).toThrow(IndexSyntaxError);
    expect(() => sqliteDropIndexSql('x"; DROP TABLE t')).toThrow(IndexSyntaxError);
    expect(() => postgresDropIndexSql('x"; DROP TABLE t')).toThrow(IndexSyntaxError);
  });
});

describe.each([['sqlite', sqliteEngine], ['postgres', postgresEngine]] as const)('indexes on %s', (_name, make) => {
  let engine: Engine;
  let tableCount = 0;

  beforeAll(() => {
    engine = make();
  });

  /** A fresh table per test, so indexes and rows never interfere. */
  async function freshTable(): Promise<string> {
    const table = `t${++tableCount}`;
    const { text, number, bool } = engine.types;
    await engine.exec(
      `CREATE TABLE ${q(table)} ("id" ${text} PRIMARY KEY, "email" ${text} NOT NULL DEFAULT '', ` +
        `"name" ${text}, "score" ${number}, "active" ${bool}, "created" ${text})`,
    );
    return table;
  }

  async function createIndex(sql: string): Promise<IndexDefinition> {
    const def = parseIndex(sql);
    await engine.exec(engine.createIndexSql(def));
    return def;
  }

  let ids = 0;
  const insert = (table: string, row: Record<string, unknown>) => engine.insert(table, { id: `r${++ids}`, ...row });

  it('makes a UNIQUE NOCASE index case-insensitive', async () => {
    const t = await freshTable();
    await createIndex(`CREATE UNIQUE INDEX \`idx_email_${t}\` ON \`${t}\` (\`email\` COLLATE NOCASE)`);
    await insert(t, { email: 'a@x.io' });
    await expect(insert(t, { email: 'A@x.io' })).rejects.toThrow(/unique/i);
    await insert(t, { email: 'b@x.io' });
  });

  it("lets a partial UNIQUE index WHERE email != '' accept many empty values", async () => {
    const t = await freshTable();
    await createIndex(`CREATE UNIQUE INDEX idx_email_${t} ON ${t} (email) WHERE email != ''`);
    for (let i = 0; i < 3; i++) await insert(t, { email: '' });
    await insert(t, { email: 'a@x.io' });
    await expect(insert(t, { email: 'a@x.io' })).rejects.toThrow(/unique/i);
  });

  it('creates DESC, multi-column and IF NOT EXISTS indexes, and drops them', async () => {
    const t = await freshTable();
    await createIndex(`CREATE INDEX IF NOT EXISTS [idx_a_${t}] ON [${t}] ("created" DESC, name ASC, score);`);
    await createIndex(`create index idx_b_${t} on ${t} (name collate binary, created collate rtrim desc)`);
    expect((await engine.indexNames(t)).sort()).toEqual(expect.arrayContaining([`idx_a_${t}`, `idx_b_${t}`]));
    await engine.exec(engine.dropIndexSql(`idx_a_${t}`));
    await engine.exec(engine.dropIndexSql(`idx_a_${t}`));
    expect(await engine.indexNames(t)).not.toContain(`idx_a_${t}`);
  });

  it('applies WHERE clauses with booleans, numbers, NULL tests and NOT', async () => {
    const t = await freshTable();
    await createIndex(
      `CREATE UNIQUE INDEX idx_w_${t} ON ${t} (name) WHERE (active = TRUE OR NOT active) AND score >= -1.5 AND created IS NOT NULL`,
    );
    await insert(t, { name: 'n', active: true, score: 0, created: 'x' });
    await expect(insert(t, { name: 'n', active: false, score: 2, created: 'y' })).rejects.toThrow(/unique/i);
    await insert(t, { name: 'n', active: true, score: -2, created: 'x' });
    await insert(t, { name: 'n', active: true, score: 0, created: null });
  });

  it('matches string literals exactly, quotes and backslashes included', async () => {
    const t = await freshTable();
    const odd = "it's a \\ back\\slash";
    const literal = `'${odd.replace(/'/g, "''")}'`;
    await createIndex(`CREATE UNIQUE INDEX idx_s_${t} ON ${t} (email) WHERE name = ${literal}`);
    await insert(t, { email: 'a', name: odd });
    await expect(insert(t, { email: 'a', name: odd })).rejects.toThrow(/unique/i);
    await insert(t, { email: 'a', name: "it's a \\\\ back\\slash" });
    if (engine.name === 'postgres') {
      // The E'…' form must mean the same with the legacy escaping setting.
      await engine.exec('SET standard_conforming_strings = off');
      try {
        await createIndex(`CREATE UNIQUE INDEX idx_s2_${t} ON ${t} (email) WHERE name = ${literal}`);
      } finally {
        await engine.exec('SET standard_conforming_strings = on');
      }
      const { rows } = await pgClient.query<{ def: string }>('SELECT pg_get_indexdef($1::regclass) AS def', [
        `idx_s2_${t}`,
      ]);
      expect(rows[0].def).toContain(String.raw`'it''s a \ back\slash'`);
    }
  });

  it('executes a WHERE clause nested as deep as the parser allows', async () => {
    const t = await freshTable();
    let expr = 'active';
    for (let level = 0; level < INDEX_MAX_WHERE_DEPTH; level++) {
      expr = level % 3 === 0 ? `NOT (${expr})` : `score > ${level} ${level % 3 === 1 ? 'AND' : 'OR'} (${expr})`;
    }
    const def = await createIndex(`CREATE INDEX idx_deep_${t} ON ${t} (name) WHERE ${expr}`);
    expect(() => parseIndex(`CREATE INDEX i ON t (name) WHERE NOT (${expr})`)).toThrow(/nested more than/);
    expect(await engine.indexNames(t)).toContain(def.name);
  });

  it('executes the canonical form of PocketBase system indexes', async () => {
    const t = await freshTable();
    for (const sql of [
      `CREATE UNIQUE INDEX \`idx_tokenKey_${t}\` ON \`${t}\` (\`id\`)`,
      `CREATE UNIQUE INDEX \`idx_email_${t}\` ON \`${t}\` (\`email\`) WHERE \`email\` != ''`,
    ]) {
      await engine.exec(engine.createIndexSql(parseIndex(formatIndex(parseIndex(sql)))));
    }
    expect(await engine.indexNames(t)).toEqual(expect.arrayContaining([`idx_tokenKey_${t}`, `idx_email_${t}`]));
  });
});

// ---------------------------------------------------------------------------------------------
// Property: any string is either an IndexSyntaxError or an index that SQLite accepts.

/** Mostly valid choices, with a few wrong ones mixed in, so both outcomes are common. */
const mostly = <T>(valid: T[], invalid: T[]) =>
  fc.oneof({ arbitrary: fc.constantFrom(...valid), weight: 12 }, { arbitrary: fc.constantFrom(...invalid), weight: 1 });
const ident = fc
  .tuple(
    mostly(['a', 'b', 'Email', 'email', '_x9', 'if', 'select', 'null', 'T'], ['a b', '1a', 'naïve', 'sqlite_x', 'x-y', '']),
    fc.constantFrom('', '`', '"', '['),
  )
  .map(([name, quote]) => (quote === '' ? name : quote === '[' ? `[${name}]` : `${quote}${name}${quote}`));
const keyword = (word: string) => fc.constantFrom(word, word.toLowerCase());
const operand = fc.oneof(
  { arbitrary: ident, weight: 2 },
  mostly(["''", "'x'", "'it''s'", "'a\\b'", '1', '-2.5', '1e3', '.5', '1.', 'NULL', 'TRUE', 'false'], ["'open", '0x1', '- 1']),
);
const { where } = fc.letrec<{ where: string }>((tie) => ({
  where: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc
      .tuple(operand, mostly(['=', '==', '!=', '<>', '<', '<=', '>', '>='], ['LIKE', '+', '!', '===']), operand)
      .map(([l, op, r]) => `${l} ${op} ${r}`),
    fc.tuple(operand, mostly(['IS NULL', 'is not null'], ['IS 1', 'ISNULL'])).map(([o, t]) => `${o} ${t}`),
    operand,
    fc.tuple(tie('where'), mostly(['AND', 'or'], ['', '&&']), tie('where')).map(([l, op, r]) => `${l} ${op} ${r}`),
    tie('where').map((w) => `NOT ${w}`),
    tie('where').map((w) => `(${w})`),
  ),
}));
const column = fc
  .tuple(ident, fc.option(mostly(['NOCASE', 'binary', 'RTRIM'], ['unicode'])), fc.option(keyword('DESC')))
  .map(([name, collate, order]) => `${name}${collate ? ` COLLATE ${collate}` : ''}${order ? ` ${order}` : ''}`);
const indexSql = fc
  .tuple(
    fc.boolean(),
    fc.boolean(),
    ident.map((name) => name.replace(/([A-Za-z_]\w*)/, 'idx_$1')),
    ident,
    fc.array(column, { minLength: 1, maxLength: 3 }),
    fc.option(where),
    fc.boolean(),
  )
  .map(
    ([unique, ifNotExists, name, table, columns, w, semi]) =>
      `CREATE ${unique ? 'UNIQUE ' : ''}INDEX ${ifNotExists ? 'IF NOT EXISTS ' : ''}${name} ON ${table} ` +
      `(${columns.join(', ')})${w === null ? '' : ` WHERE ${w}`}${semi ? ';' : ''}`,
  );
const JUNK = [';', '--', '/*', ')', '(', "'", '`', '"', ' DROP TABLE x', '\u0000', 'lower(', ',', '.', '$', '\n', ' '];
const mutated = fc
  .tuple(indexSql, fc.nat(), fc.constantFrom(...JUNK))
  .map(([sql, at, junk]) => sql.slice(0, at % (sql.length + 1)) + junk + sql.slice(at % (sql.length + 1)));
const anyIndexString = fc.oneof(
  { arbitrary: indexSql, weight: 6 },
  { arbitrary: mutated, weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 60 }), weight: 1 },
);

function tryParse(sql: string): IndexDefinition | undefined {
  try {
    return parseIndex(sql);
  } catch (error) {
    if (error instanceof IndexSyntaxError) return undefined;
    throw error;
  }
}

describe('property', () => {
  it('generates a useful share of valid indexes', () => {
    const parsed = fc.sample(anyIndexString, { numRuns: 1000, seed: 42 }).filter((s) => tryParse(s));
    expect(parsed.length).toBeGreaterThan(100);
  });

  it('any string is an IndexSyntaxError or an index SQLite executes', () => {
    fc.assert(
      fc.property(anyIndexString, (sql) => {
        const def = tryParse(sql);
        if (!def) return;
        expect(parseIndex(formatIndex(def))).toStrictEqual(def);
        const db = new Database(':memory:');
        try {
          db.exec(`CREATE TABLE ${q(def.table)} (${indexColumnNames(def).map(q).join(', ')})`);
          db.exec(sqliteCreateIndexSql(def));
        } finally {
          db.close();
        }
      }),
      { numRuns: 2000 },
    );
  });
});
