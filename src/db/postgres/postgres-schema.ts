import { sql } from 'kysely';
import type { ColumnKind } from '../../core/collections/fields/field-type.js';
import type { IndexDefinition } from '../../core/collections/index-definition.js';
import type { ColumnDefinition, QueryColumn } from '../../core/ports.js';
import { AnsiSchemaManager } from '../ansi-schema-manager.js';
import { randomString } from '../../core/ids.js';
import { defaultLiteral, quoteIdent, quoteString } from '../column-kinds.js';
import { DATA_VERSIONS_TABLE } from '../../core/internal-tables.js';
import { asciiLowerText } from './postgres-filter-dialect.js';
import { assertSingleSelect, calledFunctions, StatementError } from '../single-statement.js';
import { postgresCreateIndexSql, postgresDropIndexSql } from './index-sql.js';
import { EXTENDED_PROTOCOL } from './extended-protocol.js';

/**
 * Multi-valued and JSON fields are TEXT holding JSON, exactly as on SQLite, so raw comparisons
 * and LIKE on them behave the same on both engines; JSON operators cast to jsonb on demand.
 */
// Text compares and sorts by bytes, like SQLite's BINARY collation, whatever the database locale.
const TYPE_OF_KIND: Record<ColumnKind, string> = { text: 'TEXT COLLATE "C"', number: 'DOUBLE PRECISION', bool: 'BOOLEAN', json: 'TEXT COLLATE "C"' };

/** Volatile functions that only read (randomness and clocks): allowed in view queries. */
const HARMLESS_VOLATILE = new Set(['random', 'clock_timestamp', 'timeofday', 'gen_random_uuid', 'random_normal']);

/** Insertion order, the `@rowid` sort key and the default list order (SQLite has rowid). */
export const ROWID_COLUMN = '__rowid';

export function postgresColumnSql(col: ColumnDefinition): string {
  if (col.primaryKey) return `${quoteIdent(col.name)} TEXT COLLATE "C" PRIMARY KEY NOT NULL`;
  const parts = [quoteIdent(col.name), TYPE_OF_KIND[col.kind], 'DEFAULT', defaultLiteral(col.default, 'TRUE', 'FALSE')];
  if (!col.nullable) parts.push('NOT NULL');
  return parts.join(' ');
}

function kindOfType(type: string): ColumnKind | undefined {
  const t = type.toLowerCase();
  if (t === 'boolean') return 'bool';
  if (t === 'json' || t === 'jsonb') return 'json';
  if (/^(smallint|integer|bigint|real|double precision|numeric)/.test(t)) return 'number';
  if (/^(text|character|name|uuid|citext)/.test(t)) return 'text';
  return undefined;
}

/**
 * The change counters (see ensureChangeCounter), in three functions:
 * - `basalt_note_data_change(key)`, an immediate row trigger: counts the transaction's rows per
 *   key in transaction-local settings (no lock taken);
 * - `basalt_commit_data_versions()`, a deferred row trigger that runs at the commit: adds what
 *   was counted to each key's `_dataVersions` row, the keys in sorted order, so two transactions
 *   writing the same collections in different orders cannot deadlock on their version rows, and
 *   each holds them only while it commits;
 * - `basalt_bump_data_version(key)`, for TRUNCATE (no row events), at once.
 * Setting names carry the key's md5: always a valid name. A rolled-back savepoint takes its
 * settings back with its rows.
 */
const CHANGE_COUNTER_FUNCTIONS = [
  `CREATE OR REPLACE FUNCTION basalt_note_data_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  counter text := 'basalt.dv_' || md5(TG_ARGV[0]);
  n bigint := COALESCE(NULLIF(current_setting(counter, true), ''), '0')::bigint;
BEGIN
  IF n = 0 THEN
    PERFORM set_config('basalt.dv_keys', COALESCE(current_setting('basalt.dv_keys', true), '') || TG_ARGV[0] || chr(31), true);
  END IF;
  PERFORM set_config(counter, (n + 1)::text, true);
  RETURN NULL;
END $$`,
  `CREATE OR REPLACE FUNCTION basalt_commit_data_versions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  key text;
  counted bigint;
  added bigint;
BEGIN
  FOR key IN SELECT DISTINCT k FROM unnest(string_to_array(COALESCE(current_setting('basalt.dv_keys', true), ''), chr(31))) AS k WHERE k <> '' ORDER BY 1 LOOP
    counted := COALESCE(NULLIF(current_setting('basalt.dv_' || md5(key), true), ''), '0')::bigint;
    added := COALESCE(NULLIF(current_setting('basalt.dva_' || md5(key), true), ''), '0')::bigint;
    IF counted > added THEN
      UPDATE ${quoteIdent(DATA_VERSIONS_TABLE)} SET "v" = "v" + (counted - added) WHERE "id" = key;
      PERFORM set_config('basalt.dva_' || md5(key), counted::text, true);
    END IF;
  END LOOP;
  RETURN NULL;
END $$`,
  `CREATE OR REPLACE FUNCTION basalt_bump_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE ${quoteIdent(DATA_VERSIONS_TABLE)} SET "v" = "v" + 1 WHERE "id" = TG_ARGV[0];
  RETURN NULL;
END $$`,
];

