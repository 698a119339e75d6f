import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../src/core/errors.js';
import { excerpt } from '../../src/core/records/excerpt.js';
import {
  INVALID_FIELDS_MESSAGE,
  MAX_FIELDS_LENGTH,
  MAX_FIELDS_PATHS,
  isListResult,
  parseFields,
  pickFields,
  pickListOrRecord,
} from '../../src/core/records/fields-picker.js';

const pick = (value: unknown, fields: string): unknown => pickFields(value, parseFields(fields));

const post = {
  id: 'p1',
  title: '<p>Hello <b>world</b></p>',
  views: 3,
  tags: ['a', 'b'],
  author: 'u1',
  expand: {
    author: { id: 'u1', name: 'Ann', email: 'ann@example.com' },
    tags: [
      { id: 't1', name: 'js', color: 'red' },
      { id: 't2', name: 'ts', color: 'blue' },
    ],
  },
};

describe('parseFields', () => {
  it.each([null, undefined, '', '   ', ',', ' , ,, '])('%j means no picking (null)', (raw) => {
    expect(parseFields(raw)).toBeNull();
  });

  it.each([
    ['missing excerpt arguments', 'a:excerpt', 'Missing excerpt maxLength'],
    ['empty excerpt arguments', 'a:excerpt()', 'Missing excerpt maxLength'],
    ['zero max length', 'a:excerpt(0)', 'positive integer'],
    ['negative max length', 'a:excerpt(-1)', 'positive integer'],
    ['fractional max length', 'a:excerpt(1.5)', 'positive integer'],
    ['non-numeric max length', 'a:excerpt(abc)', 'positive integer'],
    ['huge max length', `a:excerpt(${'9'.repeat(30)})`, 'positive integer'],
    ['non-bool ellipsis', 'a:excerpt(10,maybe)', 'true or false'],
    ['too many arguments', 'a:excerpt(10,true,1)', 'Too many'],
    ['empty argument', 'a:excerpt(10,)', 'Empty excerpt argument'],
    ['unknown modifier', 'a:upper(1)', 'Unknown modifier "upper"'],
    ['missing ")"', 'a:excerpt(10', 'Unbalanced'],
    ['stray ")"', 'a:excerpt10)', 'Unbalanced'],
    ['text after the arguments', 'a:excerpt(1)x', 'Invalid modifier'],
    ['two modifiers', 'a:excerpt(1):excerpt(2)', 'Invalid modifier'],
    ['empty modifier', 'a:', 'Invalid modifier'],
    ['modifier without a path', ':excerpt(5)', 'Missing field name'],
    ['path of dots only', 'id,..', 'Missing field name'],
    ['too long', 'a'.repeat(MAX_FIELDS_LENGTH + 1), `at most ${MAX_FIELDS_LENGTH} characters`],
    ['too many paths', Array.from({ length: MAX_FIELDS_PATHS + 1 }, (_, i) => `f${i}`).join(','), 'At most'],
  ])('rejects %s with a 400', (_name, raw, detail) => {
    let caught: unknown;
    try {
      parseFields(raw);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ApiError);
    const apiError = caught as ApiError;
    expect(apiError.status).toBe(400);
    expect(apiError.message).toBe(INVALID_FIELDS_MESSAGE);
    expect(apiError.data).toMatchObject({ fields: { code: 'validation_invalid_fields' } });
    expect((apiError.data.fields as { message: string }).message).toContain(detail);
  });

  it.each([
    'a:excerpt(5)',
    'a:excerpt( 5 , t )',
    'a : excerpt (5, FALSE)',
    'a:excerpt(5,1),b:excerpt(2,0)',
    'a'.repeat(MAX_FIELDS_LENGTH),
    Array.from({ length: MAX_FIELDS_PATHS }, (_, i) => `f${i}`).join(','),
  ])('accepts %s', (raw) => {
    expect(parseFields(raw)).not.toBeNull();
  });
});

