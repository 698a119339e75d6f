/**
 * Number ↔ text conversions shared by the engines so that `CAST` means the same everywhere:
 * PostgreSQL's float8 output (shortest round-trip digits; scientific notation below 1e-4 and
 * from 1e15, with a two-digit exponent: `1e+15`, `1e-05`) and a strict decimal parser (no hex,
 * no `Infinity`, no partial parse).
 */

/** The text PostgreSQL prints for a float8. */
export function numberToText(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? 'Infinity' : '-Infinity';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const [mantissa, exp] = n.toExponential().split('e');
  const exponent = Number(exp);
  if (exponent < -4 || exponent >= 15) {
    const sign = exponent < 0 ? '-' : '+';
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return String(n);
}

/** Plain decimal numbers only, bounded so that every match fits a float8. */
export const DECIMAL_TEXT = /^\s*[-+]?(\d{1,100}(\.\d{0,100})?|\.\d{1,100})([eE][-+]?\d{1,2})?\s*$/;

export function textToNumber(text: string): number | null {
  if (!DECIMAL_TEXT.test(text)) return null;
  const n = Number(text.trim());
  return Number.isFinite(n) ? n : null;
}

/** The same pattern, as a POSIX regular expression for PostgreSQL's `~`. */
export const DECIMAL_TEXT_POSIX = '^\\s*[-+]?([0-9]{1,100}(\\.[0-9]{0,100})?|\\.[0-9]{1,100})([eE][-+]?[0-9]{1,2})?\\s*$';
