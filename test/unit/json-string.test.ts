import fc from 'fast-check';
import { expect, it } from 'vitest';
import { jsonString } from '../../src/core/logs/request-log-format.js';

it('writes any string exactly as JSON.stringify does', () => {
  for (const s of ['', 'plain', 'a"b', 'a\\b', 'x\u0001', 'tab\t', '\ud800 lone', 'é🌍', '\u2028\u2029', '/api/x?y="1"']) expect(jsonString(s)).toBe(JSON.stringify(s));
  fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => jsonString(s) === JSON.stringify(s)), { numRuns: 5000 });
});
