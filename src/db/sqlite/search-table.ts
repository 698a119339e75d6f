/**
 * The FTS5 table holding the substring index of a searchable column (SchemaManager.ensureSearchIndex),
 * named after the table and the column so the filter compiler can name it from the SQL it writes.
 */
export function searchTableName(table: string, column: string): string {
  return `_search_${table}_${column}`;
}
