import type { FieldError } from '../../errors.js';
import type { Collection, Field, FieldTypeName } from '../../model/collection-types.js';

/** How a field is stored; the db layer maps each kind to a column type per engine. */
export type ColumnKind = 'text' | 'number' | 'bool' | 'json';

export interface ColumnSpec {
  kind: ColumnKind;
  nullable: boolean;
  /** Default for existing rows when the column is added. */
  default: string | number | boolean | null;
  primaryKey?: boolean;
}

/** Returned by `prepare` when the submitted value has a type the field cannot take. */
export const INVALID = Symbol('invalid value');

/** What a field's value validation may need to know about the write in progress. */
export interface ValueContext {
  isNew: boolean;
  /** The value stored before this write (update only). */
  previous: unknown;
  collection: Collection;
}

/** Collects errors about a field's own options while a collection is saved. */
export interface OptionIssues {
  add(option: string, error: FieldError): void;
}

/** Context for option validation: the collection being saved and the other collections. */
export interface OptionContext {
  collection: Collection;
  findCollection(idOrName: string): Collection | undefined;
}

/**
 * One field type: its options, its storage, and how a submitted value becomes a stored one.
 * Values move through three shapes: submitted (anything JSON/form can carry) → canonical
 * (`prepare`: string, number, boolean, string[], JSON value) → stored (`toDb`, engine-neutral:
 * multi-valued and JSON values are JSON text).
 */
export interface FieldType {
  readonly type: FieldTypeName;
  /** Options and their defaults, as the API serializes them (flat, next to `name` and `type`). */
  readonly defaults: Readonly<Record<string, unknown>>;
  /** Boolean options accepted when given but not filled in when absent (Basalt's own, kept out of PocketBase's field JSON). */
  readonly optionalKeys?: readonly string[];
  /** Validates and normalises the options in place (called on every collection save). */
  checkOptions(field: Field, issues: OptionIssues, ctx: OptionContext): void;
  column(field: Field): ColumnSpec;
  isMultiple(field: Field): boolean;
  /** The value of an unset field. */
  zero(field: Field): unknown;
  /** Submitted → canonical; INVALID when the type cannot be converted. */
  prepare(field: Field, raw: unknown): unknown;
  /** Validates a canonical value (relation existence and uniqueness are checked by the record engine). */
  validate(field: Field, value: unknown, ctx: ValueContext): FieldError | null;
  toDb(field: Field, value: unknown): unknown;
  fromDb(field: Field, raw: unknown): unknown;
}

export const requiredError = (): FieldError => ({ code: 'validation_required', message: 'Missing required value.' });
