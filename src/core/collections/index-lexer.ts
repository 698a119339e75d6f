/**
 * The tokenizer behind {@link parseIndex}: turns a PocketBase `CREATE INDEX` string into tokens.
 *
 * It is deliberately narrower than SQLite's own tokenizer. Anything that could carry a second
 * statement or hide text from a reviewer (comments, `;` followed by more text, unknown
 * punctuation, NUL bytes) is rejected here, before the parser sees it, because the parsed
 * definition is the only thing ever rendered back to a database.
 */

/** Thrown for any index string outside the accepted grammar. The message says what to change. */
export class IndexSyntaxError extends Error {
  /** 0-based character offset of the problem in the source string, when known. */
  readonly position: number | undefined;

  constructor(message: string, position?: number) {
    super(position === undefined ? `Invalid index: ${message}.` : `Invalid index: ${message} (at position ${position}).`);
    this.name = 'IndexSyntaxError';
    this.position = position;
  }
}

/** Names of indexes, tables and columns. Anything else is rejected, even when quoted. */
export const INDEX_IDENTIFIER_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Longest accepted index string (raw input and canonical form). */
export const INDEX_MAX_LENGTH = 1000;

/** The kinds of token {@link tokenizeIndex} produces. */
export type IndexTokenType =
  /** A bare word: keyword or unquoted identifier. */
  | 'word'
  /** A quoted identifier; `value` is the unquoted name. Never a keyword. */
  | 'quoted'
  /** A '…' literal; `value` is unescaped. */
  | 'string'
  /** A numeric literal; `value` is the text as written. */
  | 'number'
  /** Punctuation `( ) , ; .` or a comparison operator. */
  | 'symbol';

/** One token of an index string. */
export interface IndexToken {
  type: IndexTokenType;
  value: string;
  /** 0-based offset of the token's first character. */
  pos: number;
}

const OPERATORS = ['==', '!=', '<>', '<=', '>=', '=', '<', '>'];
const CLOSING_QUOTE: Readonly<Record<string, string>> = { '`': '`', '"': '"', '[': ']' };
const WORD_START = /[A-Za-z_]/;
const WORD_CHAR = /[A-Za-z0-9_]/;
// SQLite numeric literal grammar minus hex: `12`, `1.5`, `1.`, `.5`, `1e-3`.
const NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/;

/** Checks an identifier against {@link INDEX_IDENTIFIER_PATTERN}, naming what it is in the error. */
export function assertIndexIdentifier(name: unknown, what = 'identifier', pos?: number): asserts name is string {
  if (typeof name !== 'string' || !INDEX_IDENTIFIER_PATTERN.test(name)) {
    throw new IndexSyntaxError(
      `invalid ${what} ${JSON.stringify(name)}: names must start with a letter or underscore ` +
        'and contain only letters, digits and underscores',
      pos,
    );
  }
}

/** Splits an index string into tokens, rejecting comments and any character outside the grammar. */
export function tokenizeIndex(sql: string): IndexToken[] {
  if (typeof sql !== 'string') throw new IndexSyntaxError('the index must be a string');
  if (sql.length > INDEX_MAX_LENGTH) {
    throw new IndexSyntaxError(`the index is longer than ${INDEX_MAX_LENGTH} characters`);
  }
  // NB: a NUL ends the statement early for SQLite's prepare, and lone surrogates become U+FFFD
  // on the way to the driver; either would make the executed SQL differ from what we parsed.
  const nul = sql.indexOf('\u0000');
  if (nul >= 0) throw new IndexSyntaxError('NUL characters are not allowed', nul);
  const surrogate = /\p{Cs}/u.exec(sql);
  if (surrogate) throw new IndexSyntaxError('invalid Unicode (unpaired surrogate)', surrogate.index);

  const tokens: IndexToken[] = [];
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f') {
      i++;
      continue;
    }
    if ((ch === '-' && sql[i + 1] === '-') || (ch === '/' && sql[i + 1] === '*')) {
      throw new IndexSyntaxError('comments are not allowed', i);
    }
    if (WORD_START.test(ch)) {
      let end = i + 1;
      while (end < sql.length && WORD_CHAR.test(sql[end])) end++;
      if (end < sql.length && /[$\p{L}\p{N}]/u.test(sql[end])) {
        assertIndexIdentifier(sql.slice(i, end + 1), 'identifier', i);
      }
      tokens.push({ type: 'word', value: sql.slice(i, end), pos: i });
      i = end;
      continue;
    }
    if (ch in CLOSING_QUOTE) {
      const end = sql.indexOf(CLOSING_QUOTE[ch], i + 1);
      if (end < 0) throw new IndexSyntaxError(`unterminated quoted identifier ${ch}…`, i);
      const name = sql.slice(i + 1, end);
      assertIndexIdentifier(name, 'identifier', i);
      tokens.push({ type: 'quoted', value: name, pos: i });
      i = end + 1;
      continue;
    }
    if (ch === "'") {
      let value = '';
      let end = i + 1;
      for (;;) {
        if (end >= sql.length) throw new IndexSyntaxError('unterminated string literal', i);
        if (sql[end] === "'") {
          if (sql[end + 1] !== "'") break;
          value += "'";
          end += 2;
        } else {
          value += sql[end++];
        }
      }
      tokens.push({ type: 'string', value, pos: i });
      i = end + 1;
      continue;
    }
    const numberStart = ch === '-' ? i + 1 : i;
    const number = NUMBER.exec(sql.slice(numberStart, numberStart + INDEX_MAX_LENGTH));
    if (number) {
      const end = numberStart + number[0].length;
      if (end < sql.length && /[\w.$]/.test(sql[end])) {
        throw new IndexSyntaxError(`malformed number ${JSON.stringify(sql.slice(i, end + 1))}`, i);
      }
      tokens.push({ type: 'number', value: sql.slice(i, end), pos: i });
      i = end;
      continue;
    }
    const op = OPERATORS.find((candidate) => sql.startsWith(candidate, i));
    if (op) {
      tokens.push({ type: 'symbol', value: op, pos: i });
      i += op.length;
      continue;
    }
    if ('(),;.'.includes(ch)) {
      tokens.push({ type: 'symbol', value: ch, pos: i });
      i++;
      continue;
    }
    throw new IndexSyntaxError(
      `unexpected character ${JSON.stringify(ch)}; only column names with COLLATE and ASC/DESC, ` +
        'and a WHERE clause of comparisons, IS [NOT] NULL, AND, OR and NOT are supported',
      i,
    );
  }
  return tokens;
}
