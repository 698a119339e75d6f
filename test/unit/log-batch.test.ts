import { describe, expect, it } from 'vitest';
import { LogBatchBuilder, unpackLogBatch } from '../../src/core/logs/log-batch.js';
import type { NewLogEntry } from '../../src/core/logs/log-store.js';

const entry = (i: number, message: string, data = '{}'): NewLogEntry => ({ id: `id${String(i).padStart(13, '0')}`, level: [-4, 0, 4, 8][i % 4], message, data, created: `2026-12-04 10:00:00.${String(i % 1000).padStart(3, '0')}Z` });

describe('log batches', () => {
  it('unpack what was packed: any text in messages and data, every level', () => {
    const builder = new LogBatchBuilder();
    const entries = [
      entry(0, 'GET /api/health'),
      entry(1, 'héllo wörld 🌍 中文', '{"k":"ü","emoji":"🌍"}'),
      entry(2, 'tabs\tand\nnewlines\r\u0000nul', '{"s":"\\t\\n"}'),
      entry(3, '', '{}'),
      entry(4, '\ud83d lone surrogate', '{"a":1}'),
    ];
    for (const e of entries) expect(builder.append(e)).toBe(true);
    const batch = builder.seal();
    expect(batch.count).toBe(5);
    const out = unpackLogBatch(batch);
    // A lone surrogate cannot be UTF-8: it comes back as U+FFFD, as any UTF-8 store would keep it.
    expect(out).toEqual(entries.map((e, i) => (i === 4 ? { ...e, message: '\ufffd lone surrogate' } : e)));
    expect(builder.count).toBe(0);
  });

  it('seals when the chunk is full, and gives an entry larger than a chunk a chunk of its own', () => {
    const builder = new LogBatchBuilder(1024);
    let appended = 0;
    while (builder.append(entry(appended, 'x'.repeat(100)))) appended++;
    expect(appended).toBeGreaterThan(2);
    expect(builder.bytes).toBeLessThanOrEqual(1024);
    const first = builder.seal();
    expect(unpackLogBatch(first)).toHaveLength(appended);
    const big = entry(99, 'big', JSON.stringify({ s: 'é'.repeat(5000) }));
    expect(builder.append(big)).toBe(true);
    expect(unpackLogBatch(builder.seal())).toEqual([big]);
  });

  it('hands out batches whose buffer is their own (safe to transfer)', () => {
    const builder = new LogBatchBuilder();
    builder.append(entry(1, 'a'));
    const a = builder.seal();
    builder.append(entry(2, 'b'));
    const b = builder.seal();
    expect(a.bytes.buffer).not.toBe(b.bytes.buffer);
    expect(a.bytes.byteOffset).toBe(0);
  });
});
