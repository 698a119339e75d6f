/**
 * Dates travel as `YYYY-MM-DD HH:MM:SS.sssZ` strings in UTC (spec §1.1), never ISO with a `T`.
 * Stored the same way on every engine, so string comparison orders them correctly.
 */

/** The last second formatted, as `YYYY-MM-DD HH:MM:SS.`: dates come in bursts of the same second. */
let cachedSecond = Number.NaN;
let cachedPrefix = '';
/** Years 0000–9999 (ISO's four-digit years: the prefix has a fixed length). */
const FOUR_DIGIT_YEARS_END = 253402300800000;

/** Formats a date as `2024-01-31 12:00:00.123Z`. */
export function formatDate(date: Date): string {
  const ms = date.getTime();
  if (!(ms >= 0 && ms < FOUR_DIGIT_YEARS_END)) return date.toISOString().replace('T', ' ');
  // toISOString and its replace cost ~0.4 µs; every stored row and log entry formats a date.
  const second = Math.floor(ms / 1000);
  if (second !== cachedSecond) {
    cachedPrefix = date.toISOString().slice(0, 20).replace('T', ' ');
    cachedSecond = second;
  }
  const millis = ms - second * 1000;
  return `${cachedPrefix}${millis < 10 ? '00' : millis < 100 ? '0' : ''}${millis}Z`;
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Parses what clients send for a date: the API format, ISO 8601 (with `T`, offsets or without a
 * zone, which means UTC), a bare `YYYY-MM-DD`, a Date, or a Unix timestamp in seconds.
 * Returns null when the value is not a date.
 */
export function parseDate(value: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return null;
    const d = new Date(value * 1000);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (DATE_ONLY.test(text)) {
    const d = new Date(text + 'T00:00:00.000Z');
    return Number.isNaN(d.getTime()) ? null : d;
  }
  const m = DATE_TIME.exec(text);
  if (!m) return null;
  let time = m[2];
  if (time.length === 5) time += ':00';
  // JS Date keeps milliseconds only: trim longer fractions instead of rejecting them.
  time = time.replace(/(\.\d{3})\d+$/, '$1');
  let zone = m[3] ?? 'Z';
  if (/^[+-]\d{4}$/.test(zone)) zone = zone.slice(0, 3) + ':' + zone.slice(3);
  const d = new Date(`${m[1]}T${time}${zone.toUpperCase() === 'Z' ? 'Z' : zone}`);
  if (Number.isNaN(d.getTime())) return null;
  // Reject impossible calendar dates that JS would roll over (2024-02-30 → March 1st).
  if (zone.toUpperCase() === 'Z' && d.toISOString().slice(0, 10) !== m[1]) return null;
  return d;
}

/** Normalises a submitted date to the API format; '' for empty input, null when invalid. */
export function normalizeDate(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return '';
  const d = parseDate(value);
  return d ? formatDate(d) : null;
}
