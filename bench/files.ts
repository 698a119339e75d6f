/**
 * File-serving benchmark (issue: files), for bench/run.ts to call on a running Basalt:
 *
 * - **first thumb**: the time of a thumb request that has to generate it (read the original,
 *   decode, resize, encode, store), one request at a time, over distinct (record, size) pairs;
 * - **cached thumb**: req/s of thumb requests once every thumb exists (a stat, the sniff cache,
 *   a stream from storage);
 * - **plain file**: req/s of a stored 100×100 JPEG served as itself — the floor a cached
 *   thumb (also 100×100) is compared with: the same route, checks and bytes, no thumb lookup;
 * - **original**: req/s of the 1200×800 originals, for scale.
 *
 * `seedFileBench` writes the data first (start the server on the same --dir afterwards): a
 * `bench_files` collection, N records each with a 1200×800 JPEG (`image`) and a 100×100 one
 * (`icon`) in `<dir>/storage`. Run alone: `node --import tsx bench/files.ts` (after
 * `npm run build`) seeds a temp directory, starts the built server and prints the table.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { localAdapters } from '../src/adapters/local-adapters.js';
import { createApp } from '../src/core/app.js';
import { defaultConfig } from '../src/core/config.js';
import { silentLogger } from '../src/core/ports.js';
import { systemCaller } from '../src/core/records/caller.js';
import { createDatabase } from '../src/db/create-database.js';
import type { Target } from './dataset.js';
import { runLoad, type LoadResult } from './load.js';
import { freePort, startServer } from './processes.js';

/** Thumb sizes of the bench field: first-thumb samples cycle through them. */
export const BENCH_THUMB_SIZES = ['100x100', '300x200', '300x200t', '400x400f', '0x150', '150x0'];

export interface FileBenchData {
  collection: string;
  /** `filename`: the 1200×800 original; `icon`: the 100×100 plain file of the floor. */
  records: { id: string; filename: string; icon: string }[];
  /** A 1200×800 JPEG for the upload samples. */
  upload: Buffer;
}

export interface FileBenchOptions {
  /** Basalt's base URL, e.g. http://127.0.0.1:8090 */
  url: string;
  data: FileBenchData;
  /** First-thumb samples (distinct record × size pairs, never requested before). @default 20 */
  firstThumbSamples?: number;
  /** Measured seconds of each load run. @default 8 */
  seconds?: number;
  /** @default 10 */
  connections?: number;
  /** Print the table. @default true */
  print?: boolean;
}

export interface FileBenchResult {
  /** Sequential multipart creates with one 1200×800 JPEG, against the same create without a file. */
  upload: { samples: number; bytes: number; p50Ms: number; withoutFileP50Ms: number };
  firstThumb: { samples: number; p50Ms: number; maxMs: number; fallbacks: number };
  cachedThumb: LoadResult;
  plainFile: LoadResult;
  original: LoadResult;
  /** cachedThumb req/s ÷ plainFile req/s. */
  ratio: number;
}

/** A deterministic 1200×800 photo-like JPEG (gradients and noise: it does not compress to nothing). */
async function benchImage(seed: number): Promise<Buffer> {
  const width = 1200;
  const height = 800;
  const raw = Buffer.alloc(width * height * 3);
  let state = seed * 2654435761;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      state = (state * 1103515245 + 12345) >>> 0;
      const i = (y * width + x) * 3;
      raw[i] = (x * 255) / width;
      raw[i + 1] = (y * 255) / height;
      raw[i + 2] = (state >>> 24) & 0xff;
    }
  }
  return sharp(raw, { raw: { width, height, channels: 3 } }).jpeg({ quality: 80 }).toBuffer();
}

