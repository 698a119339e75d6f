/**
 * A lexical check that a superuser's view query is one SELECT statement. It understands the
 * parts of SQL where a `;` does not end a statement (quoted strings and identifiers, PostgreSQL
 * dollar quotes and E'' strings, line and block comments), so `SELECT 1; DROP TABLE x` is
 * refused before any engine sees it, whatever protocol the driver uses.
 */

export class StatementError extends Error {}

/** The SQL without comments (kept byte-for-byte otherwise), or a StatementError. */
function scan(sql: string): { firstWord: string; hasInnerSemicolon: boolean } {
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
      i = end === -1 ? n : end + 1;
      continue;
    }
    if (c === '/' && next === '*') {
      // PostgreSQL block comments nest; SQLite's do not, but nesting-aware scanning is stricter.
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
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (semicolonAt !== -1) return { firstWord, hasInnerSemicolon: true };
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
      continue;
    }
    if (c === '[') {
      const end = sql.indexOf(']', i);
      if (end === -1) throw new StatementError('unterminated [identifier]');
      i = end + 1;
      continue;
    }
    if (c === '$') {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (m) {
        const end = sql.indexOf(m[0], i + m[0].length);
        if (end === -1) throw new StatementError('unterminated dollar-quoted text');
        i = end + m[0].length;
        continue;
      }
    }
    i++;
  }
  return { firstWord, hasInnerSemicolon: false };
}

/** Throws StatementError unless `sql` is a single SELECT (or WITH … SELECT) statement. */
export function assertSingleSelect(sql: string): string {
  const { firstWord, hasInnerSemicolon } = scan(sql);
  if (hasInnerSemicolon) throw new StatementError('only one statement is allowed');
  if (firstWord !== 'SELECT' && firstWord !== 'WITH') throw new StatementError('the query must be a SELECT statement');
  // Drop a trailing semicolon so the statement can be embedded (CREATE VIEW … AS <select>).
  return sql.trim().replace(/;\s*$/, '').trimEnd();
}