/** Where Basalt adds the extensions it needs: not the data's schema, which a restore drops. */
export const EXTENSIONS_SCHEMA = 'basalt_ext';
export const TRIGRAM_EXTENSION_SQL = `CREATE SCHEMA IF NOT EXISTS ${EXTENSIONS_SCHEMA}; CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA ${EXTENSIONS_SCHEMA}`;

export class PostgresSchemaManager extends AnsiSchemaManager {
  protected columnSql(column: ColumnDefinition): string {
    return postgresColumnSql(column);
  }

  async tableExists(table: string): Promise<boolean> {
    const r = await sql<{ n: number }>`SELECT COUNT(*)::int AS n FROM information_schema.tables
      WHERE table_schema = current_schema() AND table_name = ${table}`.execute(this.db);
    return Number(r.rows[0]?.n) > 0;
  }

  async columnNames(table: string): Promise<string[]> {
    const r = await sql<{ name: string }>`SELECT column_name AS name FROM information_schema.columns
      WHERE table_schema = current_schema() AND table_name = ${table}`.execute(this.db);
    return r.rows.map((c) => c.name);
  }

  createTable(table: string, columns: ColumnDefinition[]): Promise<void> {
    const defs = [...columns.map(postgresColumnSql), `${quoteIdent(ROWID_COLUMN)} BIGINT GENERATED ALWAYS AS IDENTITY`];
    return this.exec(`CREATE TABLE ${quoteIdent(table)} (${defs.join(', ')})`);
  }

  async ensureSearchIndex(table: string, column: string, key: string): Promise<void> {
    const name = `_search_${key}`;
    const existing = (await sql<{ def: string }>`SELECT indexdef AS def FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ${name}`.execute(this.db)).rows[0]?.def;
    if (existing !== undefined && !existing.includes('translate(')) return;
    // Made by an earlier build on translate(), which `~` no longer compiles to: made again.
    if (existing !== undefined) await this.exec(`DROP INDEX ${quoteIdent(name)}`);
    const ops = await this.trigramOps();
    // The very expression `~` compares (postgres-filter-dialect.ts), so the planner matches it.
    await this.exec(`CREATE INDEX ${quoteIdent(name)} ON ${quoteIdent(table)} USING gin (${asciiLowerText(quoteIdent(column))} ${ops})`);
  }

  /**
   * pg_trgm's operator class, qualified. The extension ships with PostgreSQL and is trusted (the
   * database owner may add it); Basalt adds it in a schema of its own, which a restore (dropping
   * and reloading the data's schema) leaves in place. Installed elsewhere already, it is used there.
   */
  private async trigramOps(): Promise<string> {
    const find = async () => (await sql<{ s: string }>`SELECT n.nspname AS s FROM pg_opclass o JOIN pg_namespace n ON n.oid = o.opcnamespace WHERE o.opcname = 'gin_trgm_ops' LIMIT 1`.execute(this.db)).rows[0]?.s;
    let schema = await find();
    if (!schema) {
      await this.exec(TRIGRAM_EXTENSION_SQL);
      schema = await find();
    }
    return `${quoteIdent(schema ?? EXTENSIONS_SCHEMA)}.gin_trgm_ops`;
  }

  async dropSearchIndex(_table: string, _column: string, key: string): Promise<void> {
    await this.exec(`DROP INDEX IF EXISTS ${quoteIdent(`_search_${key}`)}`);
  }

  async ensureRowOrderIndex(table: string, key: string): Promise<void> {
    const name = `_rowid_${key}`;
    if (await this.indexExists(name)) return;
    await this.exec(`CREATE UNIQUE INDEX ${quoteIdent(name)} ON ${quoteIdent(table)} (${quoteIdent(ROWID_COLUMN)})`);
  }

