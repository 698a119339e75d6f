/** The key bound of JSON bodies, counted on the text before parsing (http/json-key-limit.ts). */
import { describe, expect, it } from 'vitest';
import { assertJsonKeyLimits } from '../../src/http/json-key-limit.js';

const object = (n: number, prefix = 'k') => `{${Array.from({ length: n }, (_, i) => `"${prefix}${i}":1`).join(',')}}`;

describe('assertJsonKeyLimits', () => {
  it('accepts objects up to the limit, refuses one key more with a 400', () => {
    expect(() => assertJsonKeyLimits(object(10), 10)).not.toThrow();
    expect(() => assertJsonKeyLimits(object(11), 10)).toThrow(expect.objectContaining({ status: 400, data: { '': expect.objectContaining({ code: 'validation_too_many_keys' }) } }));
  });

  it('counts keys per object: many small objects pass the per-object limit, the total still binds', () => {
    const many = `[${Array.from({ length: 5 }, () => object(8)).join(',')}]`;
    expect(() => assertJsonKeyLimits(many, 10)).not.toThrow();
    expect(() => assertJsonKeyLimits(many, 10, 39)).toThrow(expect.objectContaining({ data: { '': expect.objectContaining({ message: 'A body may have at most 39 keys in all.' }) } }));
  });

  it('does not count colons inside strings, escaped quotes included', () => {
    const text = `{"a":"${':'.repeat(50)}","b":"x\\":${':'.repeat(20)}","c":{"d":"::"}}`;
    expect(() => assertJsonKeyLimits(text, 3)).not.toThrow();
    expect(() => assertJsonKeyLimits(text, 1)).toThrow();
  });

  it("refuses the probe's million-key body", () => {
    expect(() => assertJsonKeyLimits(object(1_000_000))).toThrow(expect.objectContaining({ data: { '': expect.objectContaining({ message: 'An object may have at most 10000 keys.' }) } }));
  });
});