describe('pickFields', () => {
  it.each<[string, unknown, string, unknown]>([
    ['a single key', post, 'id', { id: 'p1' }],
    ['several keys, trimmed, in the record order', post, ' views ,  id ', { id: 'p1', views: 3 }],
    ['empty entries ignored', post, 'id,,views,', { id: 'p1', views: 3 }],
    ['missing keys absent', post, 'id,nope,expand.nope', { id: 'p1', expand: {} }],
    ['only missing keys', post, 'nope', {}],
    ['a nested key', post, 'expand.author.name', { expand: { author: { name: 'Ann' } } }],
    ['empty dot segments skipped', post, 'expand..author.name.', { expand: { author: { name: 'Ann' } } }],
    ['an array of strings kept whole', post, 'tags', { tags: ['a', 'b'] }],
    [
      'an array of records picked item by item',
      post,
      'expand.tags.name',
      { expand: { tags: [{ name: 'js' }, { name: 'ts' }] } },
    ],
    ['* keeps everything', post, '*', post],
    [
      '* with a deeper path reduces only that key',
      post,
      '*,expand.author.name',
      { ...post, expand: { author: { name: 'Ann' } } },
    ],
    ['a nested *', post, 'id,expand.author.*', { id: 'p1', expand: { author: post.expand.author } }],
    [
      'a nested * with a deeper exception',
      { id: '1', rel: { id: '2', title: 't', sub: { id: '3', title: 's' } } },
      'id,rel.*,rel.sub.id',
      { id: '1', rel: { id: '2', title: 't', sub: { id: '3' } } },
    ],
    ['a middle * is a literal key (as in PocketBase)', { '*': { a: 1 }, b: { a: 2 } }, '*.a', { '*': { a: 1 } }],
    ['the whole key wins over its sub-paths', post, 'expand.author.name,expand', { expand: post.expand }],
    ['a scalar on the path is kept (as in PocketBase)', post, 'title.x,author.name', { title: post.title, author: 'u1' }],
    ['null on the path is kept', { a: null, b: 1 }, 'a.b', { a: null }],
    ['a top-level array of records', [{ a: 1, b: 2 }, { a: 3 }, 'x', null], 'a', [{ a: 1 }, { a: 3 }, 'x', null]],
    ['nested arrays', { m: [[{ a: 1, b: 2 }], [{ b: 3 }]] }, 'm.a', { m: [[{ a: 1 }], [{}]] }],
    ['a scalar body', 'text', 'a,b', 'text'],
    ['an excerpt on a picked key', post, 'id,title:excerpt(5,true)', { id: 'p1', title: 'Hello...' }],
    ['an excerpt on a nested key', post, 'expand.author.email:excerpt(3)', { expand: { author: { email: 'ann' } } }],
    ['an excerpt on non-strings changes nothing', post, 'views:excerpt(1),tags:excerpt(1)', { views: 3, tags: ['a', 'b'] }],
    ['an excerpt on a missing key', post, 'nope:excerpt(1)', {}],
    ['the last duplicate sets the modifier', post, 'id:excerpt(1),id', { id: 'p1' }],
    [
      '* with an excerpt, and an explicit key with its own (PocketBase scenario)',
      { id: '123', title: 'lorem', rel: { id: '456', title: '<p>rel_title</p>', sub: { id: '789' } } },
      '*:excerpt(2),rel.title:excerpt(3, true)',
      { id: '12', title: 'lo', rel: { title: 'rel...' } },
    ],
    [
      'mixed maps and arrays (PocketBase scenario)',
      {
        a: 1,
        b: 2,
        c: 'test',
        anySlice: [{ A: [1, 2, 3], B: ['1', '2', 3], C: 'test', D: { DA: 1, DB: 2 } }, { A: 'test' }],
        mapSlice: [
          { A: [1, 2, 3], B: ['1', '2', 3], C: 'test', D: [{ DA: 1 }] },
          { B: ['1', '2', 3], D: [{ DA: 2 }, { DA: 3 }, { DB: 4 }] },
        ],
        fullMap: [{ A: [1, 2, 3], C: 'test' }, { D: [{ DA: 2 }] }],
      },
      'a, c, anySlice.A, mapSlice.C, mapSlice.D.DA, anySlice.D,fullMap',
      {
        a: 1,
        c: 'test',
        anySlice: [{ A: [1, 2, 3], D: { DA: 1, DB: 2 } }, { A: 'test' }],
        mapSlice: [{ C: 'test', D: [{ DA: 1 }] }, { D: [{ DA: 2 }, { DA: 3 }, {}] }],
        fullMap: [{ A: [1, 2, 3], C: 'test' }, { D: [{ DA: 2 }] }],
      },
    ],
  ])('%s', (_name, input, fields, expected) => {
    expect(pick(input, fields)).toEqual(expected);
  });

  it('keeps the record key order, not the parameter order', () => {
    expect(Object.keys(pick(post, 'views,title,id') as object)).toEqual(['id', 'title', 'views']);
  });

  it('returns the input itself for a null picker', () => {
    expect(pickFields(post, null)).toBe(post);
  });

  it('picks values with toJSON in their JSON form', () => {
    const created = new Date('2024-01-31T12:00:00.123Z');
    const model = { toJSON: () => ({ id: 'm1', secret: 'x' }) };
    expect(pick({ created, model }, 'created,model.id')).toEqual({ created, model: { id: 'm1' } });
    expect(pick({ created }, 'created:excerpt(4)')).toEqual({ created: '2024' });
  });

  it('treats a "__proto__" key as data', () => {
    const input = JSON.parse('{"__proto__":{"x":1},"a":1}') as object;
    const result = pick(input, '__proto__.x') as Record<string, unknown>;
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(JSON.stringify(result)).toBe('{"__proto__":{"x":1}}');
  });

  it('does not mutate its input and reuses one picker for many items', () => {
    const picker = parseFields('id,expand.tags.name');
    const frozen = structuredClone(post);
    const deepFreeze = (v: unknown): void => {
      if (v !== null && typeof v === 'object') Object.values(Object.freeze(v)).forEach(deepFreeze);
    };
    deepFreeze(frozen);
    expect(pickFields(frozen, picker)).toEqual({ id: 'p1', expand: { tags: [{ name: 'js' }, { name: 'ts' }] } });
    expect(pickFields([frozen, frozen], picker)).toHaveLength(2);
    expect(frozen).toEqual(post);
  });
});