  async ensureChangeCounter(table: string, key: string): Promise<void> {
    const triggers = { note: `__dv_${key}`, commit: `__dvc_${key}`, truncate: `__dvt_${key}` };
    const present = await sql<{ n: number }>`SELECT COUNT(*)::int AS n FROM pg_trigger WHERE tgrelid = to_regclass(${quoteIdent(table)}) AND tgname IN (${triggers.note}, ${triggers.commit}, ${triggers.truncate})`.execute(this.db);
    if (Number(present.rows[0]?.n) === 3) return;
    const literal = quoteString(key);
    const on = quoteIdent(table);
    await sql`INSERT INTO ${sql.id(DATA_VERSIONS_TABLE)} ("id", "v") VALUES (${key}, 0) ON CONFLICT DO NOTHING`.execute(this.db);
    for (const fn of CHANGE_COUNTER_FUNCTIONS) await this.exec(fn);
    for (const name of Object.values(triggers)) await this.exec(`DROP TRIGGER IF EXISTS ${quoteIdent(name)} ON ${on}`);
    await this.exec(`CREATE TRIGGER ${quoteIdent(triggers.note)} AFTER INSERT OR UPDATE OR DELETE ON ${on} FOR EACH ROW EXECUTE FUNCTION basalt_note_data_change(${literal})`);
    await this.exec(`CREATE CONSTRAINT TRIGGER ${quoteIdent(triggers.commit)} AFTER INSERT OR UPDATE OR DELETE ON ${on} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION basalt_commit_data_versions()`);
    await this.exec(`CREATE TRIGGER ${quoteIdent(triggers.truncate)} AFTER TRUNCATE ON ${on} FOR EACH STATEMENT EXECUTE FUNCTION basalt_bump_data_version(${literal})`);
  }

  createIndex(index: IndexDefinition): Promise<void> {
    if (!index.rowOrder || index.unique) return this.exec(postgresCreateIndexSql(index));
    const last = index.columns.at(-1);
    return this.exec(postgresCreateIndexSql({ ...index, columns: [...index.columns, { name: ROWID_COLUMN, order: last?.order }] }));
  }

  dropIndex(name: string): Promise<void> {
    return this.exec(postgresDropIndexSql(name));
  }

  async indexExists(name: string): Promise<boolean> {
    const r = await sql<{ n: number }>`SELECT COUNT(*)::int AS n FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ${name}`.execute(this.db);
    return Number(r.rows[0]?.n) > 0;
  }

  async createView(name: string, select: string): Promise<void> {
    // NB: the driver may send this over the simple query protocol, which runs several
    // statements: assertSingleSelect is what keeps `SELECT 1; DROP TABLE x` out.
    const query = assertSingleSelect(select);
    await this.exec(`${EXTENDED_PROTOCOL}CREATE VIEW ${quoteIdent(name)} AS ${query}`);
    await this.assertReadOnly(quoteIdent(name));
  }

  /**
   * A SELECT can still change things through volatile functions (nextval, set_config,
   * pg_terminate_backend, lo_unlink…). The catalogue does not record which built-in functions a
   * view calls, so the names called in the query text are looked up: a volatile one that is not
   * known to be harmless refuses the view.
   */
  private async assertReadOnly(view: string): Promise<void> {
    // The view as PostgreSQL stored it: comments and literals are normalised, so the function
    // names read from it are the ones that run.
    const def = await sql<{ def: string }>`SELECT pg_get_viewdef(CAST(${view} AS regclass)) AS def`.execute(this.db);
    const names = calledFunctions(String(def.rows[0]?.def ?? ''));
    if (names.length === 0) return;
    const r = await sql<{ name: string }>`SELECT DISTINCT proname AS name FROM pg_proc
      WHERE provolatile = 'v' AND proname = ANY(CAST(${names} AS text[]))`.execute(this.db);
    const offending = r.rows.map((row) => row.name).filter((fn) => !HARMLESS_VOLATILE.has(fn));
    if (offending.length > 0) {
      throw new StatementError(`the query calls ${offending.join(', ')}(), which may change data: view queries must be read-only`);
    }
  }

  async describeQuery(select: string): Promise<QueryColumn[]> {
    const query = assertSingleSelect(select);
    // A temporary view gives the result columns and their types without running the query.
    const temp = `__basalt_describe_${randomString(10)}`;
    await this.exec(`${EXTENDED_PROTOCOL}CREATE TEMP VIEW ${quoteIdent(temp)} AS ${query}`);
    try {
      await this.assertReadOnly(`pg_temp.${quoteIdent(temp)}`);
      const r = await sql<{ name: string; type: string }>`SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
        FROM pg_attribute a WHERE a.attrelid = ${'pg_temp.' + quoteIdent(temp)}::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`.execute(this.db);
      return r.rows.map((row) => ({ name: row.name, kind: kindOfType(row.type) }));
    } finally {
      await this.exec(`DROP VIEW IF EXISTS pg_temp.${quoteIdent(temp)}`);
    }
  }
}
