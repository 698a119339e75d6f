/**
 * The field types a collection may have and the options each one takes, as data: the field
 * editor renders an option from its kind, so a new option is a line here, not new markup.
 * Names, defaults and meanings follow PocketBase (and Basalt's `core/collections/fields/`).
 */

/** How an option is edited. `list`: strings, typed comma-separated; `collection`: a collection's id. */
export type OptionKind = 'text' | 'number' | 'optionalNumber' | 'bool' | 'list' | 'collection' | 'date';

export interface OptionSpec {
  readonly key: string;
  readonly label: string;
  readonly kind: OptionKind;
  readonly hint?: string;
}

export interface FieldTypeSpec {
  readonly type: string;
  readonly label: string;
  /** Options with their defaults (flat, next to `name` and `type`, as the API has them). */
  readonly defaults: Readonly<Record<string, unknown>>;
  readonly options: readonly OptionSpec[];
  /** Only auth collections have it (password). */
  readonly authOnly?: boolean;
}

const domains = (): OptionSpec[] => [
  { key: 'onlyDomains', label: 'Only domains', kind: 'list', hint: 'Comma-separated; empty for any.' },
  { key: 'exceptDomains', label: 'Except domains', kind: 'list', hint: 'Comma-separated.' },
];

export const FIELD_TYPES: readonly FieldTypeSpec[] = [
  {
    type: 'text',
    label: 'Plain text',
    defaults: { required: false, min: 0, max: 0, pattern: '', autogeneratePattern: '', primaryKey: false },
    options: [
      { key: 'min', label: 'Min length', kind: 'number' },
      { key: 'max', label: 'Max length', kind: 'number', hint: '0 for the default (5000).' },
      { key: 'pattern', label: 'Validation pattern', kind: 'text', hint: 'A regular expression, e.g. ^[a-z0-9]+$' },
      { key: 'autogeneratePattern', label: 'Autogenerate pattern', kind: 'text', hint: 'e.g. [a-z0-9]{30}' },
    ],
  },
  {
    type: 'editor',
    label: 'Rich editor',
    defaults: { required: false, maxSize: 0, convertURLs: false },
    options: [
      { key: 'maxSize', label: 'Max size (bytes)', kind: 'number', hint: '0 for the default.' },
      { key: 'convertURLs', label: 'Convert URLs to relative ones', kind: 'bool' },
    ],
  },
  {
    type: 'number',
    label: 'Number',
    defaults: { required: false, min: null, max: null, onlyInt: false },
    options: [
      { key: 'min', label: 'Min', kind: 'optionalNumber' },
      { key: 'max', label: 'Max', kind: 'optionalNumber' },
      { key: 'onlyInt', label: 'No decimals', kind: 'bool' },
    ],
  },
  { type: 'bool', label: 'Bool', defaults: { required: false }, options: [] },
  { type: 'email', label: 'Email', defaults: { required: false, exceptDomains: null, onlyDomains: null }, options: domains() },
  { type: 'url', label: 'URL', defaults: { required: false, exceptDomains: null, onlyDomains: null }, options: domains() },
  {
    type: 'date',
    label: 'DateTime',
    defaults: { required: false, min: '', max: '' },
    options: [
      { key: 'min', label: 'Min date', kind: 'date', hint: 'e.g. 2025-01-01 00:00:00.000Z' },
      { key: 'max', label: 'Max date', kind: 'date' },
    ],
  },
  {
    type: 'autodate',
    label: 'Autodate',
    defaults: { onCreate: true, onUpdate: false },
    options: [
      { key: 'onCreate', label: 'Set on create', kind: 'bool' },
      { key: 'onUpdate', label: 'Set on update', kind: 'bool' },
    ],
  },
  {
    type: 'select',
    label: 'Select',
    defaults: { required: false, maxSelect: 1, values: [] },
    options: [
      { key: 'values', label: 'Choices', kind: 'list', hint: 'Comma-separated.' },
      { key: 'maxSelect', label: 'Max select', kind: 'number', hint: 'More than 1 makes it a multiple select.' },
    ],
  },
  {
    type: 'file',
    label: 'File',
    defaults: { required: false, maxSelect: 1, maxSize: 0, mimeTypes: [], thumbs: [], protected: false },
    options: [
      { key: 'maxSelect', label: 'Max files', kind: 'number' },
      { key: 'maxSize', label: 'Max size (bytes)', kind: 'number', hint: '0 for the default (5 MB).' },
      { key: 'mimeTypes', label: 'Allowed MIME types', kind: 'list', hint: 'Comma-separated, e.g. image/png, image/jpeg' },
      { key: 'thumbs', label: 'Thumb sizes', kind: 'list', hint: 'Comma-separated, e.g. 100x100, 0x300' },
      { key: 'protected', label: 'Protected (files need a file token)', kind: 'bool' },
    ],
  },
  {
    type: 'relation',
    label: 'Relation',
    defaults: { required: false, collectionId: '', cascadeDelete: false, minSelect: 0, maxSelect: 1 },
    options: [
      { key: 'collectionId', label: 'Collection', kind: 'collection' },
      { key: 'minSelect', label: 'Min select', kind: 'number' },
      { key: 'maxSelect', label: 'Max select', kind: 'number', hint: 'More than 1 makes it a multiple relation.' },
      { key: 'cascadeDelete', label: 'Cascade delete', kind: 'bool' },
    ],
  },
  {
    type: 'json',
    label: 'JSON',
    defaults: { required: false, maxSize: 0 },
    options: [{ key: 'maxSize', label: 'Max size (bytes)', kind: 'number', hint: '0 for the default (1 MB).' }],
  },
  { type: 'geoPoint', label: 'Geo point', defaults: { required: false }, options: [] },
  {
    type: 'password',
    label: 'Password',
    authOnly: true,
    defaults: { required: false, min: 0, max: 0, pattern: '', cost: 0 },
    options: [
      { key: 'min', label: 'Min length', kind: 'number' },
      { key: 'max', label: 'Max length', kind: 'number' },
      { key: 'pattern', label: 'Validation pattern', kind: 'text' },
      { key: 'cost', label: 'Bcrypt cost', kind: 'number', hint: '0 for the default.' },
    ],
  },
];

