import { describe, expect, it } from 'vitest';
import {
  assertValidIndex,
  findSingleColumnUniqueIndex,
  formatIndex,
  indexColumnNames,
  IndexSyntaxError,
  isNocaseIndex,
  parseIndex,
  renameIndexColumn,
  renameIndexTable,
} from '../../src/core/collections/index-definition.js';
import type { IndexDefinition, IndexWhere } from '../../src/core/collections/index-definition.js';

const col = (name: string) => ({ kind: 'column' as const, name });
const str = (value: string) => ({ kind: 'string' as const, value });
const num = (text: string) => ({ kind: 'number' as const, text });
const cmp = (left: any, op: any, right: any): IndexWhere => ({ kind: 'compare', op, left, right });

const VALID: Array<[string, string, IndexDefinition]> = [
  [
    'PocketBase tokenKey index',
    'CREATE UNIQUE INDEX `idx_tokenKey_pbc_123` ON `users` (`tokenKey`)',
    { name: 'idx_tokenKey_pbc_123', unique: true, table: 'users', columns: [{ name: 'tokenKey' }] },
  ],
  [
    'PocketBase partial email index',
    "CREATE UNIQUE INDEX `idx_email_pbc_123` ON `users` (`email`) WHERE `email` != ''",
    {
      name: 'idx_email_pbc_123',
      unique: true,
      table: 'users',
      columns: [{ name: 'email' }],
      where: cmp(col('email'), '!=', str('')),
    },
  ],
  [
    'bare identifiers, COLLATE and DESC',
    'CREATE INDEX idx_title ON posts (title COLLATE NOCASE, created DESC)',
    {
      name: 'idx_title',
      unique: false,
      table: 'posts',
      columns: [{ name: 'title', collate: 'NOCASE' }, { name: 'created', order: 'DESC' }],
    },
  ],
  [
    'IF NOT EXISTS, no spaces between columns',
    'CREATE INDEX IF NOT EXISTS `idx_x` ON `posts` (`a`,`b`)',
    { name: 'idx_x', unique: false, table: 'posts', columns: [{ name: 'a' }, { name: 'b' }] },
  ],
  [
    'double quotes, brackets, lower-case keywords, trailing semicolon',
    'create unique index "i1" on [t_1] ([a] collate rtrim asc , "B" collate binary desc);',
    {
      name: 'i1',
      unique: true,
      table: 't_1',
      columns: [
        { name: 'a', collate: 'RTRIM', order: 'ASC' },
        { name: 'B', collate: 'BINARY', order: 'DESC' },
      ],
    },
  ],
  [
    'newlines and tabs as whitespace',
    'CREATE INDEX\n\t`i` ON `t` (\n  `a`,\n  `b`\n)\n;\n',
    { name: 'i', unique: false, table: 't', columns: [{ name: 'a' }, { name: 'b' }] },
  ],
  [
    'an index named IF',
    'CREATE INDEX if ON t (a)',
    { name: 'if', unique: false, table: 't', columns: [{ name: 'a' }] },
  ],
  [
    'WHERE with == and <> normalised, numbers as written',
    'CREATE INDEX i ON t (a) WHERE a == -1.50 AND b <> 1e3',
    {
      name: 'i',
      unique: false,
      table: 't',
      columns: [{ name: 'a' }],
      where: { kind: 'and', terms: [cmp(col('a'), '=', num('-1.50')), cmp(col('b'), '!=', num('1e3'))] },
    },
  ],
  [
    'WHERE with IS [NOT] NULL, OR, NOT, parentheses and escaped quotes',
    "CREATE INDEX i ON t (a) WHERE (a IS NULL OR NOT b IS NOT NULL) AND c >= 'it''s'",
    {
      name: 'i',
      unique: false,
      table: 't',
      columns: [{ name: 'a' }],
      where: {
        kind: 'and',
        terms: [
          {
            kind: 'or',
            terms: [
              { kind: 'isNull', operand: col('a'), negated: false },
              { kind: 'not', expr: { kind: 'isNull', operand: col('b'), negated: true } },
            ],
          },
          cmp(col('c'), '>=', str("it's")),
        ],
      },
    },
  ],
  [
    'WHERE with booleans, NULL literal and a bare column',
    'CREATE INDEX i ON t (a) WHERE active OR flag = TRUE OR x < false OR y != NULL',
    {
      name: 'i',
      unique: false,
      table: 't',
      columns: [{ name: 'a' }],
      where: {
        kind: 'or',
        terms: [
          { kind: 'operand', operand: col('active') },
          cmp(col('flag'), '=', { kind: 'boolean', value: true }),
          cmp(col('x'), '<', { kind: 'boolean', value: false }),
          cmp(col('y'), '!=', { kind: 'null' }),
        ],
      },
    },
  ],
  [
    'nested AND/OR flattened',
    'CREATE INDEX i ON t (a) WHERE a = 1 AND (b = 2 AND (c = 3))',
    {
      name: 'i',
      unique: false,
      table: 't',
      columns: [{ name: 'a' }],
      where: {
        kind: 'and',
        terms: [cmp(col('a'), '=', num('1')), cmp(col('b'), '=', num('2')), cmp(col('c'), '=', num('3'))],
      },
    },
  ],
  [
    'quoted keywords are identifiers',
    'CREATE INDEX `select` ON `order` (`where`) WHERE "null" IS NULL',
    {
      name: 'select',
      unique: false,
      table: 'order',
      columns: [{ name: 'where' }],
      where: { kind: 'isNull', operand: col('null'), negated: false },
    },
  ],
];

