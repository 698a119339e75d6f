/**
 * Collection index definitions (spec §3 "Indexes").
 *
 * PocketBase stores indexes as raw SQLite `CREATE [UNIQUE] INDEX` strings. Basalt never passes
 * such a string to a database: {@link parseIndex} turns it into an {@link IndexDefinition} under
 * a small grammar, {@link formatIndex} gives the canonical PocketBase-style text that we store and
 * return, and each engine renders its own DDL from the definition (`db/<engine>/index-sql.ts`).
 *
 * Grammar (keywords case-insensitive; identifiers bare, or quoted with backticks, double quotes
 * or brackets, and always matching `[A-Za-z_][A-Za-z0-9_]*`):
 *
 * ```
 * CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table
 *   ( column [COLLATE NOCASE|BINARY|RTRIM] [ASC|DESC] {, …} ) [WHERE expr] [;]
 * ```
 *
 * Compared with PocketBase's own regex-based parser (`tools/dbutils/index.go`), expressions in
 * the column list (`lower(x)`) and schema-qualified names are refused rather than passed through,
 * because Basalt must be able to translate every accepted index for every engine.
 */

import { assertIndexIdentifier, INDEX_MAX_LENGTH, IndexSyntaxError, tokenizeIndex } from './index-lexer.js';
import type { IndexToken } from './index-lexer.js';
import { assertValidIndex, renderIndexWhere } from './index-where.js';
import type { IndexCompareOp, IndexOperand, IndexWhere } from './index-where.js';

export { IndexSyntaxError, INDEX_IDENTIFIER_PATTERN, INDEX_MAX_LENGTH, assertIndexIdentifier } from './index-lexer.js';
export { assertValidIndex, renderIndexWhere, INDEX_MAX_COLUMNS, INDEX_MAX_WHERE_DEPTH } from './index-where.js';
export type { IndexCompareOp, IndexOperand, IndexWhere, IndexWhereStyle } from './index-where.js';

/** The collations SQLite ships with; custom collations do not exist on the other engines. */
export type IndexCollation = 'NOCASE' | 'BINARY' | 'RTRIM';

/** Sort direction of one indexed column; absent means the engine default (ascending). */
export type IndexOrder = 'ASC' | 'DESC';

/** One entry of the column list. Keys are absent (not `undefined`) when not written. */
export interface IndexColumn {
  name: string;
  collate?: IndexCollation;
  order?: IndexOrder;
}

/**
 * A parsed `CREATE INDEX`. `IF NOT EXISTS` is accepted on input but not kept: whether DDL is
 * idempotent is the schema synchroniser's decision, not part of what the index is.
 */
export interface IndexDefinition {
  name: string;
  unique: boolean;
  table: string;
  columns: IndexColumn[];
  /** The partial-index predicate, if any. */
  where?: IndexWhere;
  /**
   * An index of a collection's table: when not unique, PostgreSQL's ends with the row id (in
   * the direction of its last column), as every SQLite index does by itself. Lists order ties by
   * the row id, so a sort on the index's columns then reads the index in order, and a deep
   * page's keyset seeks in it, instead of sorting each group of equal values.
   */
  rowOrder?: boolean;
}

const COLLATIONS: readonly string[] = ['NOCASE', 'BINARY', 'RTRIM'];
const COMPARE_OPS: Readonly<Record<string, IndexCompareOp>> = {
  '=': '=',
  '==': '=',
  '!=': '!=',
  '<>': '!=',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};
// Guards the parser's recursion only; the meaningful limit is INDEX_MAX_WHERE_DEPTH on the tree,
// since redundant parentheses disappear when the definition is rendered.
const MAX_PARSE_NESTING = 100;
const FORMAT_STYLE = { identifier: (name: string) => `\`${name}\``, boolean: (v: boolean) => (v ? 'TRUE' : 'FALSE') };

/**
 * Parses a PocketBase index string.
 *
 * @throws {IndexSyntaxError} for anything outside the grammar in this module's header, for
 *   names SQLite reserves (`sqlite_…`), an index named like its table, more than
 *   `INDEX_MAX_COLUMNS` columns, a WHERE nested deeper than `INDEX_MAX_WHERE_DEPTH`, or input
 *   (or canonical form) over `INDEX_MAX_LENGTH` characters.
 */