export function fieldTypeSpec(type: string): FieldTypeSpec | undefined {
  return FIELD_TYPES.find((t) => t.type === type);
}

/** The types a collection of `collectionType` may add (password only on auth collections). */
export function addableTypes(collectionType: string): readonly FieldTypeSpec[] {
  return FIELD_TYPES.filter((t) => !t.authOnly || collectionType === 'auth');
}

/** A field as the editor holds it: the API's shape, plus a key that survives renames. */
export interface FieldDraft {
  /** Stable key for the editor's list (the server's `id` once saved). */
  readonly key: string;
  [option: string]: unknown;
}

let counter = 0;

/** A new field of `type` with every option at its default; the server gives it an id on save. */
export function newField(type: string, name: string): FieldDraft {
  const spec = fieldTypeSpec(type);
  counter++;
  return { key: `new-${counter}`, ...(spec?.defaults ?? {}), name, type, hidden: false, presentable: false, help: '' };
}

/** A name not yet taken: `field`, `field2`, … */
export function freeFieldName(fields: readonly Record<string, unknown>[], base = 'field'): string {
  const taken = new Set(fields.map((f) => f.name));
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) if (!taken.has(`${base}${i}`)) return `${base}${i}`;
}

/** A list option as typed: `a, b ,, c` → `['a','b','c']`. */
export function parseList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function formatList(value: unknown): string {
  return Array.isArray(value) ? value.join(', ') : '';
}

/** An optional number as typed: '' → null (no bound), otherwise the number (NaN is the server's to refuse). */
export function parseOptionalNumber(text: string): number | null {
  return text.trim() === '' ? null : Number(text);
}

/** The `created`/`updated` dates PocketBase's dashboard gives a new base or auth collection. */
export function timestampFields(): FieldDraft[] {
  return [
    { ...newField('autodate', 'created'), onCreate: true, onUpdate: false },
    { ...newField('autodate', 'updated'), onCreate: true, onUpdate: true },
  ];
}

/** A scaffold's fields with the timestamps added, unless the type has none (view) or they exist. */
export function withTimestamps(fields: readonly FieldDraft[], collectionType: string): FieldDraft[] {
  if (collectionType === 'view' || fields.some((f) => f.name === 'created' || f.name === 'updated')) return [...fields];
  return [...fields, ...timestampFields()];
}
