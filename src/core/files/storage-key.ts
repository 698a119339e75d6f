/**
 * Storage keys are built by core from sanitised names, but every FileStorage implementation
 * checks them again: a key can never climb out of the storage root, whatever produced it.
 */
/** `.`, `..` and every dot-name: those are the storage implementations' own (temporary files). */
const BAD_SEGMENT = /^\./;

export function isSafeStorageKey(key: string): boolean {
  if (key === '' || key.length > 1024 || key.includes('\\') || key.includes('\0')) return false;
  return key.split('/').every((segment) => segment !== '' && !BAD_SEGMENT.test(segment));
}

export function assertStorageKey(key: string): void {
  if (!isSafeStorageKey(key)) throw new Error(`unsafe storage key ${JSON.stringify(key)}`);
}