export function parseIndex(sql: string): IndexDefinition {
  const def = new IndexParser(tokenizeIndex(sql), sql.length).parse();
  assertValidIndex(def);
  // Guarantees that what we store (the canonical text) parses again.
  if (formatIndex(def).length > INDEX_MAX_LENGTH) {
    throw new IndexSyntaxError(`the canonical form of the index is longer than ${INDEX_MAX_LENGTH} characters`);
  }
  return def;
}

/**
 * Canonical PocketBase-style SQLite text: backtick-quoted identifiers, upper-case keywords, one
 * column per line when there are several (as PocketBase's `Index.Build` writes them), operators
 * normalised (`==` → `=`, `<>` → `!=`). `parseIndex(formatIndex(def))` deep-equals `def` for every
 * parsed `def`.
 */
export function formatIndex(def: IndexDefinition): string {
  const columns = def.columns.map(
    (c) => `\`${c.name}\`` + (c.collate ? ` COLLATE ${c.collate}` : '') + (c.order ? ` ${c.order}` : ''),
  );
  const list = columns.length > 1 ? `\n  ${columns.join(',\n  ')}\n` : columns.join('');
  const where = def.where ? ` WHERE ${renderIndexWhere(def.where, FORMAT_STYLE)}` : '';
  return `CREATE ${def.unique ? 'UNIQUE ' : ''}INDEX \`${def.name}\` ON \`${def.table}\` (${list})${where}`;
}

/** Column names are compared case-insensitively, as SQLite resolves them. */
const sameName = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/**
 * Returns a copy of `def` with column `oldName` (matched case-insensitively, in the column list
 * and in the WHERE clause) renamed to `newName`. Renaming a column to its own name in another
 * case therefore also normalises the spelling, which matters on PostgreSQL where quoted
 * identifiers are case-sensitive.
 */
export function renameIndexColumn(def: IndexDefinition, oldName: string, newName: string): IndexDefinition {
  assertIndexIdentifier(newName, 'column name');
  const columns = def.columns.map((c) => (sameName(c.name, oldName) ? { ...c, name: newName } : { ...c }));
  const renamed: IndexDefinition = { name: def.name, unique: def.unique, table: def.table, columns };
  if (def.where) {
    renamed.where = mapWhereColumns(def.where, (name) => (sameName(name, oldName) ? newName : name));
  }
  return renamed;
}

/** Returns a copy of `def` on table `newTable` (a collection rename). The index name is kept. */
export function renameIndexTable(def: IndexDefinition, newTable: string): IndexDefinition {
  assertIndexIdentifier(newTable, 'table name');
  return { ...def, table: newTable, columns: def.columns.map((c) => ({ ...c })) };
}

/**
 * Every column the index references: the column list first, then the WHERE clause, each name
 * once (case-insensitively, first spelling kept). Used to check that the columns exist.
 */
export function indexColumnNames(def: IndexDefinition): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  const add = (name: string): string => {
    if (!seen.has(name.toLowerCase())) {
      seen.add(name.toLowerCase());
      names.push(name);
    }
    return name;
  };
  for (const column of def.columns) add(column.name);
  if (def.where) mapWhereColumns(def.where, add);
  return names;
}

/**
 * A UNIQUE index whose only column is `column` (case-insensitive), or `undefined`. As in
 * PocketBase (`HasSingleColumnUniqueIndex`), a WHERE clause is ignored: the usual
 * `… (email) WHERE email != ''` still makes `email` unique among the records that have one.
 * This decides whether a back-relation is single and whether a field can be an identity field.
 */
export function findSingleColumnUniqueIndex(indexes: IndexDefinition[], column: string): IndexDefinition | undefined {
  return indexes.find((idx) => idx.unique && idx.columns.length === 1 && sameName(idx.columns[0].name, column));
}

/**
 * Whether every column of `def` uses `COLLATE NOCASE`; for the index returned by
 * {@link findSingleColumnUniqueIndex}, whether identity lookups must be case-insensitive.
 */
export function isNocaseIndex(def: IndexDefinition): boolean {
  return def.columns.length > 0 && def.columns.every((c) => c.collate === 'NOCASE');
}

function mapOperand(operand: IndexOperand, rename: (name: string) => string): IndexOperand {
  return operand.kind === 'column' ? { kind: 'column', name: rename(operand.name) } : { ...operand };
}

