/**
 * `{:name}` placeholders in a filter, bound to values as PocketBase's `dbx.Params` and the SDK's
 * `pb.filter()` do: each value becomes a literal of the filter language (strings quoted and
 * escaped), never text spliced into the expression, so a value cannot change the filter's shape.
 */
import { formatDate } from '../time.js';

const PLACEHOLDER = /\{:([A-Za-z_][A-Za-z0-9_]*)\}/g;

function literal(name: string, value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`filter parameter "${name}" is not a finite number`);
    return String(value);
  }
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return JSON.stringify(formatDate(value));
  if (typeof value === 'string') return JSON.stringify(value);
  // Objects and arrays compare as their JSON text, as the SDK's pb.filter() sends them.
  return JSON.stringify(JSON.stringify(value));
}

export function bindFilterParams(filter: string, params: Record<string, unknown> = {}): string {
  return filter.replace(PLACEHOLDER, (_, name: string) => {
    if (!Object.hasOwn(params, name)) throw new TypeError(`the filter uses {:${name}} but no parameter "${name}" was given`);
    return literal(name, params[name]);
  });
}