const INVALID: Array<[string, string, RegExp]> = [
  ['second statement', 'CREATE INDEX a ON b (c); DROP TABLE x', /only one statement/],
  ['statement after WHERE', "CREATE INDEX a ON b (c) WHERE c = 'x'; DROP TABLE x", /only one statement/],
  ['two semicolons', 'CREATE INDEX a ON b (c);;', /only one statement/],
  ['line comment', 'CREATE INDEX a ON b (c) -- comment', /comments are not allowed/],
  ['block comment', 'CREATE INDEX a ON b (c /* x */)', /comments are not allowed/],
  ['comment hiding a clause', 'CREATE INDEX a ON b (c) WHERE c = 1--', /comments are not allowed/],
  ['function in columns', 'CREATE INDEX a ON b (lower(c))', /expressions such as lower\(…\) are not supported/],
  ['arithmetic in columns', 'CREATE INDEX a ON b (c + 1)', /unexpected character "\+"/],
  ['literal in columns', "CREATE INDEX a ON b ('c')", /expressions are not supported/],
  ['two words in a column', 'CREATE INDEX a ON b (c d)', /expressions are not supported/],
  ['empty column list', 'CREATE INDEX a ON b ()', /expected a column name/],
  ['function in WHERE', 'CREATE INDEX a ON b (c) WHERE lower(c) = 1', /function calls/],
  ['LIKE in WHERE', "CREATE INDEX a ON b (c) WHERE c LIKE 'x'", /unexpected "LIKE" in the WHERE clause/],
  ['IS not followed by NULL', 'CREATE INDEX a ON b (c) WHERE c IS 1', /expected NULL after IS/],
  ['literal alone in WHERE', 'CREATE INDEX a ON b (c) WHERE 1', /comparison operator/],
  ['dangling AND', 'CREATE INDEX a ON b (c) WHERE c = 1 AND', /unexpected end/],
  ['unbalanced parenthesis', 'CREATE INDEX a ON b (c) WHERE (c = 1', /to close the parenthesis/],
  ['chained comparison', 'CREATE INDEX a ON b (c) WHERE c = 1 = 2', /unexpected "=" in the WHERE clause/],
  ['empty WHERE', 'CREATE INDEX a ON b (c) WHERE', /unexpected end/],
  ['hyphen in identifier', 'CREATE INDEX `a-b` ON b (c)', /invalid identifier "a-b"/],
  ['space in identifier', 'CREATE INDEX "a b" ON b (c)', /invalid identifier "a b"/],
  ['leading digit', 'CREATE INDEX 1a ON b (c)', /malformed number/],
  ['non-ASCII identifier', 'CREATE INDEX idx ON b (naïve)', /invalid identifier/],
  ['dollar in identifier', 'CREATE INDEX idx ON b (a$b)', /invalid identifier/],
  ['empty quoted identifier', 'CREATE INDEX `` ON b (c)', /invalid identifier ""/],
  ['quote injection in identifier', 'CREATE INDEX "a""b" ON b (c)', /expected ON/],
  ['unterminated backtick', 'CREATE INDEX `a ON b (c)', /unterminated quoted identifier/],
  ['unterminated bracket', 'CREATE INDEX [a ON b (c)', /unterminated quoted identifier/],
  ['unterminated string', "CREATE INDEX a ON b (c) WHERE c = 'x", /unterminated string literal/],
  ['schema-qualified index', 'CREATE INDEX main.a ON b (c)', /schema-qualified/],
  ['schema-qualified table', 'CREATE INDEX a ON main.b (c)', /schema-qualified/],
  ['unknown collation', 'CREATE INDEX a ON b (c COLLATE unicode)', /unsupported collation "UNICODE"/],
  ['reserved sqlite_ name', 'CREATE INDEX sqlite_autoindex ON b (c)', /reserved prefix/],
  ['index named like its table', 'CREATE INDEX posts ON Posts (c)', /must differ from the table/],
  ['not CREATE', 'DROP INDEX a', /expected CREATE/],
  ['CREATE TABLE', 'CREATE TABLE a (c)', /expected INDEX/],
  ['missing ON', 'CREATE INDEX a b (c)', /expected ON/],
  ['IF NOT without EXISTS', 'CREATE INDEX IF NOT a ON b (c)', /expected EXISTS/],
  ['NUL character', 'CREATE INDEX a ON b (c)\u0000', /NUL/],
  ['unpaired surrogate', "CREATE INDEX a ON b (c) WHERE c = '\ud800'", /surrogate/],
  ['too long', `CREATE INDEX a ON b (c) WHERE c = '${'x'.repeat(1000)}'`, /longer than 1000/],
  ['too many columns', `CREATE INDEX a ON b (${Array.from({ length: 33 }, (_, i) => `c${i}`).join(', ')})`, /at most 32/],
  ['nested too deep', `CREATE INDEX a ON b (c) WHERE ${'NOT '.repeat(21)}c`, /nested more than 20/],
  ['empty string', '', /expected CREATE/],
];