function mapWhereColumns(where: IndexWhere, rename: (name: string) => string): IndexWhere {
  switch (where.kind) {
    case 'compare':
      return { ...where, left: mapOperand(where.left, rename), right: mapOperand(where.right, rename) };
    case 'isNull':
      return { ...where, operand: mapOperand(where.operand, rename) };
    case 'and':
    case 'or':
      return { kind: where.kind, terms: where.terms.map((t) => mapWhereColumns(t, rename)) };
    case 'not':
      return { kind: 'not', expr: mapWhereColumns(where.expr, rename) };
    case 'operand':
      return { kind: 'operand', operand: mapOperand(where.operand, rename) as typeof where.operand };
  }
}

/** Recursive descent over the tokens; `depth` counts open parentheses and NOTs in WHERE. */
class IndexParser {
  private i = 0;
  private depth = 0;

  constructor(
    private readonly tokens: IndexToken[],
    private readonly length: number,
  ) {}

  parse(): IndexDefinition {
    this.expectKeyword('CREATE');
    const unique = this.acceptKeyword('UNIQUE');
    this.expectKeyword('INDEX');
    // `IF` alone may be an index name (`CREATE INDEX if ON …`), hence the look-ahead.
    if (this.isKeyword(this.peek(), 'IF') && this.isKeyword(this.peek(1), 'NOT')) {
      this.i += 2;
      this.expectKeyword('EXISTS');
    }
    const name = this.identifier('index name');
    if (this.isSymbol(this.peek(), '.')) this.fail('schema-qualified names are not supported');
    this.expectKeyword('ON');
    const table = this.identifier('table name');
    if (this.isSymbol(this.peek(), '.')) this.fail('schema-qualified names are not supported');
    this.expectSymbol('(', 'after the table name');
    const columns: IndexColumn[] = [this.column()];
    while (this.acceptSymbol(',')) columns.push(this.column());
    this.expectSymbol(')', 'after the column list');
    const def: IndexDefinition = { name, unique, table, columns };
    if (this.acceptKeyword('WHERE')) {
      def.where = this.or();
      const next = this.peek();
      if (next && !this.isSymbol(next, ';')) {
        this.fail(`unexpected ${this.describe(next)} in the WHERE clause; expected AND, OR or the end of the index`);
      }
    }
    this.acceptSymbol(';');
    if (this.peek()) {
      this.fail(`unexpected ${this.describe(this.peek())} after the index definition; only one statement is allowed`);
    }
    return def;
  }

  private column(): IndexColumn {
    const token = this.peek();
    const next = this.peek(1);
    if (token && (token.type === 'word' || token.type === 'quoted') && this.isSymbol(next, '(')) {
      this.fail(`expressions such as ${token.value}(…) are not supported in the column list; use plain column names (and COLLATE NOCASE for case-insensitive indexes)`);
    }
    if (!token || (token.type !== 'word' && token.type !== 'quoted')) {
      this.fail(`expected a column name but found ${this.describe(token)}; expressions are not supported in the column list`);
    }
    const column: IndexColumn = { name: this.identifier('column name') };
    if (this.acceptKeyword('COLLATE')) {
      const collationToken = this.peek();
      const collation = this.identifier('collation').toUpperCase();
      if (!COLLATIONS.includes(collation)) {
        this.fail(`unsupported collation ${JSON.stringify(collation)}; use NOCASE, BINARY or RTRIM`, collationToken);
      }
      column.collate = collation as IndexCollation;
    }
    if (this.acceptKeyword('ASC')) column.order = 'ASC';
    else if (this.acceptKeyword('DESC')) column.order = 'DESC';
    const after = this.peek();
    if (after && !this.isSymbol(after, ',') && !this.isSymbol(after, ')')) {
      this.fail(`unexpected ${this.describe(after)} in the column list; expressions are not supported, only column [COLLATE x] [ASC|DESC]`);
    }
    return column;
  }

  private or(): IndexWhere {
    const terms = [this.and()];
    while (this.acceptKeyword('OR')) terms.push(this.and());
    return terms.length === 1 ? terms[0] : { kind: 'or', terms: terms.flatMap((t) => (t.kind === 'or' ? t.terms : [t])) };
  }

  private and(): IndexWhere {
    const terms = [this.not()];
    while (this.acceptKeyword('AND')) terms.push(this.not());
    return terms.length === 1 ? terms[0] : { kind: 'and', terms: terms.flatMap((t) => (t.kind === 'and' ? t.terms : [t])) };
  }

  private not(): IndexWhere {
    if (!this.acceptKeyword('NOT')) return this.primary();
    return this.nested(() => ({ kind: 'not', expr: this.not() }));
  }

