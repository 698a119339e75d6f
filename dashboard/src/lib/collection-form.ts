/**
 * A collection as the editor holds it, and back: fields get a stable key for the list (a
 * rename keeps the field's `id`, which is how the server tells a rename from drop-and-add), and
 * the server's nested errors (`fields.2.values`) become flat paths the form can place.
 */
import type { FieldDraft } from './field-types.js';

export type RuleName = 'listRule' | 'viewRule' | 'createRule' | 'updateRule' | 'deleteRule' | 'authRule' | 'manageRule';

export const API_RULES: readonly { key: RuleName; label: string }[] = [
  { key: 'listRule', label: 'List/Search rule' },
  { key: 'viewRule', label: 'View rule' },
  { key: 'createRule', label: 'Create rule' },
  { key: 'updateRule', label: 'Update rule' },
  { key: 'deleteRule', label: 'Delete rule' },
];

export const AUTH_RULES: readonly { key: RuleName; label: string; hint: string }[] = [
  { key: 'authRule', label: 'Authentication rule', hint: 'Checked on every sign-in, e.g. verified = true. Empty: anyone may sign in.' },
  { key: 'manageRule', label: 'Manage rule', hint: 'Who may manage other users of this collection (change their email, password…) without their old password.' },
];

/** The rules a collection of `type` has (a view collection is read-only: list and view). */
export function rulesOf(type: string): readonly { key: RuleName; label: string; hint?: string }[] {
  if (type === 'view') return API_RULES.slice(0, 2);
  return type === 'auth' ? [...API_RULES, ...AUTH_RULES] : API_RULES;
}

export interface CollectionDraft {
  id: string;
  name: string;
  type: string;
  fields: FieldDraft[];
  indexes: string[];
  viewQuery: string;
  [key: string]: unknown;
}

/** The editor's copy of a collection from the API (a deep copy: the original stays for "reset"). */
export function toDraft(collection: Record<string, unknown>): CollectionDraft {
  // NB: a JSON copy, not structuredClone: the screens' collections are Svelte state proxies, which cannot be cloned.
  const copy = JSON.parse(JSON.stringify(collection)) as Record<string, unknown>;
  const fields = Array.isArray(copy.fields) ? (copy.fields as Record<string, unknown>[]) : [];
  if (copy.type === 'auth') ensureAuthShape(copy);
  return {
    ...copy,
    id: typeof copy.id === 'string' ? copy.id : '',
    name: typeof copy.name === 'string' ? copy.name : '',
    type: typeof copy.type === 'string' ? copy.type : 'base',
    fields: fields.map((f, i) => ({ ...f, key: typeof f.id === 'string' && f.id !== '' ? f.id : `field-${i}` })),
    indexes: Array.isArray(copy.indexes) ? (copy.indexes as string[]) : [],
    viewQuery: typeof copy.viewQuery === 'string' ? copy.viewQuery : '',
  };
}

/** What is sent to create/update: the draft without the editor's keys and the server-made stamps. */
export function toPayload(draft: CollectionDraft): Record<string, unknown> {
  const { created: _created, updated: _updated, ...rest } = draft;
  const payload: Record<string, unknown> = {
    ...rest,
    fields: draft.fields.map(({ key: _key, ...field }) => field),
  };
  payload.indexes = onTable(draft.indexes, draft.name);
  if (draft.id === '') delete payload.id;
  if (draft.type !== 'view') delete payload.viewQuery;
  return payload;
}

/**
 * `{fields: {2: {values: {message}}}}` → `{'fields.2.values': message}`: the server's field
 * errors of a collection save, as flat paths (a form field shows the one with its path).
 */
