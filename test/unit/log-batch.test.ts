/**
 * The write buffer's format (core/logs/log-batch.ts): what is captured on the request path comes
 * back, formatted, exactly as it would have been formatted on the spot — whatever the text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogBatchBuilder, unpackLogBatch } from '../../src/core/logs/log-batch.js';
import { formatRequest, type CapturedRequest } from '../../src/core/logs/request-log-format.js';
import { formatDate } from '../../src/core/time.js';

const T = Date.UTC(2026, 11, 4, 10, 0, 0, 123);

const request = (overrides: Partial<CapturedRequest> = {}): CapturedRequest => ({
  time: T,
  level: 0,
  status: 200,
  execTime: 0.25,
  method: 'GET',
  url: '/api/collections/posts/records/abc',
  referer: '',
  userAgent: 'undici',
  auth: '',
  authId: null,
  userIP: null,
  remoteIP: null,
  error: null,
  details: null,
  ...overrides,
});

const ODD_TEXT = ['héllo wörld 🌍 中文', 'tabs\tand\nnewlines\r\u0000nul', '', '\ud83d lone surrogate', 'quote " and \\ backslash'];

describe('log batches', () => {
  it('unpack app entries: any text in messages and data, every level, id and date from the capture time', () => {
    const builder = new LogBatchBuilder();
    const levels = [-4, 0, 4, 8];
    ODD_TEXT.forEach((message, i) => expect(builder.appendEntry(T + i, levels[i % 4], message, JSON.stringify({ message }))).toBe(true));
    const batch = builder.seal();
    expect(batch.count).toBe(ODD_TEXT.length);
    const out = unpackLogBatch(batch);
    expect(out.map((e) => ({ level: e.level, message: e.message, data: e.data, created: e.created }))).toEqual(
      ODD_TEXT.map((message, i) => ({ level: levels[i % 4], message, data: JSON.stringify({ message }), created: formatDate(new Date(T + i)) })),
    );
    for (const [i, e] of out.entries()) {
      expect(e.id).toMatch(/^[a-z0-9]{15}$/);
      // Time-ordered: the first nine characters are the capture's millisecond.
      expect(parseInt(e.id.slice(0, 9), 36)).toBe(T + i);
    }
    expect(builder.count).toBe(0);
  });

  it('format a request entry as it would have been formatted where it was captured', () => {
    const cases: CapturedRequest[] = [
      request(),
      request({ level: 8, status: 404, error: "The requested resource wasn't found.", details: '{}' }),
      request({ level: 8, status: 400, error: 'Failed to create record.', details: '{"title":{"code":"validation_required","message":"Missing required value."}}' }),
      request({ level: 8, status: 500, error: 'Something went wrong.', details: null }),
      request({ url: '/api/files/x/y/z.png?token=secret.jwt.here&thumb=100x100', referer: 'https://app.example/?code=abc&state=xyz' }),
      request({ auth: 'users', authId: 'u1234567890abcd', userIP: '203.0.113.9', remoteIP: '127.0.0.1' }),
      request({ auth: '_superusers', authId: null, userIP: '::1', remoteIP: '::1' }),
      request({ method: 'post', url: '/api/x?' + 'a'.repeat(4000), userAgent: 'ü'.repeat(2500) }),
      request({ url: '/api/%E0%A4%A', execTime: NaN }),
      ...ODD_TEXT.map((text) => request({ url: `/api/${text}`, userAgent: text, referer: text, error: text, level: 8, status: 400 })),
    ];
    const builder = new LogBatchBuilder();
    for (const c of cases) expect(builder.appendRequest(c)).toBe(true);
    const out = unpackLogBatch(builder.seal());
    expect(out.map((e) => ({ level: e.level, message: e.message, data: e.data, created: e.created }))).toEqual(
      cases.map((c) => ({ level: c.level, ...formatRequest(c), created: formatDate(new Date(c.time)) })),
    );
    // Redacted: the secrets' names stay, their values go.
    expect(JSON.parse(out[4].data)).toMatchObject({ url: '/api/files/x/y/z.png?token=&thumb=100x100', referer: 'https://app.example/?code=&state=' });
    expect(JSON.parse(out[5].data)).toMatchObject({ auth: 'users', authId: 'u1234567890abcd', userIP: '203.0.113.9', remoteIP: '127.0.0.1' });
    expect(JSON.parse(out[0].data)).not.toHaveProperty('userIP');
    expect(JSON.parse(out[2].data).details).toEqual({ title: { code: 'validation_required', message: 'Missing required value.' } });
  });

  it('keep any captured request text (property)', () => {
    const text = fc.string({ unit: 'binary', maxLength: 60 });
    const optional = fc.option(text, { nil: null });
    fc.assert(
      fc.property(fc.record({ method: text, url: text, referer: text, userAgent: text, auth: text, authId: optional, ip: optional, error: optional }), (r) => {
        const c = request({ ...r, userIP: r.ip, remoteIP: r.ip, details: r.error === null ? null : '{"k":1}' });
        const builder = new LogBatchBuilder();
        builder.appendRequest(c);
        const [e] = unpackLogBatch(builder.seal());
        // UTF-16 goes through whole, lone surrogates included: the same text as formatted on the spot.
        expect({ message: e.message, data: e.data }).toEqual(formatRequest(c));
      }),
      { numRuns: 500 },
    );
  });

  it('seals when the chunk is full, and gives an entry larger than a chunk a chunk of its own', () => {
    const builder = new LogBatchBuilder(1024);
    let appended = 0;
    while (builder.appendEntry(T, 0, 'x'.repeat(100), '{}')) appended++;
    expect(appended).toBeGreaterThan(2);
    expect(builder.bytes).toBeLessThanOrEqual(1024);
    const first = builder.seal();
    expect(unpackLogBatch(first)).toHaveLength(appended);
    const big = JSON.stringify({ s: 'é'.repeat(5000) });
    expect(builder.appendEntry(T, 0, 'big', big)).toBe(true);
    expect(unpackLogBatch(builder.seal()).map((e) => e.data)).toEqual([big]);
    const bigRequest = request({ url: '/' + 'u'.repeat(3000) });
    expect(builder.appendRequest(bigRequest)).toBe(true);
    expect(unpackLogBatch(builder.seal()).map((e) => e.message)).toEqual([formatRequest(bigRequest).message]);
  });

  it('clamps what the header cannot hold instead of throwing', () => {
    const builder = new LogBatchBuilder();
    builder.appendEntry(T, 1000, 'm', '{}');
    builder.appendRequest(request({ status: 70000 }));
    const [entry, req] = unpackLogBatch(builder.seal());
    expect(entry.level).toBe(127);
    expect(typeof JSON.parse(req.data).status).toBe('number');
  });

  it('fills a written batch\'s chunk again once it is given back, and ignores what it cannot reuse', () => {
    const builder = new LogBatchBuilder(1024);
    builder.appendEntry(T, 0, 'first', '{}');
    const a = builder.seal();
    builder.appendEntry(T, 0, 'second', '{}');
    builder.recycle(a.bytes);
    builder.recycle(new Uint8Array(10)); // not a chunk of this builder's size: ignored
    // Sealing `b` makes the recycled chunk the one being filled.
    const b = builder.seal();
    builder.appendEntry(T, 0, 'third', '{"n":3}');
    const c = builder.seal();
    expect(c.bytes.buffer).toBe(a.bytes.buffer);
    expect(unpackLogBatch(c).map((e) => [e.message, e.data])).toEqual([['third', '{"n":3}']]);
    expect(unpackLogBatch(b).map((e) => e.message)).toEqual(['second']);
    // A buffer moved to another thread (detached) cannot come back.
    const d = builder.seal();
    structuredClone(d.bytes.buffer, { transfer: [d.bytes.buffer as ArrayBuffer] });
    builder.recycle(d.bytes);
    builder.appendEntry(T, 0, 'fourth', '{}');
    expect(unpackLogBatch(builder.seal()).map((e) => e.message)).toEqual(['fourth']);
  });

  it('hands out batches whose buffer is their own (safe to transfer)', () => {
    const builder = new LogBatchBuilder();
    builder.appendEntry(T, 0, 'a', '{}');
    const a = builder.seal();
    builder.appendEntry(T, 0, 'b', '{}');
    const b = builder.seal();
    expect(a.bytes.buffer).not.toBe(b.bytes.buffer);
    expect(a.bytes.byteOffset).toBe(0);
  });
});
