/**
 * The large-collections dataset (bench/large.ts): 1,000 `authors` and N `posts`, generated from a
 * fixed seed and written straight into the database (better-sqlite3 on the data file, `COPY` on
 * PostgreSQL) while Basalt is stopped: through the API, a million records would take longer
 * than the whole benchmark. The collections themselves are created through the API
 * (bench/large-setup.ts), so the tables, indexes and triggers are Basalt's own; the rows copy the
 * encodings of a record Basalt wrote (checked against one, see `assertSeedEncoding`).
 *
 * Every collection table carries change-counter triggers (SchemaManager.ensureChangeCounter)
 * that bump `_dataVersions` once per row. They are dropped (SQLite: Basalt re-creates them at
 * start-up) or disabled (PostgreSQL, in the seeding transaction) while the rows go in, and the
 * collection's version is bumped once afterwards by the number of rows written, so the stored
 * list totals (core/records/count-cache.ts) never outlive the seeding.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { prng } from './dataset.js';

export const AUTHOR_COUNT = 1_000;
/** Ten countries, drawn uniformly: 'FR' is ~10 % of the authors. */
export const COUNTRIES = ['FR', 'DE', 'US', 'GB', 'JP', 'BR', 'IN', 'CA', 'ES', 'IT'] as const;
/** `n` is uniform in [0, N_RANGE) whatever the size, so `n > 5000` keeps half the rows at any size. */
export const N_RANGE = 10_000;
const TITLE_WORDS = 5;

/**
 * 100 words, none inside another (a `~` filter is a substring match): a title of 5 words drawn
 * uniformly contains a given word with probability 1 - 0.99^5 ≈ 4.9 %.
 */
export const VOCABULARY = (
  'amber anchor acorn autumn badge banner beacon birch blossom bridge cabin canyon castle cedar ' +
  'cinder cliff cloud comet copper coral crater crystal dawn delta desert dune echo ember falcon ' +
  'fern field fjord flint forest fossil garden glacier granite grove harbor hazel heron horizon ' +
  'island ivory jasmine jungle kettle lagoon lantern lemon lotus maple marble meadow meteor mist ' +
  'moss nectar nebula oasis ocean orchid pebble pepper pine planet plume prairie quartz quill ' +
  'radish raven reef ripple saddle salmon sapphire shadow silver sparrow spruce storm summit ' +
  'bramble orbit thistle thunder tide timber topaz tulip tundra valley velvet violet walnut willow yarrow zephyr'
).split(' ');
/** The word of the `search` scenario (~4.9 % of titles, half of them published). */
export const SEARCH_WORD = 'lantern';

for (const w of VOCABULARY) {
  const inside = VOCABULARY.find((o) => o !== w && o.includes(w));
  if (inside) throw new Error(`vocabulary: "${w}" is inside "${inside}", so a search for it would match both`);
}

/** Columns of the seeded tables, in COPY / INSERT order. */
const AUTHOR_COLUMNS = ['id', 'name', 'country'] as const;
const POST_COLUMNS = ['id', 'title', 'n', 'published', 'author', 'created', 'updated'] as const;

export interface AuthorRow {
  id: string;
  name: string;
  country: string;
}

export interface PostRow {
  id: string;
  title: string;
  n: number;
  published: boolean;
  author: string;
  created: string;
  updated: string;
}

/** The collections as the seeder needs them: table names are the collection names. */
export interface SeedCollections {
  authorsId: string;
  postsId: string;
}