describe('pickListOrRecord', () => {
  const list = { page: 1, perPage: 30, totalItems: -1, totalPages: -1, items: [post, { ...post, id: 'p2' }] };

  it('picks each item of a list, never the envelope', () => {
    expect(pickListOrRecord(list, parseFields('id'))).toEqual({ ...list, items: [{ id: 'p1' }, { id: 'p2' }] });
    expect(pickListOrRecord(list, parseFields('*'))).toEqual(list);
    expect(pickListOrRecord(list, parseFields('page,items'))).toEqual({ ...list, items: [{}, {}] });
  });

  it('picks any other body itself (auth responses: fields=record.id)', () => {
    const auth = { token: 'jwt', record: post };
    expect(pickListOrRecord(auth, parseFields('record.id'))).toEqual({ record: { id: 'p1' } });
  });

  it.each<[string, unknown, boolean]>([
    ['the list envelope', list, true],
    ['a record with an items field', { ...list, id: 'r1' }, false],
    ['an envelope missing a key', { page: 1, perPage: 30, totalItems: 0, items: [] }, false],
    ['items that are not an array', { ...list, items: 'x' }, false],
    ['an array', [list], false],
    ['null', null, false],
  ])('detects %s: %s', (_name, body, expected) => {
    expect(isListResult(body)).toBe(expected);
  });

  it('returns the body itself for a null picker', () => {
    expect(pickListOrRecord(list, null)).toBe(list);
  });
});

