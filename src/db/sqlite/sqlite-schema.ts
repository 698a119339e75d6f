import { sql, type Kysely } from 'kysely';
import type { IndexDefinition } from '../../core/collections/index-definition.js';
import type { ColumnDefinition, QueryColumn } from '../../core/ports.js';
import { AnsiSchemaManager } from '../ansi-schema-manager.js';
import type { ColumnKind } from '../../core/collections/fields/field-type.js';
import { defaultLiteral, quoteIdent, quoteString } from '../column-kinds.js';
import { DATA_VERSIONS_TABLE } from '../../core/internal-tables.js';
import { searchTableName } from './search-table.js';
import { assertSingleSelect, calledFunctions, StatementError } from '../single-statement.js';
import { sqliteCreateIndexSql, sqliteDropIndexSql } from './index-sql.js';

const TYPE_OF_KIND: Record<ColumnKind, string> = { text: 'TEXT', number: 'NUMERIC', bool: 'BOOLEAN', json: 'JSON' };

export function sqliteColumnSql(col: ColumnDefinition): string {
  if (col.primaryKey) return `${quoteIdent(col.name)} TEXT PRIMARY KEY NOT NULL`;
  const parts = [quoteIdent(col.name), TYPE_OF_KIND[col.kind], 'DEFAULT', defaultLiteral(col.default, 'TRUE', 'FALSE')];
  if (!col.nullable) parts.push('NOT NULL');
  return parts.join(' ');
}

function kindOfDeclaredType(type: string | null): ColumnKind | undefined {
  if (!type) return undefined;
  const t = type.toUpperCase();
  if (t.includes('BOOL')) return 'bool';
  if (t.includes('JSON')) return 'json';
  if (t.includes('INT') || t.includes('REAL') || t.includes('NUM') || t.includes('FLOA') || t.includes('DOUB')) return 'number';
  if (t.includes('TEXT') || t.includes('CHAR') || t.includes('CLOB')) return 'text';
  return undefined;
}

/** Prepares (never runs) statements on the writer connection to describe query results. */
export interface SqlitePreparer {
  describe(select: string): { name: string; table: string | null; column: string | null; type: string | null }[];
}

export class SqliteSchemaManager extends AnsiSchemaManager {
  constructor(
    db: Kysely<any>,
    private readonly preparer: SqlitePreparer,
    private readonly onChange: () => void,
  ) {
    super(db);
  }

  protected columnSql(column: ColumnDefinition): string {
    return sqliteColumnSql(column);
  }

  protected override async exec(text: string): Promise<void> {
    await super.exec(text);
    this.onChange();
  }

  async tableExists(table: string): Promise<boolean> {
    const r = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM sqlite_master WHERE type IN ('table','view') AND name = ${table}`.execute(this.db);
    return Number(r.rows[0]?.n) > 0;
  }

  async columnNames(table: string): Promise<string[]> {
    const r = await sql<{ name: string }>`SELECT name FROM pragma_table_info(${table})`.execute(this.db);
    return r.rows.map((c) => c.name);
  }

  createTable(table: string, columns: ColumnDefinition[], options: { rowidKeyed?: boolean } = {}): Promise<void> {
    const defs = options.rowidKeyed ? columns.map((c) => ({ ...c, primaryKey: false })) : columns;
    return this.exec(`CREATE TABLE ${quoteIdent(table)} (${defs.map(sqliteColumnSql).join(', ')})`);
  }

  async ensureSearchIndex(table: string, column: string): Promise<void> {
    const fts = searchTableName(table, column);
    const exists = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ${fts}`.execute(this.db);
    if (Number(exists.rows[0]?.n) > 0) return;
    const [f, t, c] = [quoteIdent(fts), quoteIdent(table), quoteIdent(column)];
    // External content: the FTS table stores the trigram index only, the text stays in the row.
    await this.exec(`CREATE VIRTUAL TABLE ${f} USING fts5(${c}, content=${quoteString(table)}, content_rowid='rowid', tokenize='trigram')`);
    await this.exec(`INSERT INTO ${f}(${f}) VALUES ('rebuild')`);
    const remove = `INSERT INTO ${f}(${f}, rowid, ${c}) VALUES ('delete', old.rowid, old.${c})`;
    const add = `INSERT INTO ${f}(rowid, ${c}) VALUES (new.rowid, new.${c})`;
    await this.exec(`CREATE TRIGGER ${quoteIdent(`${fts}_i`)} AFTER INSERT ON ${t} BEGIN ${add}; END`);
    await this.exec(`CREATE TRIGGER ${quoteIdent(`${fts}_d`)} AFTER DELETE ON ${t} BEGIN ${remove}; END`);
    await this.exec(`CREATE TRIGGER ${quoteIdent(`${fts}_u`)} AFTER UPDATE OF ${c} ON ${t} BEGIN ${remove}; ${add}; END`);
  }