export interface SeedResult {
  posts: number;
  /** Ids of the published posts, in insertion order (getOne cycles over them). */
  publishedIds: string[];
  seconds: number;
  /** Share of the titles that contain SEARCH_WORD. */
  searchShare: number;
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A 15-character lowercase alphanumeric id, as Basalt's `[a-z0-9]{15}` pattern makes. */
function idFrom(random: () => number): string {
  let id = '';
  for (let i = 0; i < 15; i++) id += ID_ALPHABET[Math.floor(random() * ID_ALPHABET.length)];
  return id;
}

/** Basalt's date text: `2025-01-01 00:00:00.000Z` (checked against a real record by assertSeedEncoding). */
export const formatDate = (ms: number) => new Date(ms).toISOString().replace('T', ' ');
export const DATE_FORMAT = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z$/;
const FIRST_CREATED = Date.UTC(2025, 0, 1);

export function authorRows(): AuthorRow[] {
  const random = prng(7);
  return Array.from({ length: AUTHOR_COUNT }, (_, i) => ({ id: idFrom(random), name: `Author ${i}`, country: COUNTRIES[Math.floor(random() * COUNTRIES.length)] }));
}

/**
 * The posts, one at a time (a million objects at once would cost more memory than the seeding
 * needs). The first k rows of any size are the same: SMALL is a prefix of LARGE. One second
 * apart in `created`, the insertion order.
 */
export function* postRows(count: number, authors: readonly AuthorRow[]): Generator<PostRow> {
  const random = prng(42);
  for (let i = 0; i < count; i++) {
    const id = idFrom(random);
    const words: string[] = [];
    for (let w = 0; w < TITLE_WORDS; w++) words.push(VOCABULARY[Math.floor(random() * VOCABULARY.length)]);
    const created = formatDate(FIRST_CREATED + i * 1000);
    yield {
      id,
      title: words.join(' '),
      n: Math.floor(random() * N_RANGE),
      published: random() < 0.5,
      author: authors[Math.floor(random() * authors.length)].id,
      created,
      updated: created,
    };
  }
}

/** Collects what the benchmark needs from the rows as they are written. */
class SeedTally {
  readonly publishedIds: string[] = [];
  posts = 0;
  private matches = 0;
  see(row: PostRow): void {
    this.posts++;
    if (row.published) this.publishedIds.push(row.id);
    if (row.title.includes(SEARCH_WORD)) this.matches++;
  }
  result(started: number): SeedResult {
    return { posts: this.posts, publishedIds: this.publishedIds, seconds: (performance.now() - started) / 1000, searchShare: this.posts > 0 ? this.matches / this.posts : 0 };
  }
}

/**
 * The raw row of a record Basalt wrote (read from the database, not the API) against what the
 * seeder writes for the same field kinds: a changed encoding must stop the run, not seed rows
 * Basalt would misread.
 */
export function assertSeedEncoding(engine: 'sqlite' | 'postgres', raw: Record<string, unknown>): void {
  const expected: Record<string, (v: unknown) => boolean> = {
    id: (v) => typeof v === 'string' && /^[a-z0-9]{15}$/.test(v),
    title: (v) => typeof v === 'string',
    n: (v) => typeof v === 'number',
    // better-sqlite3 reads SQLite's BOOLEAN column as the integer 1/0; pg as a boolean.
    published: (v) => (engine === 'sqlite' ? v === 1 || v === 0 : typeof v === 'boolean'),
    author: (v) => typeof v === 'string' && /^[a-z0-9]{15}$/.test(v),
    created: (v) => typeof v === 'string' && DATE_FORMAT.test(v),
    updated: (v) => typeof v === 'string' && DATE_FORMAT.test(v),
  };
  const bad = Object.entries(expected).filter(([k, ok]) => !ok(raw[k]));
  if (bad.length > 0) {
    throw new Error(`a post Basalt wrote is stored differently than the large bench seeds it (${bad.map(([k]) => `${k}: ${JSON.stringify(raw[k])}`).join(', ')}): update bench/large-dataset.ts`);
  }
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** SQLite: rows per INSERT statement (7 columns × 200 = 1,400 parameters, under SQLite's 32,766). */
const SQLITE_ROWS_PER_STATEMENT = 200;

function sqliteInserter(db: Database.Database, table: string, columns: readonly string[]): (rows: unknown[][]) => void {
  const one = `(${columns.map(() => '?').join(', ')})`;
  const statement = (k: number) => db.prepare(`INSERT INTO ${quote(table)} (${columns.map(quote).join(', ')}) VALUES ${Array(k).fill(one).join(', ')}`);
  const full = statement(SQLITE_ROWS_PER_STATEMENT);
  return (rows) => {
    const run = rows.length === SQLITE_ROWS_PER_STATEMENT ? full : statement(rows.length);
    run.run(rows.flat());
  };
}

/**
 * Seeds the SQLite file of a stopped Basalt: the authors when `withAuthors`, and the posts table
 * replaced by the first `count` posts. One transaction; Basalt's change-counter triggers dropped
 * (it re-creates them when it starts).
 */
export function seedSqlite(file: string, ids: SeedCollections, authors: readonly AuthorRow[], count: number, withAuthors: boolean): SeedResult {
  const started = performance.now();
  const db = new Database(file);
  const tally = new SeedTally();
  try {
    // The seeding connection only: a crash mid-seed loses a temp database, nothing else.
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -524288');
    for (const key of [ids.authorsId, ids.postsId]) for (const s of ['i', 'u', 'd']) db.exec(`DROP TRIGGER IF EXISTS ${quote(`__dv_${key}_${s}`)}`);
    const bump = db.prepare('UPDATE "_dataVersions" SET "v" = "v" + ? WHERE "id" = ?');
    db.transaction(() => {
      if (withAuthors) {
        sqliteInserter(db, 'authors', AUTHOR_COLUMNS)(authors.map((a) => AUTHOR_COLUMNS.map((c) => a[c])));
        bump.run(authors.length, ids.authorsId);
      }
      // Without triggers, an unfiltered DELETE is SQLite's truncate: the pages are dropped, not visited.
      const removed = db.prepare('DELETE FROM "posts"').run().changes;
      const insert = sqliteInserter(db, 'posts', POST_COLUMNS);
      let batch: unknown[][] = [];
      for (const row of postRows(count, authors)) {
        tally.see(row);
        batch.push([row.id, row.title, row.n, row.published ? 1 : 0, row.author, row.created, row.updated]);
        if (batch.length === SQLITE_ROWS_PER_STATEMENT) {
          insert(batch);
          batch = [];
        }
      }
      if (batch.length > 0) insert(batch);
      bump.run(removed + count, ids.postsId);
    })();
    db.exec('ANALYZE "authors"; ANALYZE "posts"');
    // Basalt then starts on a short WAL, as after any quiet period.
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  return tally.result(started);
}

/** PostgreSQL COPY text format; the generated values hold no tab, newline or backslash. */
function copyLine(values: readonly (string | number | boolean)[]): string {
  return values.map((v) => (typeof v === 'boolean' ? (v ? 't' : 'f') : String(v))).join('\t') + '\n';
}

/** Rows per chunk handed to COPY: big enough that the stream's overhead vanishes. */
const COPY_ROWS_PER_CHUNK = 5_000;

function* copyChunks<T>(rows: Iterable<T>, line: (row: T) => string): Generator<string> {
  let chunk = '';
  let k = 0;
  for (const row of rows) {
    chunk += line(row);
    if (++k === COPY_ROWS_PER_CHUNK) {
      yield chunk;
      chunk = '';
      k = 0;
    }
  }
  if (chunk) yield chunk;
}

async function copyInto<T>(client: pg.ClientBase, table: string, columns: readonly string[], rows: Iterable<T>, line: (row: T) => string, options = ''): Promise<void> {
  const stream = client.query(copyFrom(`COPY ${quote(table)} (${columns.map(quote).join(', ')}) FROM STDIN ${options}`));
  await pipeline(Readable.from(copyChunks(rows, line)), stream);
}

/**
 * Seeds the PostgreSQL database of a stopped Basalt, as seedSqlite does, in one transaction:
 * the triggers disabled (`DISABLE TRIGGER USER`: the change counters, TRUNCATE's included) and
 * enabled again before the commit, so a failure leaves them as they were.
 */
export async function seedPostgres(url: string, ids: SeedCollections, authors: readonly AuthorRow[], count: number, withAuthors: boolean): Promise<SeedResult> {
  const started = performance.now();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const tally = new SeedTally();
  try {
    await client.query('BEGIN');
    const bump = (n: number, key: string) => client.query('UPDATE "_dataVersions" SET "v" = "v" + $1 WHERE "id" = $2', [n, key]);
    if (withAuthors) {
      await client.query('ALTER TABLE "authors" DISABLE TRIGGER USER');
      await copyInto(client, 'authors', AUTHOR_COLUMNS, authors, (a) => copyLine(AUTHOR_COLUMNS.map((c) => a[c])));
      await client.query('ALTER TABLE "authors" ENABLE TRIGGER USER');
      await bump(authors.length, ids.authorsId);
    }
    await client.query('ALTER TABLE "posts" DISABLE TRIGGER USER');
    const removed = Number((await client.query<{ n: string }>('SELECT COUNT(*) AS n FROM "posts"')).rows[0].n);
    await client.query('TRUNCATE "posts"');
    const tallied = (function* () {
      for (const row of postRows(count, authors)) {
        tally.see(row);
        yield row;
      }
    })();
    // FREEZE (the table was emptied in this transaction): the rows are written visible to all, so
    // the first reads need not set their hint bits, and a vacuum has nothing left to do.
    await copyInto(client, 'posts', POST_COLUMNS, tallied, (r) => copyLine([r.id, r.title, r.n, r.published, r.author, r.created, r.updated]), 'WITH (FREEZE)');
    await client.query('ALTER TABLE "posts" ENABLE TRIGGER USER');
    await bump(removed + count, ids.postsId);
    await client.query('COMMIT');
    // Statistics, and the visibility map set now rather than by an autovacuum during the measurements.
    await client.query('VACUUM (ANALYZE) "authors", "posts"');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    await client.end();
  }
  return tally.result(started);
}

/**
 * Whether the change-counter triggers of `collectionId` are back and enabled (Basalt running):
 * SQLite's were dropped by the seeding and must have been re-created at start-up.
 */
export async function changeCountersInPlace(target: { engine: 'sqlite'; file: string } | { engine: 'postgres'; url: string }, collectionId: string): Promise<boolean> {
  if (target.engine === 'sqlite') {
    const db = new Database(target.file, { readonly: true });
    try {
      const names = ['i', 'u', 'd'].map((s) => `__dv_${collectionId}_${s}`);
      const row = db.prepare(`SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'trigger' AND name IN (?, ?, ?)`).get(...names) as { n: number };
      return row.n === 3;
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  try {
    const names = [`__dv_${collectionId}`, `__dvc_${collectionId}`, `__dvt_${collectionId}`];
    const r = await client.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM pg_trigger WHERE tgname = ANY($1) AND tgenabled = 'O'`, [names]);
    return r.rows[0].n === 3;
  } finally {
    await client.end();
  }
}

/** The stored row of post `id`, as the driver reads it (for assertSeedEncoding). */
export async function readRawPost(target: { engine: 'sqlite'; file: string } | { engine: 'postgres'; url: string }, id: string): Promise<Record<string, unknown>> {
  if (target.engine === 'sqlite') {
    // A second connection beside the running server: WAL lets it read the committed row.
    const db = new Database(target.file, { readonly: true });
    try {
      return (db.prepare('SELECT * FROM "posts" WHERE "id" = ?').get(id) as Record<string, unknown> | undefined) ?? {};
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: target.url });
  await client.connect();
  try {
    return (await client.query('SELECT * FROM "posts" WHERE "id" = $1', [id])).rows[0] ?? {};
  } finally {
    await client.end();
  }
}
