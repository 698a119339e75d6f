/**
 * The DDL both engines spell the same way (ANSI ALTER TABLE with double-quoted identifiers).
 * Each engine's schema manager extends it with what differs: column types, table creation,
 * index rendering, introspection and view checks.
 */
import { sql, type Kysely } from 'kysely';
import type { IndexDefinition } from '../core/collections/index-definition.js';
import type { ColumnDefinition, QueryColumn, SchemaManager } from '../core/ports.js';
import { quoteIdent } from './column-kinds.js';

export abstract class AnsiSchemaManager implements SchemaManager {
  constructor(protected readonly db: Kysely<any>) {}

  /** Column DDL of the engine (`"name" TYPE DEFAULT … NOT NULL`). */
  protected abstract columnSql(column: ColumnDefinition): string;

  /** Runs one DDL statement. */
  protected async exec(text: string): Promise<void> {
    await sql.raw(text).execute(this.db);
  }

  abstract tableExists(table: string): Promise<boolean>;
  abstract columnNames(table: string): Promise<string[]>;
  abstract createTable(table: string, columns: ColumnDefinition[], options?: { rowidKeyed?: boolean }): Promise<void>;
  abstract createIndex(index: IndexDefinition): Promise<void>;
  abstract dropIndex(name: string): Promise<void>;
  abstract indexExists(name: string): Promise<boolean>;
  abstract createView(name: string, select: string): Promise<void>;
  abstract describeQuery(select: string): Promise<QueryColumn[]>;
  abstract ensureChangeCounter(table: string, key: string): Promise<void>;
  abstract ensureRowOrderIndex(table: string, key: string): Promise<void>;
  abstract ensureSearchIndex(table: string, column: string, key: string): Promise<void>;
  abstract dropSearchIndex(table: string, column: string, key: string): Promise<void>;

  dropTable(table: string): Promise<void> {
    return this.exec(`DROP TABLE IF EXISTS ${quoteIdent(table)}`);
  }

  renameTable(from: string, to: string): Promise<void> {
    return this.exec(`ALTER TABLE ${quoteIdent(from)} RENAME TO ${quoteIdent(to)}`);
  }

  addColumn(table: string, column: ColumnDefinition): Promise<void> {
    return this.exec(`ALTER TABLE ${quoteIdent(table)} ADD COLUMN ${this.columnSql(column)}`);
  }

  dropColumn(table: string, column: string): Promise<void> {
    return this.exec(`ALTER TABLE ${quoteIdent(table)} DROP COLUMN ${quoteIdent(column)}`);
  }

  renameColumn(table: string, from: string, to: string): Promise<void> {
    return this.exec(`ALTER TABLE ${quoteIdent(table)} RENAME COLUMN ${quoteIdent(from)} TO ${quoteIdent(to)}`);
  }

  dropView(name: string): Promise<void> {
    return this.exec(`DROP VIEW IF EXISTS ${quoteIdent(name)}`);
  }
}
