/** The list query parameters of spec §1.1–1.2, parsed and checked. */
import { badRequest, fieldError, MESSAGES } from '../errors.js';

export const DEFAULT_PER_PAGE = 30;
export const MAX_PER_PAGE = 1000;
export const MAX_SORT_FIELDS = 8;
export const MAX_SORT_FIELD_LENGTH = 255;

export interface ListParams {
  page: number;
  perPage: number;
  sort: string;
  filter: string;
  skipTotal: boolean;
  /** Basalt's cursor paging (list-cursor.ts): null when not asked for, '' for the first page. */
  cursor: string | null;
}

/** Go's strconv.ParseBool, which PocketBase uses for `skipTotal`. */
export function parseBool(value: string | undefined): boolean {
  return ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value ?? '');
}

function parseInteger(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^[-+]?\d+$/.test(raw.trim())) {
    throw badRequest(MESSAGES.invalidListParams, { [name]: fieldError('validation_invalid_integer', 'Must be an integer.') });
  }
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : fallback;
}

export function parseListParams(query: Record<string, string | undefined>): ListParams {
  let page = parseInteger('page', query.page, 1);
  let perPage = parseInteger('perPage', query.perPage, DEFAULT_PER_PAGE);
  if (page <= 0) page = 1;
  if (perPage <= 0) perPage = DEFAULT_PER_PAGE;
  if (perPage > MAX_PER_PAGE) perPage = MAX_PER_PAGE;
  return {
    page,
    perPage,
    sort: query.sort ?? '',
    filter: query.filter ?? '',
    skipTotal: parseBool(query.skipTotal),
    cursor: query.cursor ?? null,
  };
}

/** `-created,title,+id` → [{field, desc}], spec §2.2. */
export function parseSortParam(raw: string): { field: string; desc: boolean }[] {
  const parts = raw.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length > MAX_SORT_FIELDS) {
    throw badRequest(MESSAGES.invalidSort, { sort: fieldError('validation_too_many_sort_fields', `At most ${MAX_SORT_FIELDS} sort fields.`) });
  }
  return parts.map((part) => {
    if (part.length > MAX_SORT_FIELD_LENGTH) {
      throw badRequest(MESSAGES.invalidSort, { sort: fieldError('validation_sort_field_too_long', `Sort fields are at most ${MAX_SORT_FIELD_LENGTH} characters.`) });
    }
    const desc = part.startsWith('-');
    const field = part.replace(/^[-+]/, '').trim();
    if (field === '') throw badRequest(MESSAGES.invalidSort, { sort: fieldError('validation_invalid_sort_field', 'Empty sort field.') });
    return { field, desc };
  });
}
