/**
 * Example values of a collection's fields, for the API preview: what a record of it looks like
 * in a response, and what a create or update body sends. Plain data from the collection's
 * schema (its field types and options), so the examples follow the collection as it is.
 */

/** The few parts of a field the examples read (the SDK's `CollectionField` is looser). */
export interface ExampleField {
  name: string;
  type: string;
  hidden?: boolean;
  required?: boolean;
  system?: boolean;
  primaryKey?: boolean;
  maxSelect?: number;
  values?: string[];
}

export interface ExampleCollection {
  id: string;
  name: string;
  type: string;
  fields: ExampleField[];
}

const multiple = (f: ExampleField): boolean => (f.maxSelect ?? 1) > 1;

/** One field's example value as the API returns it. */
export function exampleValue(f: ExampleField): unknown {
  switch (f.type) {
    case 'text':
      return f.primaryKey ? 'RECORD_ID' : 'test';
    case 'editor':
      return '<p>test</p>';
    case 'number':
      return 123;
    case 'bool':
      return true;
    case 'email':
      return 'test@example.com';
    case 'url':
      return 'https://example.com';
    case 'date':
    case 'autodate':
      return '2022-01-01 10:00:00.123Z';
    case 'select': {
      const first = f.values?.[0] ?? 'option';
      return multiple(f) ? [first] : first;
    }
    case 'file':
      return multiple(f) ? ['filename.jpg'] : 'filename.jpg';
    case 'relation':
      return multiple(f) ? ['RELATION_RECORD_ID'] : 'RELATION_RECORD_ID';
    case 'json':
      return 'JSON';
    case 'geoPoint':
      return { lon: 0, lat: 0 };
    case 'password':
      return 'Secret-Password-1';
    default:
      return 'test';
  }
}

/** A record of the collection as a response shows it: hidden fields and passwords left out. */
export function exampleRecord(c: ExampleCollection): Record<string, unknown> {
  const record: Record<string, unknown> = { collectionId: c.id, collectionName: c.name };
  for (const f of c.fields) {
    if (f.hidden || f.type === 'password') continue;
    record[f.name] = exampleValue(f);
  }
  return record;
}

/**
 * The body of a create (or update): every field a client sets, none the server fills (the id,
 * autodates, an auth record's token key). An auth collection's password goes with its
 * confirmation, as the API asks.
 */
export function exampleBody(c: ExampleCollection, forUpdate = false): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const f of c.fields) {
    if (f.primaryKey || f.type === 'autodate' || f.name === 'tokenKey') continue;
    if (f.type === 'file') continue; // files go as multipart parts (see fileFields)
    if (f.type === 'password') {
      if (forUpdate) continue; // changing it asks for oldPassword too: not a typical update
      body[f.name] = exampleValue(f);
      body[`${f.name}Confirm`] = exampleValue(f);
      continue;
    }
    body[f.name] = f.type === 'json' ? { key: 'value' } : exampleValue(f);
  }
  return body;
}

/** The file fields a create or update sends as multipart parts. */
export function fileFields(c: ExampleCollection): ExampleField[] {
  return c.fields.filter((f) => f.type === 'file');
}

/**
 * A filter of the list example that works on this collection: the first plain text field
 * compared with an empty string, else the id (every collection has one).
 */
export function exampleFilter(c: ExampleCollection): string {
  const text = c.fields.find((f) => f.type === 'text' && !f.primaryKey && !f.hidden);
  return text ? `${text.name} != ""` : 'id != ""';
}

/** A sort of the list example: newest first where the collection has `created`, else by id. */
export function exampleSort(c: ExampleCollection): string {
  return c.fields.some((f) => f.name === 'created' && !f.hidden) ? '-created' : '-id';
}

export interface ParamDoc {
  name: string;
  type: string;
  description: string;
}

const TYPE_OF: Record<string, string> = {
  text: 'String', editor: 'String (HTML)', number: 'Number', bool: 'Boolean', email: 'String (email)',
  url: 'String (URL)', date: 'String (date)', select: 'String', file: 'File', relation: 'String (record id)',
  json: 'JSON', geoPoint: '{lon, lat}', password: 'String',
};

/** The body's fields as a table: name, type (a list where several values are allowed), required or not. */
export function bodyParams(c: ExampleCollection, forUpdate = false): ParamDoc[] {
  const out: ParamDoc[] = [];
  for (const f of c.fields) {
    if (f.type === 'autodate' || f.name === 'tokenKey' || (forUpdate && f.primaryKey)) continue;
    if (forUpdate && f.type === 'password') continue;
    const base = TYPE_OF[f.type] ?? 'String';
    const type = (f.type === 'select' || f.type === 'file' || f.type === 'relation') && multiple(f) ? `Array<${base}>` : base;
    const required = f.required && !forUpdate && !f.primaryKey;
    const what = f.primaryKey ? 'Optional: 15 characters a-z0-9, made by the server when left out.' : required ? 'Required.' : 'Optional.';
    out.push({ name: f.name, type, description: what });
    if (f.type === 'password') out.push({ name: `${f.name}Confirm`, type: 'String', description: `Required: the same as ${f.name}.` });
  }
  return out;
}
