/**
 * Which columns of a collection's grid are hidden, remembered per collection (by id, so a rename
 * keeps it) in the browser's storage. Hidden rather than shown: a field added later shows up.
 */
const PREFIX = 'basalt.columns.';

/** The part of `localStorage` used (a plain object in tests). */
interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export function loadHiddenColumns(storage: KeyValueStore, collectionId: string): string[] {
  try {
    const parsed: unknown = JSON.parse(storage.getItem(PREFIX + collectionId) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

export function saveHiddenColumns(storage: KeyValueStore, collectionId: string, hidden: string[]): void {
  try {
    if (hidden.length === 0) storage.removeItem(PREFIX + collectionId);
    else storage.setItem(PREFIX + collectionId, JSON.stringify([...new Set(hidden)].sort()));
  } catch {
    // Storage full or refused (private mode): the choice lasts for this page only.
  }
}

/** The grid's columns: the collection's, less the hidden ones (`id` always stays: rows need it). */
export function visibleColumns(all: string[], hidden: string[]): string[] {
  const set = new Set(hidden);
  return all.filter((c) => c === 'id' || !set.has(c));
}
