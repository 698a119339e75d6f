/** How record values show in a grid cell: short, one line, never markup. */
const MAX_CELL = 120;

export function cellText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '';
  if (typeof value === 'string') return clip(value.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim());
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return clip(value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', '));
  return clip(JSON.stringify(value));
}

function clip(text: string): string {
  return text.length > MAX_CELL ? `${text.slice(0, MAX_CELL - 1)}…` : text;
}

/** The next sort when a column's header is clicked: ascending first, then it flips. */
export function nextSort(current: string, field: string): string {
  if (current === field) return `-${field}`;
  return field;
}

/** `ascending`, `descending` or `none` for a column, as aria-sort says it. */
export function sortState(current: string, field: string): 'ascending' | 'descending' | 'none' {
  if (current === field || current === `+${field}`) return 'ascending';
  if (current === `-${field}`) return 'descending';
  return 'none';
}
