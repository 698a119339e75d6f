/**
 * Checks a plain-format `pg_dump` file before psql runs it: a restore executes it as Basalt's
 * database role, and an uploaded zip is anybody's. Refused: psql meta-commands (`\! rm -rf …`
 * would run on this host) other than pg_dump's own `\restrict`/`\unrestrict` and the end of COPY
 * data, `COPY … TO/FROM PROGRAM`, `CREATE EXTENSION`, functions in a language other than SQL
 * and PL/pgSQL. Required: pg_dump's header, the schema it was dumped from, and Basalt's tables.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** How a schema name appears in pg_dump's output: bare when it needs no quotes. */
export function dumpIdent(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

const COPY_START = /^COPY .* FROM stdin;$/;
const PROGRAM = /\b(?:TO|FROM)\s+PROGRAM\b/i;
const EXTENSION = /^\s*CREATE\s+EXTENSION\b/i;
const LANGUAGE = /\bLANGUAGE\s+"?([A-Za-z0-9_]+)"?/g;
const SAFE_LANGUAGES = new Set(['sql', 'plpgsql']);
/** Tables every Basalt database has (pg_dump quotes names with capitals). */
const BASALT_TABLES = ['_collections', '_params', '_cronRuns'];

/** Why `path` is not a dump of schema `schema` that Basalt may restore, or null. */
export async function checkDump(path: string, schema: string): Promise<string | null> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  const wantedTables = new Map(BASALT_TABLES.map((t) => [`CREATE TABLE ${dumpIdent(schema)}.${dumpIdent(t)} (`, t]));
  const foundTables = new Set<string>();
  let header = false;
  let schemaSeen: string | null = null;
  let inCopy = false;
  let n = 0;
  try {
    for await (const line of lines) {
      n++;
      if (n <= 5 && line.startsWith('-- PostgreSQL database dump')) header = true;
      if (n === 5 && !header) return 'its data.sql is not a PostgreSQL dump';
      if (inCopy) {
        if (line === '\\.') inCopy = false;
        continue;
      }
      if (line.startsWith('--')) continue;
      if (line.startsWith('\\')) {
        if (/^\\(?:un)?restrict [A-Za-z0-9]+$/.test(line)) continue;
        return `its data.sql runs psql commands (line ${n})`;
      }
      if (COPY_START.test(line)) {
        if (PROGRAM.test(line)) return `its data.sql runs programs (line ${n})`;
        inCopy = true;
        continue;
      }
      if (PROGRAM.test(line)) return `its data.sql runs programs (line ${n})`;
      if (EXTENSION.test(line)) return `its data.sql creates extensions (line ${n})`;
      for (const m of line.matchAll(LANGUAGE)) if (!SAFE_LANGUAGES.has(m[1].toLowerCase())) return `its data.sql uses the function language ${m[1]} (line ${n})`;
      const created = /^CREATE SCHEMA (.+);$/.exec(line);
      if (created) schemaSeen = created[1];
      const table = wantedTables.get(line);
      if (table) foundTables.add(table);
    }
  } finally {
    lines.close();
  }
  if (!header) return 'its data.sql is not a PostgreSQL dump';
  if (inCopy) return 'its data.sql is cut short';
  if (schemaSeen !== dumpIdent(schema)) return `its data.sql is a dump of the schema ${schemaSeen ?? '(none)'}, and this database uses ${dumpIdent(schema)}`;
  const missing = BASALT_TABLES.find((t) => !foundTables.has(t));
  if (missing) return `its database is not Basalt's (no ${missing} table)`;
  return null;
}
