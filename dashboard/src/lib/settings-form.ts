/**
 * What the settings forms need beyond the SDK: lists edited as text, and patches that send a
 * secret only when it was typed (the server never shows a stored one back, and a PATCH without
 * it keeps the stored one).
 */

/** `"a, b\nc"` → `["a", "b", "c"]`: commas or new lines, blanks dropped. */
export function textToList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** The inverse of `textToList` for an input. */
export function listToText(list: readonly string[] | undefined): string {
  return (list ?? []).join(', ');
}

/**
 * `section` with `secretKey` set to `typed` only when something was typed: an empty input means
 * "keep the stored secret", never "erase it".
 */
export function withSecret<T extends object>(section: T, secretKey: string, typed: string): T & Record<string, string> {
  const out = { ...section } as T & Record<string, string>;
  delete (out as Record<string, unknown>)[secretKey];
  if (typed !== '') (out as Record<string, unknown>)[secretKey] = typed;
  return out;
}

/** A whole number from a number input's text (NaN → the server's validation says what is wrong). */
export function toInt(value: string | number): number {
  const n = typeof value === 'number' ? value : Number.parseInt(value, 10);
  return Number.isFinite(n) ? Math.trunc(n) : 0;
}

/** Bytes as people read them: `1.4 MB`. */
export function formatBytes(size: number): string {
  if (!Number.isFinite(size) || size < 0) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let n = size;
  let u = 0;
  while (n >= 1000 && u < units.length - 1) {
    n /= 1000;
    u++;
  }
  return `${u === 0 ? n : n.toFixed(1)} ${units[u]}`;
}
