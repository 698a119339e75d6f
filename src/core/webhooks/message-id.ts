/**
 * Webhook message ids (`webhook-id`): `msg_` and a ULID (Crockford base32 of the time in ms, then
 * 80 random bits). Monotonic on a node — ids made in the same millisecond increment the random
 * part — and time-ordered across nodes, so a receiver can order the messages it gets.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

let lastTime = -1;
let lastRandom: number[] = [];

function timePart(ms: number): string {
  let out = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[t % 32] + out;
    t = Math.floor(t / 32);
  }
  return out;
}

function freshRandom(): number[] {
  const bytes = randomBytes(16);
  // 16 base32 digits; the first is kept below 16 so increments have room before overflowing.
  return Array.from({ length: 16 }, (_, i) => (i === 0 ? bytes[i]! % 16 : bytes[i]! % 32));
}

function increment(digits: number[]): number[] {
  const next = [...digits];
  for (let i = next.length - 1; i >= 0; i--) {
    if (next[i]! < 31) {
      next[i]!++;
      return next;
    }
    next[i] = 0;
  }
  return freshRandom();
}

/** A new message id for the time `nowMs` (the clock's), greater than every id this process made before. */
export function newMessageId(nowMs: number): string {
  const ms = Math.max(Math.floor(nowMs), lastTime);
  lastRandom = ms === lastTime ? increment(lastRandom) : freshRandom();
  lastTime = ms;
  return `msg_${timePart(ms)}${lastRandom.map((d) => ALPHABET[d]).join('')}`;
}