  private primary(): IndexWhere {
    if (this.acceptSymbol('(')) {
      return this.nested(() => {
        const inner = this.or();
        this.expectSymbol(')', 'to close the parenthesis');
        return inner;
      });
    }
    const left = this.operand();
    const opToken = this.peek();
    if (opToken?.type === 'symbol' && opToken.value in COMPARE_OPS) {
      this.i++;
      return { kind: 'compare', op: COMPARE_OPS[opToken.value], left, right: this.operand() };
    }
    if (this.acceptKeyword('IS')) {
      const negated = this.acceptKeyword('NOT');
      if (!this.acceptKeyword('NULL')) this.fail(`expected NULL after IS${negated ? ' NOT' : ''}`);
      return { kind: 'isNull', operand: left, negated };
    }
    // A bare value as the whole predicate (`WHERE active`). Only columns and booleans make
    // sense there; PostgreSQL would reject `WHERE 1` or `WHERE 'x'` outright.
    if (left.kind !== 'column' && left.kind !== 'boolean') {
      this.fail('expected a comparison operator or IS [NOT] NULL after a literal');
    }
    return { kind: 'operand', operand: left };
  }

  private operand(): IndexOperand {
    const token = this.peek();
    if (!token) this.fail('unexpected end of the WHERE clause');
    if (token.type === 'string') return this.take({ kind: 'string', value: token.value });
    if (token.type === 'number') return this.take({ kind: 'number', text: token.value });
    if (token.type === 'word') {
      const upper = token.value.toUpperCase();
      if (upper === 'NULL') return this.take({ kind: 'null' });
      if (upper === 'TRUE' || upper === 'FALSE') return this.take({ kind: 'boolean', value: upper === 'TRUE' });
      if (['AND', 'OR', 'NOT', 'IS'].includes(upper)) this.fail(`unexpected ${upper} in the WHERE clause`);
      if (this.isSymbol(this.peek(1), '(')) this.fail(`function calls such as ${token.value}(…) are not supported in WHERE`);
    }
    if (token.type !== 'word' && token.type !== 'quoted') {
      this.fail(`expected a column name or a literal but found ${this.describe(token)}`);
    }
    return { kind: 'column', name: this.identifier('column name') };
  }

  private nested<T>(parse: () => T): T {
    if (++this.depth > MAX_PARSE_NESTING) {
      this.fail(`the WHERE clause is nested more than ${MAX_PARSE_NESTING} levels deep`);
    }
    const result = parse();
    this.depth--;
    return result;
  }

  private identifier(what: string): string {
    const token = this.peek();
    if (!token || (token.type !== 'word' && token.type !== 'quoted')) {
      this.fail(`expected ${what} but found ${this.describe(token)}`);
    }
    assertIndexIdentifier(token.value, what, token.pos);
    this.i++;
    return token.value;
  }

  private take<T>(value: T): T {
    this.i++;
    return value;
  }

  private peek(ahead = 0): IndexToken | undefined {
    return this.tokens[this.i + ahead];
  }

  private isKeyword(token: IndexToken | undefined, keyword: string): boolean {
    return token?.type === 'word' && token.value.toUpperCase() === keyword;
  }

  private isSymbol(token: IndexToken | undefined, symbol: string): boolean {
    return token?.type === 'symbol' && token.value === symbol;
  }

  private acceptKeyword(keyword: string): boolean {
    return this.isKeyword(this.peek(), keyword) ? this.take(true) : false;
  }

  private acceptSymbol(symbol: string): boolean {
    return this.isSymbol(this.peek(), symbol) ? this.take(true) : false;
  }

  private expectKeyword(keyword: string): void {
    if (!this.acceptKeyword(keyword)) this.fail(`expected ${keyword} but found ${this.describe(this.peek())}`);
  }

  private expectSymbol(symbol: string, where: string): void {
    if (!this.acceptSymbol(symbol)) this.fail(`expected "${symbol}" ${where} but found ${this.describe(this.peek())}`);
  }

  private describe(token: IndexToken | undefined): string {
    if (!token) return 'the end of the input';
    if (token.type === 'string') return 'a string literal';
    if (token.type === 'number') return `the number ${token.value}`;
    return JSON.stringify(token.value);
  }

  private fail(message: string, at: IndexToken | undefined = this.peek()): never {
    throw new IndexSyntaxError(message, at ? at.pos : this.length);
  }
}