describe('excerpt', () => {
  // PocketBase's own fixture (tools/picker/excerpt_modifier_test.go).
  const html = ` <script>var a = 123;</script>   <p>Hello</p><div id="test_id">t   est<b>12
\t3</b><span>456</span></div><span>word <b>7</b> 89<span>!<b>?</b><b> a </b><b>b </b>c</span>#<h1>title</h1>`;
  const plain = 'Hello t est12 3456 word 7 89!? a b c# title';

  it.each<[string, string, number, boolean, string]>([
    ['PocketBase fixture, max < length', html, 2, false, 'He'],
    ['PocketBase fixture, max = length', html, plain.length, false, plain],
    ['PocketBase fixture, max > length', html, plain.length + 5, false, plain],
    ['PocketBase fixture with ellipsis, max < length', html, 2, true, 'He...'],
    ['PocketBase fixture with ellipsis, max = length', html, plain.length, true, plain],
    ['multibyte chars <= max', 'аб\nв ', 4, true, 'аб в'],
    ['multibyte chars > max, trimmed after the cut', 'аб\nв ', 3, true, 'аб...'],
    ['plain text untouched', 'just text', 100, false, 'just text'],
    ['entities decoded', '&lt;b&gt; &amp; &quot;q&quot; &#39;s&#x27; caf&eacute; &hellip;', 100, false, `<b> & "q" 's' café …`],
    ['legacy entities without semicolon', 'a &amp b &copy c &hellip d', 100, false, 'a & b © c &hellip d'],
    ['unknown entities kept', '&bogus; &#xZZ;', 100, false, '&bogus; &#xZZ;'],
    ['numeric edge cases', '&#0;&#128;&#x110000;&#xD800;', 100, false, '\ufffd€\ufffd\ufffd'],
    ['&nbsp; is not collapsed but trimmed at the ends', '&nbsp;a&nbsp;&nbsp;b&nbsp;', 100, false, 'a\u00a0\u00a0b'],
    ['script, style and noscript dropped', 'a<script>x<y</script>b<style>p{}</style>c<noscript>n</noscript>d', 100, false, 'abcd'],
    ['form controls and media dropped', 'a<img src=x>b<button>no</button>c<select><option>1</option></select>d<svg><text>s</text></svg>e', 100, false, 'abcde'],
    ['raw-text end tags are case-insensitive', 'a<SCRIPT>x</b></Script >b', 100, false, 'ab'],
    ['block elements separate words', '<p>one</p><p>two</p><div>three</div><h1>four</h1><hr>five', 100, false, 'one two three four five'],
    ['inline elements, br included, do not', 'a<b>b</b><i>c</i><br>d<span>e</span>', 100, false, 'abcde'],
    ['lists', '<ul><li>x</li><li>y</li></ul>', 100, false, 'x y'],
    ['comments and doctype dropped', '<!DOCTYPE html><!-- c -->a<!---->b<!-->c<?php x ?>d<!-- -- --->e<!--x--!>f', 100, false, 'abcdef'],
    ['quoted attributes may hold ">"', '<a title="x > y" href=\'>\'>link</a>', 100, false, 'link'],
    ['a lone "<" is text', 'a < b <3', 100, false, 'a < b <3'],
    ['an unterminated tag is dropped', 'a<p class="x', 100, false, 'a'],
    ['an unclosed excluded element hides the rest', 'a<form>b', 100, false, 'a'],
    ['an outer end tag closes an excluded element', '<div><button>x</div>y', 100, false, 'y'],
    ['head dropped, a late <head> ignored', '<head><title>t</title></head><body>b<head>h</head></body>', 100, false, 'bh'],
    ['xmp content is literal', '<xmp><b>x</b></xmp>', 100, false, '<b>x</b>'],
    ['whitespace of every kind collapses', ' a \t\n\r\f b ', 100, false, 'a b'],
    ['emoji count as one code point', '😀😀😀😀', 2, true, '😀😀...'],
    ['a surrogate pair is never split', 'a😀b', 2, false, 'a😀'],
    ['no ellipsis without truncation', 'abc', 3, true, 'abc'],
    ['empty input', '', 5, true, ''],
    ['markup only', '<p><br></p>', 5, true, ''],
  ])('%s', (_name, input, max, withEllipsis, expected) => {
    expect(excerpt(input, max, withEllipsis)).toBe(expected);
  });

  it('stays linear on adversarial markup', () => {
    const n = 100_000;
    const nasty = '<b>'.repeat(n) + '</i>'.repeat(n) + '<script>'.repeat(n) + '&nbsp;'.repeat(n) + 'x';
    const started = Date.now();
    expect(excerpt(nasty, 10, true)).toBe('');
    expect(excerpt('<p>' + 'word '.repeat(n) + '</p>', 10, true)).toBe('word word...');
    expect(excerpt('<!---->'.repeat(n) + '<!--x--!>'.repeat(n) + '<!x>'.repeat(n) + 'end', 10, true)).toBe('end');
    expect(excerpt('<script></script>'.repeat(n) + '<a href="x">'.repeat(n) + 'end', 10, true)).toBe('end');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('property: output is trimmed, within length, and never splits a surrogate pair', () => {
    const isWellFormed = (s: string): boolean => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.integer({ min: 1, max: 40 }), fc.boolean(), (text, max, dots) => {
        const out = excerpt(text, max, dots);
        const body = dots && out.endsWith('...') ? out.slice(0, -3) : out;
        expect([...body].length).toBeLessThanOrEqual(max);
        expect(isWellFormed(out)).toBe(true);
        expect(out).toBe(out.trim());
      }),
    );
  });

  it('property: text without markup is only collapsed and trimmed', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z \t\n]{0,80}$/), (text) => {
        expect(excerpt(text, 1000, true)).toBe(text.replace(/[\t\n ]+/g, ' ').trim());
      }),
    );
  });
});

