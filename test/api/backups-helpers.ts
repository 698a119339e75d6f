/** Helpers of the backup suites: what an app holds (every table that matters, every stored file), and hand-made zips. */
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { Readable } from 'node:stream';
import yauzl from 'yauzl';
import yazl from 'yazl';
import type { TestApp } from '../harness/test-app.js';
import { readAll } from '../../src/core/files/read-stream.js';

/** Internal tables whose rows a restore must bring back (besides every collection's table). */
const INTERNAL = ['_collections', '_params', '_apiKeys', '_totps', '_webhooks', '_workflowStates', '_workflowHistory'];

export interface AppState {
  tables: Record<string, Record<string, unknown>[]>;
  /** Storage key → SHA-256 of the bytes. */
  files: Record<string, string>;
}

export async function stateOf(t: TestApp): Promise<AppState> {
  const tables: AppState['tables'] = {};
  const names = [...t.app.registry.all().filter((c) => c.type !== 'view').map((c) => c.table), ...INTERNAL];
  for (const name of names.sort()) {
    tables[name] = await t.app.db.rows(sql`SELECT * FROM ${sql.table(name)} ORDER BY ${sql.id('id')}`);
  }
  const files: AppState['files'] = {};
  for (const key of (await t.app.files.list('')).sort()) {
    const stream = await t.app.files.read(key);
    files[key] = createHash('sha256').update(await readAll(stream!, 1 << 30)).digest('hex');
  }
  return { tables, files };
}

/** A zip made with yazl from `entries` (name → content). */
export async function makeZip(entries: Record<string, Buffer | string>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [name, content] of Object.entries(entries)) zip.addBuffer(Buffer.isBuffer(content) ? content : Buffer.from(content), name);
  zip.end();
  return readAll(zip.outputStream as unknown as Readable, 1 << 30);
}

/**
 * A zip with an entry named `../<name>` (zip-slip): written as `aa/<name>` (yazl refuses `..`),
 * then renamed in the bytes of its local header and central directory (the CRC covers only the content).
 */
export async function zipSlip(name: string, content: string): Promise<Buffer> {
  const zip = await makeZip({ [`aa/${name}`]: content });
  const from = Buffer.from(`aa/${name}`);
  const out = Buffer.from(zip);
  let at = out.indexOf(from);
  let replaced = 0;
  while (at !== -1) {
    Buffer.from('..').copy(out, at);
    replaced++;
    at = out.indexOf(from, at + 1);
  }
  if (replaced !== 2) throw new Error('zip-slip fixture not built');
  return out;
}

/** The text of one entry of a zip (null when it has none). */
export async function entryText(zip: Buffer, name: string): Promise<string | null> {
  const archive = await yauzl.fromBufferPromise(zip, { lazyEntries: true });
  try {
    for await (const entry of archive.eachEntry()) {
      if (entry.fileName !== name) continue;
      return (await readAll((await archive.openReadStreamPromise(entry)) as Readable, 1 << 30)).toString('utf8');
    }
    return null;
  } finally {
    archive.close();
  }
}
