/** Durations of a transition's `after`: "30s", "30m", "48h", "7d", or combined ("1d12h"). */

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** Ten years: a longer timer is a typo, not a business rule. */
const MAX_MS = 3660 * UNIT_MS.d;

/** Milliseconds, or null when `text` is not a positive duration of at most {@link MAX_MS}. */
export function parseDuration(text: string): number | null {
  if (!/^(\d{1,7}[smhd])+$/.test(text)) return null;
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([smhd])/g)) ms += Number(n) * UNIT_MS[unit!]!;
  return ms > 0 && ms <= MAX_MS ? ms : null;
}