/** Creates the bench collection and `records` records with a JPEG each, then closes the app. */
export async function seedFileBench(target: Target, options: { records: number }): Promise<FileBenchData> {
  const db = await createDatabase(target.engine === 'postgres' ? { type: 'postgres', url: target.url, maxConnections: 2 } : { type: 'sqlite', file: join(target.dir, 'data.db') });
  const config = defaultConfig({ dataDir: target.dir, databaseUrl: target.engine === 'postgres' ? target.url : '', logLevel: 'silent' });
  const app = await createApp(config, { db, logger: silentLogger, ...localAdapters(config) });
  try {
    const created = await app.collections.create({
      name: 'bench_files',
      type: 'base',
      listRule: '',
      viewRule: '',
      createRule: '',
      fields: [
        { name: 'title', type: 'text' },
        { name: 'image', type: 'file', maxSelect: 1, thumbs: BENCH_THUMB_SIZES },
        { name: 'icon', type: 'file', maxSelect: 1 },
      ],
    });
    const collection = app.registry.find(String((created as { id: string }).id))!;
    const records: FileBenchData['records'] = [];
    // A few distinct images are enough: each record stores its own copy.
    const images = await Promise.all([1, 2, 3, 4].map(benchImage));
    // The floor's file: what a cached 100x100 thumb of the original looks like.
    const icons = await Promise.all(images.map((img) => sharp(img).resize(100, 100).jpeg().toBuffer()));
    for (let i = 0; i < options.records; i++) {
      const files = [
        { field: 'image', filename: 'photo.jpg', mimetype: 'image/jpeg', data: images[i % images.length] },
        { field: 'icon', filename: 'icon.jpg', mimetype: 'image/jpeg', data: icons[i % icons.length] },
      ];
      const record = await app.records.writer.create(collection, { data: { title: `file ${i}` }, files }, systemCaller());
      records.push({ id: String(record.values.id), filename: String(record.values.image), icon: String(record.values.icon) });
    }
    return { collection: collection.name, records, upload: images[0] };
  } finally {
    await app.close();
  }
}

const fileURL = (data: FileBenchData, r: { id: string; filename: string }, thumb?: string, name = r.filename) =>
  `/api/files/${data.collection}/${r.id}/${name}${thumb ? `?thumb=${thumb}` : ''}`;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor((sorted.length - 1) / 2)];
}

function cycle<T>(items: T[]): () => T {
  let i = 0;
  return () => items[i++ % items.length];
}

export async function runFileBench(options: FileBenchOptions): Promise<FileBenchResult> {
  const { url, data } = options;
  const seconds = options.seconds ?? 8;
  const connections = options.connections ?? 10;
  const samples = Math.min(options.firstThumbSamples ?? 20, data.records.length * BENCH_THUMB_SIZES.length);
  if (data.records.length === 0) throw new Error('runFileBench needs at least one record with a file');

  // Uploads: one request at a time, so the figure is the latency of one upload (type detection,
  // the stored copy, the row) next to the same create without the file.
  const uploadTimes: number[] = [];
  const plainTimes: number[] = [];
  const uploadSamples = 20;
  for (let i = 0; i < uploadSamples; i++) {
    const form = new FormData();
    form.set('title', `upload ${i}`);
    form.set('image', new Blob([new Uint8Array(data.upload)], { type: 'image/jpeg' }), 'upload.jpg');
    let started = process.hrtime.bigint();
    let res = await fetch(`${url}/api/collections/${data.collection}/records`, { method: 'POST', body: form });
    await res.arrayBuffer();
    uploadTimes.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (res.status !== 200) throw new Error(`upload: HTTP ${res.status}`);
    started = process.hrtime.bigint();
    res = await fetch(`${url}/api/collections/${data.collection}/records`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: `no file ${i}` }) });
    await res.arrayBuffer();
    plainTimes.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (res.status !== 200) throw new Error(`create without a file: HTTP ${res.status}`);
  }

  // First thumbs: pair i takes record i mod N and size ⌊i / N⌋, so no pair repeats.
  const times: number[] = [];
  let fallbacks = 0;
  for (let i = 0; i < samples; i++) {
    const record = data.records[i % data.records.length];
    const size = BENCH_THUMB_SIZES[Math.floor(i / data.records.length) % BENCH_THUMB_SIZES.length];
    const started = process.hrtime.bigint();
    const res = await fetch(url + fileURL(data, record, size));
    await res.arrayBuffer();
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    if (res.status !== 200) throw new Error(`first thumb ${size} of ${record.id}: HTTP ${res.status}`);
    // The served name says whether a thumb was made or the original came back.
    if (!(res.headers.get('content-disposition') ?? '').includes(`${size}_`)) fallbacks++;
  }

  // Cached thumbs: make sure every record's 100x100 exists, then load them.
  const thumbSize = BENCH_THUMB_SIZES[0];
  for (const r of data.records) await fetch(url + fileURL(data, r, thumbSize)).then((res) => res.arrayBuffer());
  const thumbPaths = data.records.map((r) => fileURL(data, r, thumbSize));
  const nextThumb = cycle(thumbPaths);
  const nextPlain = cycle(data.records.map((r) => fileURL(data, r, undefined, r.icon)));
  const nextOriginal = cycle(data.records.map((r) => fileURL(data, r)));
  const plainFile = await runLoad({ url, connections, seconds, next: () => ({ method: 'GET', path: nextPlain() }) });
  const cachedThumb = await runLoad({ url, connections, seconds, next: () => ({ method: 'GET', path: nextThumb() }) });
  const original = await runLoad({ url, connections, seconds, next: () => ({ method: 'GET', path: nextOriginal() }) });

  const result: FileBenchResult = {
    upload: { samples: uploadSamples, bytes: data.upload.length, p50Ms: median(uploadTimes), withoutFileP50Ms: median(plainTimes) },
    firstThumb: { samples, p50Ms: median(times), maxMs: Math.max(0, ...times), fallbacks },
    cachedThumb,
    plainFile,
    original,
    ratio: plainFile.reqPerSec > 0 ? cachedThumb.reqPerSec / plainFile.reqPerSec : 0,
  };
  if (options.print !== false) printFileBench(result);
  return result;
}