  async dropSearchIndex(table: string, column: string): Promise<void> {
    const fts = searchTableName(table, column);
    for (const suffix of ['_i', '_d', '_u']) await this.exec(`DROP TRIGGER IF EXISTS ${quoteIdent(fts + suffix)}`);
    await this.exec(`DROP TABLE IF EXISTS ${quoteIdent(fts)}`);
  }

  async ensureRowOrderIndex(): Promise<void> {
    // The rowid is the table's B-tree key: ordered already.
  }

  async ensureChangeCounter(table: string, key: string): Promise<void> {
    const names = ['i', 'u', 'd'].map((suffix) => `__dv_${key}_${suffix}`);
    // A DML statement, not DDL (exec() would drop every cached statement for it).
    await sql`INSERT INTO ${sql.id(DATA_VERSIONS_TABLE)} ("id", "v") VALUES (${key}, 0) ON CONFLICT DO NOTHING`.execute(this.db);
    const present = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ${table} AND name IN (${sql.join(names)})`.execute(this.db);
    if (Number(present.rows[0]?.n) === names.length) return;
    const literal = quoteString(key);
    // Named by the key (a collection id), not the table: a renamed table keeps its triggers, and
    // a rebuilt one gets them back. SQLite has no statement triggers; one bump per row.
    const bump = `UPDATE ${quoteIdent(DATA_VERSIONS_TABLE)} SET "v" = "v" + 1 WHERE "id" = ${literal}`;
    for (const [i, event] of ['INSERT', 'UPDATE', 'DELETE'].entries()) {
      await this.exec(`CREATE TRIGGER IF NOT EXISTS ${quoteIdent(names[i])} AFTER ${event} ON ${quoteIdent(table)} BEGIN ${bump}; END`);
    }
  }








  createIndex(index: IndexDefinition): Promise<void> {
    return this.exec(sqliteCreateIndexSql(index));
  }

  dropIndex(name: string): Promise<void> {
    return this.exec(sqliteDropIndexSql(name));
  }

  async indexExists(name: string): Promise<boolean> {
    const r = await sql<{ n: number }>`SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'index' AND name = ${name}`.execute(this.db);
    return Number(r.rows[0]?.n) > 0;
  }

  async createView(name: string, select: string): Promise<void> {
    const query = assertSingleSelect(select);
    // load_extension() is disabled, so it could only make every read of the view fail.
    if (calledFunctions(query).includes('load_extension')) throw new StatementError('view queries cannot load extensions');
    // Preparing first makes SQLite check every table and column the view names.
    this.preparer.describe(query);
    await this.exec(`CREATE VIEW ${quoteIdent(name)} AS ${query}`);
  }


  async describeQuery(select: string): Promise<QueryColumn[]> {
    const query = assertSingleSelect(select);
    return this.preparer.describe(query).map((c) => ({
      name: c.name,
      sourceTable: c.table ?? undefined,
      sourceColumn: c.column ?? undefined,
      kind: kindOfDeclaredType(c.type),
    }));
  }
}
