/**
 * The dashboard's example-code colours (dashboard/src/lib/code-tokens.ts): the kinds of the
 * tokens in SDK, curl and JSON examples, and the tokens always adding up to the code exactly,
 * whatever the text.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { tokenize, type CodeLanguage } from '../../dashboard/src/lib/code-tokens.js';

const kinds = (code: string, language: CodeLanguage) => tokenize(code, language).filter((t) => t.kind !== 'plain').map((t) => [t.kind, t.text]);

describe('tokenize', () => {
  it('marks the keywords, strings, numbers and comments of an SDK example', () => {
    const code = "// list\nconst page = await pb.collection('posts').getList(1, 20, { filter: \"a = 'b'\" });";
    expect(kinds(code, 'js')).toEqual([
      ['comment', '// list'],
      ['keyword', 'const'],
      ['keyword', 'await'],
      ['string', "'posts'"],
      ['number', '1'],
      ['number', '20'],
      ['string', '"a = \'b\'"'],
    ]);
  });

  it('marks curl, its flags, strings and shell comments, not a # inside a URL', () => {
    const code = "# as a guest\ncurl -X POST 'http://127.0.0.1:8090/api/x#frag' \\\n  -H \"Authorization: $TOKEN\"";
    expect(kinds(code, 'shell')).toEqual([
      ['comment', '# as a guest'],
      ['keyword', 'curl'],
      ['keyword', '-X'],
      ['string', "'http://127.0.0.1:8090/api/x#frag'"],
      ['keyword', '-H'],
      ['string', '"Authorization: $TOKEN"'],
    ]);
  });

  it('tells a JSON key from a string value', () => {
    expect(kinds('{\n  "id": "abc",\n  "n": -1.5e3,\n  "ok" : true,\n  "x": null\n}', 'json')).toEqual([
      ['key', '"id"'],
      ['string', '"abc"'],
      ['key', '"n"'],
      ['number', '-1.5e3'],
      ['key', '"ok"'],
      ['keyword', 'true'],
      ['key', '"x"'],
      ['keyword', 'null'],
    ]);
  });

  it('adds up to the code exactly, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom<CodeLanguage>('js', 'shell', 'json'), (code, language) => {
        expect(tokenize(code, language).map((t) => t.text).join('')).toBe(code);
      }),
      { numRuns: 500 },
    );
  });
});