export function printFileBench(r: FileBenchResult): void {
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  const rps = (v: number) => Math.round(v).toLocaleString('en-US');
  const rows = [
    ['upload (1200×800 JPEG)', `${r.upload.samples} samples`, ms(r.upload.p50Ms), `${Math.round(r.upload.bytes / 1024)} KiB`, `the same create without a file: ${ms(r.upload.withoutFileP50Ms)}`],
    ['first thumb (1200×800 JPEG)', `${r.firstThumb.samples} samples`, ms(r.firstThumb.p50Ms), `max ${ms(r.firstThumb.maxMs)}`, r.firstThumb.fallbacks ? `${r.firstThumb.fallbacks} served the original` : ''],
    ['plain 100×100 file (floor)', `${rps(r.plainFile.reqPerSec)} req/s`, ms(r.plainFile.p50), `p99 ${ms(r.plainFile.p99)}`, r.plainFile.non2xx ? `${r.plainFile.non2xx} non-2xx` : ''],
    ['cached 100x100 thumb', `${rps(r.cachedThumb.reqPerSec)} req/s`, ms(r.cachedThumb.p50), `p99 ${ms(r.cachedThumb.p99)}`, `${(r.ratio * 100).toFixed(1)} % of the floor${r.cachedThumb.non2xx ? `, ${r.cachedThumb.non2xx} non-2xx` : ''}`],
    ['1200×800 original', `${rps(r.original.reqPerSec)} req/s`, ms(r.original.p50), `p99 ${ms(r.original.p99)}`, r.original.non2xx ? `${r.original.non2xx} non-2xx` : ''],
  ];
  const head = ['files scenario', 'rate', 'p50', 'tail', 'notes'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  console.log([line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
}

/** Alone: seed a temp SQLite directory, start the built server on it, measure, clean up. */
async function main(): Promise<void> {
  const root = resolve(import.meta.dirname, '..');
  const dir = mkdtempSync(join(tmpdir(), 'basalt-bench-files-'));
  try {
    const data = await seedFileBench({ engine: 'sqlite', dir }, { records: Number(process.env.BENCH_FILE_RECORDS ?? 20) });
    const port = await freePort();
    const server = await startServer({
      name: 'basalt-files',
      cwd: root,
      port,
      logFile: join(dir, 'server.log'),
      nodeArgs: ['bin/basalt.js', 'serve', '--http', `127.0.0.1:${port}`, '--dir', dir, '--log-level', 'warn'],
    });
    try {
      await runFileBench({ url: server.url, data, seconds: Number(process.env.BENCH_SECONDS ?? 8), connections: Number(process.env.BENCH_CONNECTIONS ?? 10) });
    } finally {
      await server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
