/**
 * Webhook message ids (`webhook-id`): `msg_` and a ULID (Crockford base32 of the time in ms, then
 * 80 random bits). Monotonic on a node — ids made in the same millisecond increment the random
 * part — and time-ordered across nodes, so a receiver can order the messages it gets.
 */
import { randomIndex } from '../ids.js';

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
  // 16 base32 digits from the CSPRNG pool; the first is kept below 16 so increments have room before overflowing.
  const digits = new Array<number>(16);
  digits[0] = randomIndex(16);
  for (let i = 1; i < 16; i++) digits[i] = randomIndex(32);
  return digits;
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
