/**
 * Infers the fields of a view collection from its SELECT, as PocketBase does: a column that is
 * a plain reference to a collection field keeps that field's type and options (so relations of
 * a view still expand); aggregates and casts get a number/text/bool field; anything else JSON.
 */
import type { QueryColumn } from '../ports.js';
import type { SchemaView } from '../model/collection-model.js';
import { makeField } from './scaffolds.js';
import type { Field, FieldTypeName } from '../model/collection-types.js';

interface SelectItem {
  expr: string;
  alias: string;
}

/** Splits `a, f(b, c), d` at top-level commas, skipping quoted text. */
function splitTopLevel(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = '';
      continue;
    }
    if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((s) => s.trim()).filter(Boolean);
}

const unquote = (s: string) => s.replace(/^["`[]|["`\]]$/g, '');

/** The select list and FROM aliases of a simple SELECT (best effort: used for type hints only). */
function parseSelect(query: string): { items: SelectItem[]; tables: Map<string, string> } {
  const flat = query.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ').replace(/\s+/g, ' ');
  const m = /\bselect\s+(?:distinct\s+)?(.*?)\s+from\s+(.*)$/i.exec(flat);
  const tables = new Map<string, string>();
  if (!m) return { items: [], tables };
  const items = splitTopLevel(m[1]).map((item) => {
    const as = /^(.*?)\s+(?:as\s+)?(["`[]?\w+["`\]]?)$/i.exec(item);
    if (as && !/^\w+\.\w+$/.test(item) && /\S/.test(as[1])) return { expr: as[1].trim(), alias: unquote(as[2]) };
    const last = item.split('.').pop() ?? item;
    return { expr: item, alias: unquote(last) };
  });
  const re = /\b(?:from|join)\s+(["`[]?\w+["`\]]?)(?:\s+(?:as\s+)?(?!on\b|where\b|join\b|left\b|inner\b|group\b|order\b|limit\b|cross\b|natural\b)(["`[]?\w+["`\]]?))?/gi;
  const from = 'from ' + m[2];
  for (let t = re.exec(from); t; t = re.exec(from)) {
    const table = unquote(t[1]);
    tables.set(table.toLowerCase(), table);
    if (t[2]) tables.set(unquote(t[2]).toLowerCase(), table);
  }
  return { items, tables };
}

function hintedType(expr: string): FieldTypeName | null {
  const e = expr.trim().toUpperCase();
  if (/^(COUNT|SUM|TOTAL|AVG|MIN|MAX|ROUND|ABS|LENGTH|RANDOM)\s*\(/.test(e) && !/^(MIN|MAX)\s*\(/.test(e)) return 'number';
  const cast = /^CAST\s*\(.*\s+AS\s+(\w+)/.exec(e);
  if (cast) {
    const t = cast[1];
    if (/INT|REAL|NUM|FLOA|DOUB|DEC/.test(t)) return 'number';
    if (/BOOL/.test(t)) return 'bool';
    if (/TEXT|CHAR/.test(t)) return 'text';
  }
  return null;
}

function sourceField(schema: SchemaView, table: string | undefined, column: string | undefined): Field | undefined {
  if (!table || !column) return undefined;
  return schema.find(table)?.field(column);
}

const TYPE_OF_KIND: Record<string, FieldTypeName> = { text: 'text', number: 'number', bool: 'bool', json: 'json' };

/** The fields of a view, one per result column, in order. `previous` keeps stable field ids. */
export function inferViewFields(query: string, columns: QueryColumn[], schema: SchemaView, previous: Field[] = []): Field[] {
  const { items, tables } = parseSelect(query);
  return columns.map((col, index) => {
    const item = items.find((it) => it.alias.toLowerCase() === col.name.toLowerCase()) ?? items[index];
    let source = sourceField(schema, col.sourceTable, col.sourceColumn);
    if (!source && item) {
      const ref = /^["`[]?(\w+)["`\]]?(?:\.["`[]?(\w+)["`\]]?)?$/.exec(item.expr.trim());
      if (ref) {
        const [table, column] = ref[2] ? [tables.get(ref[1].toLowerCase()), ref[2]] : [tables.size === 1 ? [...tables.values()][0] : undefined, ref[1]];
        source = sourceField(schema, table, column);
      }
    }
    let field: Field;
    if (col.name === 'id') {
      field = makeField('text', 'id', { system: true, required: true, primaryKey: true, pattern: '^[a-z0-9]+$' });
    } else if (source && source.type !== 'password' && source.type !== 'autodate') {
      field = { ...source, name: col.name, system: false, primaryKey: undefined };
      delete field.primaryKey;
    } else if (source && source.type === 'autodate') {
      field = makeField('autodate', col.name, { onCreate: source.onCreate, onUpdate: source.onUpdate });
    } else {
      const hinted = item ? hintedType(item.expr) : null;
      const type = hinted ?? (col.kind ? TYPE_OF_KIND[col.kind] : 'json');
      field = makeField(type, col.name);
    }
    const old = previous.find((f) => f.name === col.name && f.type === field.type);
    field.id = old?.id ?? makeField(field.type, col.name).id;
    return field;
  });
}
