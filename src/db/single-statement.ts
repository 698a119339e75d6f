/**
 * A lexical check that a superuser's view query is one SELECT statement. It understands the
 * parts of SQL where a `;` does not end a statement (quoted strings and identifiers, PostgreSQL
 * dollar quotes and E'' strings, line and block comments), so `SELECT 1; DROP TABLE x` is
 * refused before any engine sees it, whatever protocol the driver uses.
 */

export class StatementError extends Error {}

interface Scan {
  firstWord: string;
  hasInnerSemicolon: boolean;
  /** The SQL with comments and string literals blanked out (quoted identifiers kept). */
  code: string;
}

/** Lexes the statement (see the header), or throws StatementError. */
function scan(sql: string): Scan {
  const masked = sql.split('');
  const blank = (from: number, to: number) => {
    for (let k = from; k < to && k < masked.length; k++) masked[k] = ' ';
  };
  let i = 0;
  let firstWord = '';
  let sawCode = false;
  let semicolonAt = -1;
  const n = sql.length;
  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      blank(i, end === -1 ? n : end);
      i = end === -1 ? n : end + 1;
      continue;
    }
    if (c === '/' && next === '*') {
      // PostgreSQL block comments nest; SQLite's do not, but nesting-aware scanning is stricter.
      const start = i;
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      if (depth > 0) throw new StatementError('unterminated comment');
      blank(start, i);
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (semicolonAt !== -1) return { firstWord, hasInnerSemicolon: true, code: masked.join('') };
    if (c === ';') {
      semicolonAt = i;
      i++;
      continue;
    }
    if (!sawCode) {
      const m = /^[A-Za-z]+/.exec(sql.slice(i));
      firstWord = m ? m[0].toUpperCase() : '';
      sawCode = true;
    }
    if (c === "'" || c === '"' || c === '`') {
      const start = i;
      const backslashEscapes = c === "'" && (sql[i - 1] === 'E' || sql[i - 1] === 'e') && !/\w/.test(sql[i - 2] ?? '');
      i++;
      while (true) {
        if (i >= n) throw new StatementError('unterminated quoted text');
        if (backslashEscapes && sql[i] === '\\') {
          i += 2;
          continue;
        }
        if (sql[i] === c) {
          if (sql[i + 1] === c) {
            i += 2;
            continue;
          }
          i++;
          break;
        }
        i++;
      }
      if (c === "'") blank(start, i);
      continue;
    }
    if (c === '[') {
      const end = sql.indexOf(']', i);
      if (end === -1) throw new StatementError('unterminated [identifier]');
      i = end + 1;
      continue;
    }
    // `a$q$` is an identifier in PostgreSQL: `$` opens a dollar quote only after a non-word character.
    if (c === '$' && !/[A-Za-z0-9_$]/.test(sql[i - 1] ?? '')) {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (m) {
        const end = sql.indexOf(m[0], i + m[0].length);
        if (end === -1) throw new StatementError('unterminated dollar-quoted text');
        blank(i, end + m[0].length);
        i = end + m[0].length;
        continue;
      }
    }
    i++;
  }
  return { firstWord, hasInnerSemicolon: false, code: masked.join('') };
}

/**
 * Names of the functions a statement calls (`name(` or `"name"(`, schema qualifiers dropped),
 * lower-cased unless quoted. Keywords that take parentheses (IN, EXISTS…) are included: callers
 * look names up in the engine's catalogue.
 */
export function calledFunctions(sql: string): string[] {
  const { code } = scan(sql);
  const names = new Set<string>();
  for (const m of code.matchAll(/("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)\s*\(/g)) {
    const raw = m[1];
    names.add(raw.startsWith('"') ? raw.slice(1, -1).replaceAll('""', '"') : raw.toLowerCase());
  }
  return [...names];
}

/** Throws StatementError unless `sql` is a single SELECT (or WITH … SELECT) statement. */
export function assertSingleSelect(sql: string): string {
  const { firstWord, hasInnerSemicolon } = scan(sql);
  if (hasInnerSemicolon) throw new StatementError('only one statement is allowed');
  if (firstWord !== 'SELECT' && firstWord !== 'WITH') throw new StatementError('the query must be a SELECT statement');
  // Drop a trailing semicolon so the statement can be embedded (CREATE VIEW … AS <select>).
  return sql.trim().replace(/;\s*$/, '').trimEnd();
}

/** Statements that would end or nest the transaction the SQL console runs its statement in. */
const TRANSACTION_CONTROL = new Set(['BEGIN', 'START', 'COMMIT', 'END', 'ROLLBACK', 'ABORT', 'SAVEPOINT', 'RELEASE', 'PREPARE']);

/**
 * The SQL console's check (core/sql-console): one statement (a trailing `;` allowed), not a
 * transaction-control one. Returns its first keyword, upper-cased.
 */
export function assertConsoleStatement(sql: string): string {
  const { firstWord, hasInnerSemicolon } = scan(sql);
  if (hasInnerSemicolon) throw new StatementError('only one statement is allowed');
  if (TRANSACTION_CONTROL.has(firstWord)) throw new StatementError(`${firstWord} cannot be run from the console: each statement runs in a transaction of its own`);
  return firstWord;
}
