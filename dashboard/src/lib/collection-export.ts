/**
 * Collections as JSON, PocketBase's export format (an array of collections, without the
 * created/updated stamps), and the differences an import would make, for its preview.
 */

type Json = Record<string, unknown>;

/** The export of `collections`: what `PUT /api/collections/import` takes back. */
export function exportJson(collections: readonly object[]): string {
  const list = collections.map((c) => {
    const { created: _c, updated: _u, ...rest } = c as Json;
    return rest;
  });
  return JSON.stringify(list, null, 2);
}

export interface CollectionChange {
  kind: 'create' | 'update' | 'delete';
  name: string;
  /** For updates: the top-level keys that differ, fields by name (`fields: +tags −old ~title`). */
  details: string[];
}

const stable = (v: unknown): string => JSON.stringify(v, (_k, value: unknown) => (value && typeof value === 'object' && !Array.isArray(value) ? Object.fromEntries(Object.entries(value as Json).sort(([a], [b]) => a.localeCompare(b))) : value));

/**
 * What importing `incoming` over `current` changes: collections matched by id (else name),
 * created, updated (with what differs) or — with `deleteMissing` — deleted.
 */
export function importDiff(current: readonly Json[], incoming: readonly Json[], deleteMissing: boolean): CollectionChange[] {
  const changes: CollectionChange[] = [];
  const matched = new Set<Json>();
  for (const next of incoming) {
    const prev = current.find((c) => next.id !== undefined && next.id !== '' && c.id === next.id) ?? current.find((c) => c.name === next.name);
    const name = String(next.name ?? next.id ?? '?');
    if (!prev) {
      changes.push({ kind: 'create', name, details: [] });
      continue;
    }
    matched.add(prev);
    const details: string[] = [];
    for (const key of new Set([...Object.keys(prev), ...Object.keys(next)])) {
      if (key === 'created' || key === 'updated' || key === 'fields' || !(key in next)) continue;
      if (stable(prev[key]) !== stable(next[key])) details.push(key);
    }
    const prevFields = (Array.isArray(prev.fields) ? prev.fields : []) as Json[];
    const nextFields = (Array.isArray(next.fields) ? next.fields : []) as Json[];
    const fieldNotes: string[] = [];
    for (const f of nextFields) {
      const old = prevFields.find((p) => (f.id !== undefined && p.id === f.id) || p.name === f.name);
      if (!old) fieldNotes.push(`+${String(f.name)}`);
      else if (stable(old) !== stable(f)) fieldNotes.push(old.name !== f.name ? `${String(old.name)}→${String(f.name)}` : `~${String(f.name)}`);
    }
    for (const p of prevFields) if (!nextFields.some((f) => (f.id !== undefined && p.id === f.id) || p.name === f.name)) fieldNotes.push(`−${String(p.name)}`);
    if (fieldNotes.length > 0) details.push(`fields: ${fieldNotes.join(' ')}`);
    if (details.length > 0) changes.push({ kind: 'update', name, details });
  }
  if (deleteMissing) for (const c of current) if (!matched.has(c) && c.system !== true) changes.push({ kind: 'delete', name: String(c.name), details: [] });
  return changes;
}

/** The collections of an import file, or why it is not one. */
export function parseImport(text: string): { collections: Json[] } | { error: string } {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return { error: `Not JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
  if (!Array.isArray(data) || data.some((c) => c === null || typeof c !== 'object' || Array.isArray(c))) return { error: 'Expected an array of collections.' };
  if (data.some((c) => typeof (c as Json).name !== 'string' || (c as Json).name === '')) return { error: 'Every collection needs a name.' };
  return { collections: data as Json[] };
}
