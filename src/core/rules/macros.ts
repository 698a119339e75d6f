/** Date macros of the filter language (spec §2.1), all in UTC, computed once per compilation. */
import { formatDate } from '../time.js';
import type { LiteralValue } from './operand.js';

const DAY = 86_400_000;

function utc(y: number, m: number, d: number, h = 0, mi = 0, s = 0, ms = 0): Date {
  return new Date(Date.UTC(y, m, d, h, mi, s, ms));
}

export function macroValue(name: string, now: Date): LiteralValue | undefined {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  switch (name) {
    case '@now':
      return formatDate(now);
    case '@yesterday':
      return formatDate(new Date(now.getTime() - DAY));
    case '@tomorrow':
      return formatDate(new Date(now.getTime() + DAY));
    case '@second':
      return now.getUTCSeconds();
    case '@minute':
      return now.getUTCMinutes();
    case '@hour':
      return now.getUTCHours();
    case '@day':
      return d;
    case '@month':
      return m + 1;
    case '@weekday':
      return now.getUTCDay();
    case '@year':
      return y;
    case '@todayStart':
      return formatDate(utc(y, m, d));
    case '@todayEnd':
      return formatDate(utc(y, m, d, 23, 59, 59, 999));
    case '@monthStart':
      return formatDate(utc(y, m, 1));
    case '@monthEnd':
      return formatDate(utc(y, m + 1, 0, 23, 59, 59, 999));
    case '@yearStart':
      return formatDate(utc(y, 0, 1));
    case '@yearEnd':
      return formatDate(utc(y, 11, 31, 23, 59, 59, 999));
    default:
      return undefined;
  }
}
