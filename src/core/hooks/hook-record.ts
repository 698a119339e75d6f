/**
 * A record as hook code handles it, modelled on PocketBase's JS `Record`: `get`/`set` by field
 * name (with the body's modifiers: `set('tags+', 'x')`, `set('stock-', 1)`), typed getters, `id`,
 * `collection()`, `original()`. During a write it is a live view of the values being written:
 * what a hook sets is validated and stored by the steps that follow.
 */
import type { CollectionModel } from '../model/collection-model.js';
import type { Collection } from '../model/collection-types.js';
import type { RecordModel, RecordValues } from '../model/record-model.js';
import { PasswordInput } from '../collections/fields/password-field.js';
import { applyBody } from '../records/record-body.js';
import type { ErrorData } from '../errors.js';

/** Where a record's changes go while it is being written. */
export interface WriteTarget {
  isNew: boolean;
  touched: Set<string>;
  errors: ErrorData;
}

export class HookRecord {
  constructor(
    private readonly model: RecordModel,
    private readonly target: WriteTarget | null = null,
    private readonly before: RecordModel | null = null,
  ) {}

  get id(): string {
    return String(this.model.values.id ?? '');
  }

  /** The collection's definition (id, name, type, fields, rules…). */
  collection(): Collection {
    return this.model.collection.data;
  }

  /** The collection as the engine uses it. */
  get collectionModel(): CollectionModel {
    return this.model.collection;
  }

  isNew(): boolean {
    return this.target?.isNew ?? false;
  }

  /** The record as stored before this write (update and delete); itself otherwise. */
  original(): HookRecord {
    return this.before ? new HookRecord(this.before) : this;
  }

  get(name: string): unknown {
    const value = this.model.values[name];
    return value instanceof PasswordInput ? '' : value;
  }

  getString(name: string): string {
    const v = this.get(name);
    return v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }

  getInt(name: string): number {
    const n = Math.trunc(Number(this.get(name)));
    return Number.isFinite(n) ? n : 0;
  }

  getFloat(name: string): number {
    const n = Number(this.get(name));
    return Number.isFinite(n) ? n : 0;
  }

  getBool(name: string): boolean {
    const v = this.get(name);
    return v === true || v === 1 || v === 'true' || v === '1';
  }

  getStringSlice(name: string): string[] {
    const v = this.get(name);
    return Array.isArray(v) ? v.map(String) : v === '' || v === null || v === undefined ? [] : [String(v)];
  }

  /**
   * Sets a field the way a request body would (the value normalised by the field's type, the
   * `+`/`-` modifiers applied); an invalid value is reported when the write validates. Fields
   * the collection does not have are ignored, as PocketBase's `Set` does for unknown keys.
   */
  set(name: string, value: unknown): this {
    const collection = this.model.collection;
    const applied = applyBody(collection, this.model.values, { [name]: value }, { isNew: this.isNew(), seesHidden: true, canManage: true });
    Object.assign(this.model.values, applied.values);
    if (this.target) {
      for (const key of applied.touched) this.target.touched.add(key);
      Object.assign(this.target.errors, applied.errors);
    }
    return this;
  }

  /** Sets several fields at once (`set` for each key). */
  load(data: Record<string, unknown>): this {
    for (const [k, v] of Object.entries(data)) this.set(k, v);
    return this;
  }

  /** The values as stored (password hashes and other hidden fields included: server-side code only). */
  toJSON(): RecordValues {
    const out: RecordValues = { collectionId: this.model.collection.id, collectionName: this.model.collection.name };
    for (const [k, v] of Object.entries(this.model.values)) out[k] = v instanceof PasswordInput ? '' : v;
    return out;
  }
}
