/**
 * The record form's values and the body sent for them: a field's stored value becomes what its
 * input edits (a date as `datetime-local` text, JSON as text, a number as text so an emptied input
 * stays empty), and back. Files are apart: the new ones uploaded as `field+`, the removed ones sent
 * as `field-`, as the SDK and PocketBase's API take them.
 */
import type { CollectionField, CollectionModel, RecordModel } from 'pocketbase';

export type FormValue = string | boolean | string[] | { lon: string; lat: string };
export type FormValues = Record<string, FormValue>;

/** Fields the form never edits: set by the server (autodate, tokenKey) or shown elsewhere. */
export function editableFields(collection: Pick<CollectionModel, 'fields' | 'type'>): CollectionField[] {
  return collection.fields.filter((f) => {
    if (f.type === 'autodate') return false;
    if (f.name === 'id') return false;
    // Auth records' token key: the server's secret, never edited by hand (PocketBase hides it too).
    if (collection.type === 'auth' && f.name === 'tokenKey') return false;
    // The password is its own pair of inputs (password, passwordConfirm).
    if (f.type === 'password') return false;
    return true;
  });
}

export function isMultiple(field: CollectionField): boolean {
  return (field.type === 'select' || field.type === 'relation' || field.type === 'file') && Number(field['maxSelect'] ?? 1) > 1;
}

/** `2024-01-02 03:04:05.678Z` (stored, UTC) → `2024-01-02T03:04:05` for a `datetime-local` input. */
export function toInputDate(stored: unknown): string {
  if (typeof stored !== 'string' || stored === '') return '';
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)/.exec(stored);
  return m ? `${m[1]}T${m[2]!.length === 5 ? `${m[2]}:00` : m[2]}` : '';
}

/** Back: the input's text (taken as UTC, as the dashboard labels it) → `2024-01-02 03:04:05.000Z`. */
export function fromInputDate(text: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::(\d{2}))?/.exec(text);
  return m ? `${m[1]} ${m[2]}:${m[3] ?? '00'}.000Z` : '';
}

/** The inputs' values for a record (or a new one's defaults). */
export function initialValues(fields: CollectionField[], record: RecordModel | null): FormValues {
  const out: FormValues = {};
  for (const f of fields) {
    const v: unknown = record?.[f.name];
    switch (f.type) {
      case 'bool':
        out[f.name] = v === true;
        break;
      case 'number':
        out[f.name] = typeof v === 'number' ? String(v) : '';
        break;
      case 'date':
        out[f.name] = toInputDate(v);
        break;
      case 'json':
        out[f.name] = v === undefined || v === null ? '' : JSON.stringify(v, null, 2);
        break;
      case 'geoPoint': {
        const p = (v ?? {}) as { lon?: unknown; lat?: unknown };
        out[f.name] = { lon: String(p.lon ?? 0), lat: String(p.lat ?? 0) };
        break;
      }
      case 'select':
      case 'relation':
      case 'file':
        out[f.name] = Array.isArray(v) ? v.map(String) : typeof v === 'string' && v !== '' ? [v] : [];
        break;
      default:
        out[f.name] = typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v);
    }
  }
  return out;
}

/** Why a JSON field's text cannot be sent, or '' (an empty text is `null`). */
export function jsonError(text: string): string {
  if (text.trim() === '') return '';
  try {
    JSON.parse(text);
    return '';
  } catch (err) {
    return `Invalid JSON: ${err instanceof Error ? err.message : String(err)}`;
  }
}

export interface FileChanges {
  /** New files chosen, per field. */
  added: Record<string, File[]>;
  /** Stored file names removed, per field. */
  removed: Record<string, string[]>;
}

export interface BodyResult {
  body: Record<string, unknown>;
  /** Errors found before sending (invalid JSON, a bad number), per field. */
  errors: Record<string, string>;
}

/**
 * The create/update body for the SDK. Only the fields the form edits; on an update, unchanged
 * file lists are left alone (only additions and removals are sent).
 */
export function toBody(fields: CollectionField[], values: FormValues, files: FileChanges, password?: { password: string; passwordConfirm: string }): BodyResult {
  const body: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const v = values[f.name];
    switch (f.type) {
      case 'file': {
        const added = files.added[f.name] ?? [];
        const removed = files.removed[f.name] ?? [];
        if (added.length > 0) body[`${f.name}+`] = added;
        if (removed.length > 0) body[`${f.name}-`] = removed;
        break;
      }
      case 'number': {
        const text = typeof v === 'string' ? v.trim() : '';
        if (text === '') body[f.name] = null;
        else if (Number.isFinite(Number(text))) body[f.name] = Number(text);
        else errors[f.name] = 'Enter a number.';
        break;
      }
      case 'bool':
        body[f.name] = v === true;
        break;
      case 'date':
        body[f.name] = typeof v === 'string' ? fromInputDate(v) : '';
        break;
      case 'json': {
        const text = typeof v === 'string' ? v : '';
        const problem = jsonError(text);
        if (problem) errors[f.name] = problem;
        else body[f.name] = text.trim() === '' ? null : JSON.parse(text);
        break;
      }
      case 'geoPoint': {
        // NB: a number input bound in Svelte gives numbers (or null when emptied), not text.
        const p = (v ?? {}) as { lon?: unknown; lat?: unknown };
        const lonText = String(p.lon ?? '').trim();
        const latText = String(p.lat ?? '').trim();
        const lon = Number(lonText);
        const lat = Number(latText);
        if (lonText === '' || latText === '' || !Number.isFinite(lon) || !Number.isFinite(lat)) errors[f.name] = 'Enter a longitude and a latitude.';
        else body[f.name] = { lon, lat };
        break;
      }
      case 'select':
      case 'relation': {
        const list = Array.isArray(v) ? v : [];
        body[f.name] = isMultiple(f) ? list : (list[0] ?? '');
        break;
      }
      default:
        body[f.name] = typeof v === 'string' ? v : '';
    }
  }
  if (password && (password.password !== '' || password.passwordConfirm !== '')) {
    body['password'] = password.password;
    body['passwordConfirm'] = password.passwordConfirm;
  }
  return { body, errors };
}
