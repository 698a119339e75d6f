/**
 * Password hashing: bcrypt, as PocketBase uses (so PocketBase data imports verify as is), run
 * on libuv's thread pool so hashing never blocks the event loop. Cost 10 by default: ~55 ms per
 * hash on the 2-core reference machine, the OWASP minimum for bcrypt; a field's `cost` option
 * raises it.
 */
import bcrypt from 'bcrypt';
import { DEFAULT_PASSWORD_COST } from '../collections/fields/password-field.js';

const BCRYPT_HASH = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

// A fixed hash to compare against when the account does not exist, so a wrong identity costs
// the same time as a wrong password (no account enumeration through timing).
let dummyHash: string | null = null;

export async function hashPassword(plain: string, cost = DEFAULT_PASSWORD_COST): Promise<string> {
  return bcrypt.hash(plain, cost || DEFAULT_PASSWORD_COST);
}

/** Constant-time check of `plain` against a stored bcrypt hash; false for anything malformed. */
export async function verifyPassword(plain: string, hash: string | null | undefined): Promise<boolean> {
  if (!hash || !BCRYPT_HASH.test(hash)) {
    dummyHash ??= await bcrypt.hash('basalt-dummy-password', DEFAULT_PASSWORD_COST);
    await bcrypt.compare(plain, dummyHash);
    return false;
  }
  // $2y$ (PHP) is the same algorithm as $2b$.
  return bcrypt.compare(plain, hash.startsWith('$2y$') ? '$2b$' + hash.slice(4) : hash);
}
