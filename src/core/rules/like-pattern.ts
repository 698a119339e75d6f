/**
 * The pattern of `~` for a literal, exactly as PocketBase builds it: a value without an
 * unescaped `%` is wrapped in `%…%` after escaping its unescaped `\`, `%` and `_` (so `a_b`
 * and `C:\temp` match literally); a value with its own `%` is the caller's pattern, as written.
 */

function containsUnescapedPercent(value: string): boolean {
  let prev = '';
  for (const c of value) {
    if (c === '%' && prev !== '\\') return true;
    // "\\\\" is an escaped backslash: it escapes nothing after it.
    prev = c === '\\' && prev === '\\' ? '' : c;
  }
  return false;
}

/** Escapes `\`, `%` and `_` unless the character before them already escapes them (decided right to left). */
function escapeUnescaped(value: string): string {
  const chars = [...value];
  const out: string[] = [];
  let pending = false;
  for (let i = chars.length - 1; i >= 0; i--) {
    const c = chars[i];
    if (pending) {
      if (c !== '\\') out.push('\\');
      pending = false;
    } else pending = c === '\\' || c === '%' || c === '_';
    out.push(c);
    if (i === 0 && pending) out.push('\\');
  }
  return out.reverse().join('');
}

/** Whether a pattern ends with an escape character that escapes nothing (SQLite: no match). */
export function endsWithDanglingEscape(pattern: string): boolean {
  let count = 0;
  for (let i = pattern.length - 1; i >= 0 && pattern[i] === '\\'; i--) count++;
  return count % 2 === 1;
}

export function likePattern(value: string): string {
  return containsUnescapedPercent(value) ? value : `%${escapeUnescaped(value)}%`;
}
