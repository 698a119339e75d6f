import { randomBytes, randomInt } from 'node:crypto';

/** PocketBase's record id alphabet and length (spec §1.1): 15 characters of `[a-z0-9]`. */
export const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
export const ID_LENGTH = 15;
export const ID_PATTERN = /^[a-z0-9]+$/;

/**
 * A cryptographically random string over `alphabet`. Rejection sampling keeps every character
 * equally likely (a plain `byte % n` would favour the first characters).
 */
export function randomString(length: number, alphabet: string = ID_ALPHABET): string {
  const n = alphabet.length;
  const limit = 256 - (256 % n);
  let out = '';
  while (out.length < length) {
    const bytes = randomBytes(length * 2);
    for (let i = 0; i < bytes.length && out.length < length; i++) {
      if (bytes[i] < limit) out += alphabet[bytes[i] % n];
    }
  }
  return out;
}

/** A new record id. */
export function newId(): string {
  return randomString(ID_LENGTH);
}

/** A random integer in [min, max), from the CSPRNG. */
export function secureRandomInt(min: number, max: number): number {
  return randomInt(min, max);
}
