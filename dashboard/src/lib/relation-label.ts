/**
 * How a related record shows in a grid cell: by a telling value (a name, title, email…) rather
 * than its id, as PocketBase's dashboard shows expanded relations. The grid has the related
 * record (`expand`), not its collection's schema, so the value is picked by the usual names.
 */
const TELLING = ['name', 'title', 'label', 'username', 'email', 'slug', 'code'];
const SYSTEM = new Set(['id', 'collectionId', 'collectionName', 'created', 'updated', 'expand', 'tokenKey', 'password']);

export function relationLabel(record: unknown): string {
  if (record === null || typeof record !== 'object') return '';
  const r = record as Record<string, unknown>;
  for (const key of TELLING) {
    const v = r[key];
    if (typeof v === 'string' && v !== '') return v;
  }
  for (const [key, v] of Object.entries(r)) {
    if (!SYSTEM.has(key) && typeof v === 'string' && v !== '' && v.length <= 80) return v;
  }
  return typeof r['id'] === 'string' ? r['id'] : '';
}

/** The labels of a relation cell: its expanded record(s), or the bare ids when not expanded. */
export function relationLabels(value: unknown, expanded: unknown): string[] {
  const list = Array.isArray(expanded) ? expanded : expanded ? [expanded] : [];
  if (list.length > 0) return list.map(relationLabel).filter((l) => l !== '');
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v !== '');
  return typeof value === 'string' && value !== '' ? [value] : [];
}