describe('parseIndex', () => {
  it.each(VALID)('parses %s', (_name, sql, expected) => {
    expect(parseIndex(sql)).toStrictEqual(expected);
  });

  it.each(INVALID)('rejects %s', (_name, sql, message) => {
    let error: unknown;
    try {
      parseIndex(sql);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(IndexSyntaxError);
    expect((error as Error).message).toMatch(message);
  });

  it('accepts exactly 1000 characters and redundant parentheses', () => {
    const head = "CREATE INDEX `a` ON `b` (`c`) WHERE `c` = '";
    const sql = head + 'x'.repeat(1000 - head.length - 1) + "'";
    expect(sql).toHaveLength(1000);
    expect(parseIndex(sql).where).toMatchObject({ kind: 'compare' });
    expect(parseIndex(`CREATE INDEX a ON b (c) WHERE ${'('.repeat(40)}c = 1${')'.repeat(40)}`).where).toStrictEqual(
      cmp(col('c'), '=', num('1')),
    );
  });

  it('reports the position of the problem', () => {
    expect(() => parseIndex('CREATE INDEX a ON b (c) -- x')).toThrow(/at position 24/);
  });
});

describe('formatIndex', () => {
  it('writes the canonical PocketBase form', () => {
    expect(formatIndex(parseIndex('create unique index i on t (a collate nocase desc)'))).toBe(
      'CREATE UNIQUE INDEX `i` ON `t` (`a` COLLATE NOCASE DESC)',
    );
    expect(formatIndex(parseIndex('CREATE INDEX IF NOT EXISTS i ON t ("a", [b] ASC)'))).toBe(
      'CREATE INDEX `i` ON `t` (\n  `a`,\n  `b` ASC\n)',
    );
    expect(formatIndex(parseIndex("CREATE INDEX i ON t (a) WHERE NOT (a <> 'x''' OR b) AND c == TRUE"))).toBe(
      "CREATE INDEX `i` ON `t` (`a`) WHERE NOT (`a` != 'x''' OR `b`) AND `c` = TRUE",
    );
  });

  it.each(VALID)('round-trips %s', (_name, sql) => {
    const def = parseIndex(sql);
    expect(parseIndex(formatIndex(def))).toStrictEqual(def);
    expect(formatIndex(parseIndex(formatIndex(def)))).toBe(formatIndex(def));
  });

  it('never stores a canonical form that would not parse again', () => {
    // 1000 characters of input whose canonical form grows past the limit once quoted.
    const cols = Array.from({ length: 30 }, (_, i) => `c${String(i).padStart(28, '0')}`);
    const sql = `CREATE INDEX a ON b (${cols.join(',')})`;
    expect(sql.length).toBeLessThanOrEqual(1000);
    expect(() => parseIndex(sql)).toThrow(/canonical form/);
  });
});

describe('renames and lookups', () => {
  const def = parseIndex("CREATE UNIQUE INDEX i ON users (Email COLLATE NOCASE) WHERE email != '' AND other IS NOT NULL");

  it('renames a column everywhere, case-insensitively, without touching the original', () => {
    const renamed = renameIndexColumn(def, 'email', 'mail');
    expect(renamed.columns).toStrictEqual([{ name: 'mail', collate: 'NOCASE' }]);
    expect(formatIndex(renamed)).toBe(
      "CREATE UNIQUE INDEX `i` ON `users` (`mail` COLLATE NOCASE) WHERE `mail` != '' AND `other` IS NOT NULL",
    );
    expect(def.columns[0].name).toBe('Email');
    expect(indexColumnNames(renameIndexColumn(def, 'EMAIL', 'email'))).toStrictEqual(['email', 'other']);
  });

  it('renames the table and keeps the index name', () => {
    const renamed = renameIndexTable(def, 'members');
    expect(renamed).toMatchObject({ name: 'i', table: 'members' });
    expect(def.table).toBe('users');
    expect(() => renameIndexTable(def, 'bad name')).toThrow(IndexSyntaxError);
    expect(() => renameIndexColumn(def, 'email', 'x"; DROP')).toThrow(IndexSyntaxError);
  });

  it('lists referenced columns once, column list first', () => {
    expect(indexColumnNames(def)).toStrictEqual(['Email', 'other']);
    expect(indexColumnNames(parseIndex('CREATE INDEX i ON t (b, a) WHERE NOT (c = a OR d IS NULL)'))).toStrictEqual([
      'b',
      'a',
      'c',
      'd',
    ]);
  });

  it('finds a single-column unique index, ignoring WHERE, and tells NOCASE apart', () => {
    const indexes = [
      parseIndex('CREATE INDEX plain ON users (username)'),
      parseIndex('CREATE UNIQUE INDEX pair ON users (username, email)'),
      parseIndex('CREATE UNIQUE INDEX uname ON users (username)'),
      def,
    ];
    expect(findSingleColumnUniqueIndex(indexes, 'USERNAME')?.name).toBe('uname');
    expect(isNocaseIndex(findSingleColumnUniqueIndex(indexes, 'USERNAME')!)).toBe(false);
    expect(findSingleColumnUniqueIndex(indexes, 'email')).toBe(def);
    expect(isNocaseIndex(def)).toBe(true);
    expect(findSingleColumnUniqueIndex(indexes, 'missing')).toBeUndefined();
  });
});

describe('assertValidIndex', () => {
  const base: IndexDefinition = { name: 'i', unique: false, table: 't', columns: [{ name: 'a' }] };
  it.each<[string, unknown]>([
    ['bad column name', { ...base, columns: [{ name: 'a"); DROP TABLE t; --' }] }],
    ['bad collation', { ...base, columns: [{ name: 'a', collate: 'NOCASE; DROP' }] }],
    ['bad order', { ...base, columns: [{ name: 'a', order: 'DESC, b' }] }],
    ['no columns', { ...base, columns: [] }],
    ['bad number', { ...base, where: cmp(col('a'), '=', num('1; DROP TABLE t')) }],
    ['bad operator', { ...base, where: cmp(col('a'), 'LIKE', num('1')) }],
    ['unknown node', { ...base, where: { kind: 'raw', sql: '1' } }],
    ['one-term AND', { ...base, where: { kind: 'and', terms: [cmp(col('a'), '=', num('1'))] } }],
    ['string with NUL', { ...base, where: cmp(col('a'), '=', str('\u0000')) }],
  ])('rejects a hand-built definition with %s', (_name, def) => {
    expect(() => assertValidIndex(def as IndexDefinition)).toThrow(IndexSyntaxError);
  });
});