describe('pickFields properties', () => {
  type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
  const key = fc.stringMatching(/^[a-z][a-z0-9]{0,4}$/);
  const { json } = fc.letrec<{ json: Json; object: Record<string, Json> }>((tie) => ({
    json: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)),
      tie('object'),
      fc.array(tie('json'), { maxLength: 3 }),
    ),
    object: fc.dictionary(key, tie('json'), { maxKeys: 5 }),
  }));
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

  /** Every dotted path through nested objects, the paths through arrays of objects included. */
  function pathsOf(value: unknown, prefix: string, out: Set<string>): Set<string> {
    if (Array.isArray(value)) value.forEach((item) => pathsOf(item, prefix, out));
    else if (isObject(value)) {
      for (const [k, v] of Object.entries(value)) {
        const path = prefix === '' ? k : `${prefix}.${k}`;
        out.add(path);
        pathsOf(v, path, out);
      }
    }
    return out;
  }

  /** `result` is `input` with keys removed, at any depth, and nothing else changed. */
  function isSubValue(result: unknown, input: unknown): boolean {
    if (Array.isArray(input)) {
      return Array.isArray(result) && result.length === input.length && result.every((r, i) => isSubValue(r, input[i]));
    }
    if (isObject(input)) {
      return isObject(result) && Object.keys(result).every((k) => Object.hasOwn(input, k) && isSubValue(result[k], input[k]));
    }
    return Object.is(result, input);
  }

  /** The value at a path that only crosses objects, or undefined. */
  function at(value: unknown, path: string): unknown {
    let current = value;
    for (const segment of path.split('.')) {
      if (!isObject(current) || !Object.hasOwn(current, segment)) return undefined;
      current = current[segment];
    }
    return current;
  }

  const objectWithPicks = fc.dictionary(key, json, { maxKeys: 6 }).chain((input) =>
    fc.tuple(fc.constant(input), fc.subarray([...pathsOf(input, '', new Set<string>())]), fc.boolean()),
  );

  it('picking paths of the input yields a sub-object holding every picked path unchanged', () => {
    fc.assert(
      fc.property(objectWithPicks, ([input, paths, star]) => {
        const before = JSON.stringify(input);
        const fields = [...paths, ...(star ? ['*'] : [])].join(',');
        const result = pickFields(input, parseFields(fields));
        expect(JSON.stringify(input)).toBe(before);
        if (paths.length === 0 && !star) {
          expect(result).toBe(input);
          return;
        }
        expect(isSubValue(result, input)).toBe(true);
        for (const path of paths) {
          const expected = at(input, path);
          if (expected !== undefined) expect(at(result, path)).toEqual(expected);
        }
        const roots = new Set(paths.map((p) => p.split('.')[0]));
        const kept = Object.keys(result as object);
        if (star) expect(kept).toEqual(Object.keys(input));
        else expect(kept.every((k) => roots.has(k))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
