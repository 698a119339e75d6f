/**
 * The logs screen's logic without markup: the filter sent for "include superuser requests"
 * (PocketBase's toggle leaves out `data.auth = "_superusers"` unless on), level names, and the
 * bars of the requests-per-hour chart as SVG geometry (attributes only: the CSP allows no inline
 * style, so nothing is positioned with CSS).
 */

export interface StatsItem {
  date: string;
  total: number;
}

/** The filter for the list and the stats: the typed one, narrowed unless superusers' requests are wanted. */
export function logsFilter(typed: string, includeSuperusers: boolean): string {
  const parts: string[] = [];
  if (!includeSuperusers) parts.push('data.auth != "_superusers"');
  if (typed.trim() !== '') parts.push(`(${typed.trim()})`);
  return parts.join(' && ');
}

const LEVELS: Record<number, string> = { [-4]: 'DEBUG', 0: 'INFO', 4: 'WARN', 8: 'ERROR' };

/** slog's level as a word (`8` → `ERROR`); an in-between level as its number. */
export function levelName(level: number): string {
  return LEVELS[level] ?? `LEVEL ${level}`;
}

/** An API date (`2026-12-04 22:00:00.000Z`) as epoch milliseconds, NaN when it is none. */
export function parseApiDate(date: string): number {
  return Date.parse(date.includes('T') ? date : date.replace(' ', 'T'));
}

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
  date: string;
  total: number;
}

export interface Chart {
  bars: Bar[];
  /** The largest hourly total (the top of the scale). */
  max: number;
  /** The first and the last hour charted (epoch ms), NaN when there is nothing. */
  from: number;
  to: number;
}

const HOUR = 3_600_000;

/** The chart spans at least a day, so a few busy hours are bars, not one block across the width. */
export const MIN_HOURS = 24;

/**
 * One bar per hour with requests, placed on a time axis from the first hour to the last (an
 * hour without requests is a gap, not a missing slot) — at least `MIN_HOURS` wide, ending at
 * the last hour — scaled to `width` × `height`.
 */
export function chartBars(stats: readonly StatsItem[], width: number, height: number): Chart {
  const points = stats
    .map((s) => ({ date: s.date, total: s.total, t: parseApiDate(s.date) }))
    .filter((p) => Number.isFinite(p.t) && p.total > 0)
    .sort((a, b) => a.t - b.t);
  if (points.length === 0) return { bars: [], max: 0, from: Number.NaN, to: Number.NaN };
  const to = points[points.length - 1]!.t;
  const from = Math.min(points[0]!.t, to - (MIN_HOURS - 1) * HOUR);
  const slots = Math.round((to - from) / HOUR) + 1;
  const slot = width / slots;
  const max = Math.max(...points.map((p) => p.total));
  const bars = points.map((p) => {
    const h = Math.max(1, (p.total / max) * height);
    const i = Math.round((p.t - from) / HOUR);
    const gap = slot > 4 ? 1 : 0;
    return { x: i * slot + gap / 2, y: height - h, width: Math.max(1, slot - gap), height: h, date: p.date, total: p.total };
  });
  return { bars, max, from, to };
}
