import { randomFillSync, randomInt } from 'node:crypto';

/** PocketBase's record id alphabet and length (spec §1.1): 15 characters of `[a-z0-9]`. */
export const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
export const ID_LENGTH = 15;
export const ID_PATTERN = /^[a-z0-9]+$/;

// CSPRNG bytes drawn in blocks: one system call per 4 KiB instead of one per id or character.
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomByte(): number {
  if (poolOffset >= pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  return pool[poolOffset++];
}

/** A uniformly random index in [0, n) for n ≤ 256, from the CSPRNG (rejection sampling: no modulo bias). */
export function randomIndex(n: number): number {
  const limit = 256 - (256 % n);
  for (;;) {
    const b = randomByte();
    if (b < limit) return b % n;
  }
}

/** A cryptographically random string over `alphabet` (at most 256 characters), every character equally likely. */
export function randomString(length: number, alphabet: string = ID_ALPHABET): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomIndex(alphabet.length)];
  return out;
}

/** A new record id. */
export function newId(): string {
  return randomString(ID_LENGTH);
}

/**
 * A new id that sorts by creation time: 9 base-36 characters of the millisecond clock, then 6
 * random ones — the record id alphabet and length. Rows keyed by it go to the end of their
 * primary-key index instead of a random page of it: a batch of inserts dirties one or two pages
 * of the index instead of one per row. Not for anything that must be unguessable.
 */
export function newTimeOrderedId(nowMs: number): string {
  const ms = Math.max(0, Math.floor(nowMs));
  // Ids come in bursts within one millisecond: its base-36 text is worked out once.
  if (ms !== lastMs) {
    lastMs = ms;
    lastMsText = ms.toString(36).padStart(9, '0').slice(-9);
  }
  return lastMsText + randomString(ID_LENGTH - 9);
}
let lastMs = -1;
let lastMsText = '';

/** A random integer in [min, max), from the CSPRNG. */
export function secureRandomInt(min: number, max: number): number {
  return randomInt(min, max);
}