export function flattenErrors(data: unknown, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  if (data === null || typeof data !== 'object') return out;
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (value !== null && typeof value === 'object' && typeof (value as { message?: unknown }).message === 'string' && typeof (value as { code?: unknown }).code === 'string') {
      out[path] = (value as { message: string }).message;
      // An import's error of one collection carries that collection's own errors in `data`.
      Object.assign(out, flattenErrors((value as { data?: unknown }).data, path));
    } else {
      Object.assign(out, flattenErrors(value, path));
    }
  }
  return out;
}

/** The errors under `prefix.` (its own fields' errors), keyed by the rest of the path. */
export function errorsUnder(errors: Record<string, string>, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, message] of Object.entries(errors)) if (path.startsWith(`${prefix}.`)) out[path.slice(prefix.length + 1)] = message;
  return out;
}

/** An index's statement from the editor's parts, PocketBase's style: `CREATE UNIQUE INDEX \`idx_…\` ON \`posts\` (\`a\`, \`b\`)`. */
export function buildIndex(collection: string, columns: readonly string[], unique: boolean, name = ''): string {
  const indexName = name !== '' ? name : `idx_${collection}_${columns.join('_')}`.replace(/[^A-Za-z0-9_]/g, '_');
  return `CREATE ${unique ? 'UNIQUE ' : ''}INDEX \`${indexName}\` ON \`${collection}\` (${columns.map((c) => `\`${c}\``).join(', ')})`;
}

/** The parts of an index statement the list shows: its name, whether unique, its columns text. */
export function describeIndex(statement: string): { name: string; unique: boolean; columns: string } {
  const m = /^\s*CREATE\s+(UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?[`"[]?([^`"\]\s(]+)[`"\]]?\s+ON\s+[`"[]?[^`"\]\s(]*[`"\]]?\s*\(([\s\S]*?)\)\s*(WHERE[\s\S]*)?$/i.exec(statement);
  if (!m) return { name: '', unique: false, columns: statement };
  return { name: m[2] ?? '', unique: m[1] !== undefined, columns: (m[3] ?? '').replace(/[`"[\]]/g, '').trim() + (m[4] ? ` ${m[4].trim()}` : '') };
}

const AUTH_OBJECTS = ['passwordAuth', 'oauth2', 'otp', 'mfa', 'authAlert', 'authToken', 'verificationToken', 'passwordResetToken', 'emailChangeToken', 'fileToken', 'verificationTemplate', 'resetPasswordTemplate', 'confirmEmailChangeTemplate'];

/**
 * Every option object an auth collection's form edits, present (the form writes into them, and
 * must not create state while it renders): missing ones become empty objects.
 */
export function ensureAuthShape(collection: Record<string, unknown>): void {
  const objectAt = (parent: Record<string, unknown>, key: string): Record<string, unknown> => {
    if (parent[key] === null || typeof parent[key] !== 'object' || Array.isArray(parent[key])) parent[key] = {};
    return parent[key] as Record<string, unknown>;
  };
  for (const key of AUTH_OBJECTS) objectAt(collection, key);
  const oauth2 = objectAt(collection, 'oauth2');
  if (!Array.isArray(oauth2.providers)) oauth2.providers = [];
  const passwordAuth = objectAt(collection, 'passwordAuth');
  if (!Array.isArray(passwordAuth.identityFields)) passwordAuth.identityFields = [];
  objectAt(objectAt(collection, 'otp'), 'emailTemplate');
  objectAt(objectAt(collection, 'authAlert'), 'emailTemplate');
}

/**
 * The indexes on the collection's current name: the scaffolds' indexes name no table
 * (`ON \`\``), and a renamed collection's still name the old one — PocketBase's dashboard
 * rewrites them the same way before saving.
 */
export function onTable(indexes: readonly string[], table: string): string[] {
  return indexes.map((sql) => sql.replace(/(\bON\s+)(`[^`]*`|"[^"]*"|\[[^\]]*\]|[A-Za-z_][A-Za-z0-9_]*)?(\s*\()/i, (_m, on: string, _old: string | undefined, paren: string) => `${on}\`${table}\`${paren}`));
}
