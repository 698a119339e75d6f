/**
 * A bound on the keys of a JSON body, checked on the text before it is parsed. `JSON.parse` of
 * an object with a million keys takes seconds on the event loop (V8 builds it as a slow
 * dictionary: 2.4 s measured for an 11 MiB body), so counting after parsing is too late. The
 * scan is one pass over the characters (≈4 ms per MiB) and stops at the first object over the
 * limit; real bodies, record fields included, are far below it.
 */
import { badRequest, fieldError, MESSAGES } from '../core/errors.js';

/** Keys one JSON object may have (an object of 10,000 keys parses in ≈8 ms). */
export const MAX_KEYS_PER_OBJECT = 10_000;
/** Keys the whole body may have, nested objects included. */
export const MAX_KEYS_PER_BODY = 200_000;

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;
const OPEN = 123;
const CLOSE = 125;

function tooManyKeys(message: string): never {
  throw badRequest(MESSAGES.tooManyBodyKeys, { '': fieldError('validation_too_many_keys', message) });
}

/** Throws a 400 when an object of `text` (well-formed or not) has too many keys. */
export function assertJsonKeyLimits(text: string, perObject = MAX_KEYS_PER_OBJECT, perBody = MAX_KEYS_PER_BODY): void {
  // Fewer colons than the smallest limit: nothing to count (the common case, one indexOf pass).
  let colons = 0;
  for (let i = text.indexOf(':'); i !== -1 && colons <= perObject; i = text.indexOf(':', i + 1)) colons++;
  if (colons <= perObject) return;
  const counts: number[] = [];
  let total = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN) counts.push(0);
    else if (c === CLOSE) counts.pop();
    else if (c === COLON && counts.length > 0) {
      if (++counts[counts.length - 1] > perObject) tooManyKeys(`An object may have at most ${perObject} keys.`);
      if (++total > perBody) tooManyKeys(`A body may have at most ${perBody} keys in all.`);
    }
  }
}
