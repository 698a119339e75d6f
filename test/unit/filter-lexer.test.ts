import { describe, expect, it } from 'vitest';
import { FilterSyntaxError, tokenize } from '../../src/core/rules/lexer.js';
import type { Token, TokenKind } from '../../src/core/rules/lexer.js';

/** `[kind, value]` pairs: spans are asserted separately, where they are the point. */
type Lexeme = [TokenKind, string];

function lexemes(input: string): Lexeme[] {
  return tokenize(input).map((t): Lexeme => [t.kind, t.value]);
}

const OPERATORS = ['=', '!=', '~', '!~', '<', '<=', '>', '>=', '?=', '?!=', '?~', '?!~', '?<', '?<=', '?>', '?>='];

describe('tokenize', () => {
  describe('operators', () => {
    it.each(OPERATORS)('%s, with and without spaces around it', (op) => {
      expect(lexemes(`a${op}b`)).toEqual([['identifier', 'a'], ['operator', op], ['identifier', 'b']]);
      expect(lexemes(`a ${op} b`)).toEqual([['identifier', 'a'], ['operator', op], ['identifier', 'b']]);
    });

    it('reads all operators in a row', () => {
      expect(lexemes(OPERATORS.join(' '))).toEqual(OPERATORS.map((op) => ['operator', op]));
    });

    it.each([
      { input: 'a=-1', expected: [['identifier', 'a'], ['operator', '='], ['number', '-1']] },
      { input: 'a>=-1.5', expected: [['identifier', 'a'], ['operator', '>='], ['number', '-1.5']] },
      { input: 'a?!=-2', expected: [['identifier', 'a'], ['operator', '?!='], ['number', '-2']] },
    ])('an operator followed by a negative number: $input', ({ input, expected }) => {
      expect(lexemes(input)).toEqual(expected);
    });
  });

  describe('joins, parentheses and commas', () => {
    it.each([
      { input: 'a=1&&b=2', expected: [['identifier', 'a'], ['operator', '='], ['number', '1'], ['and', '&&'], ['identifier', 'b'], ['operator', '='], ['number', '2']] },
      { input: '&& ||', expected: [['and', '&&'], ['or', '||']] },
      { input: '(a)', expected: [['lparen', '('], ['identifier', 'a'], ['rparen', ')']] },
      { input: '((', expected: [['lparen', '('], ['lparen', '(']] },
      { input: 'f(a,b)', expected: [['identifier', 'f'], ['lparen', '('], ['identifier', 'a'], ['comma', ','], ['identifier', 'b'], ['rparen', ')']] },
      { input: ',,', expected: [['comma', ','], ['comma', ',']] },
    ])('$input', ({ input, expected }) => {
      expect(lexemes(input)).toEqual(expected);
    });
  });

  describe('identifiers', () => {
    it.each([
      'a',
      'title',
      'Field_2',
      '_id',
      'author.name',
      'a.b.c',
      'tags:each',
      'tags:length',
      'name:lower',
      '@now',
      '@request.auth.id',
      '@request.body.x:isset',
      '@request.body.title:changed',
      '@collection.posts:alias.title',
      '@collection.posts.author',
      '#tag',
      'posts_via_author.title',
      'a..b',
      'null',
      'true',
      'false',
    ])('%s is one identifier', (name) => {
      expect(lexemes(name)).toEqual([['identifier', name]]);
    });

    it.each([
      { input: 'a@b', expected: [['identifier', 'a'], ['identifier', '@b']] },
      { input: 'a#b', expected: [['identifier', 'a'], ['identifier', '#b']] },
      { input: 'a1 2', expected: [['identifier', 'a1'], ['number', '2']] },
      { input: 'a-1', expected: [['identifier', 'a'], ['number', '-1']] },
    ])('@ and # only start an identifier: $input', ({ input, expected }) => {
      expect(lexemes(input)).toEqual(expected);
    });
  });

  describe('quoted text', () => {
    it.each([
      { input: `''`, value: '' },
      { input: `""`, value: '' },
      { input: `'hello world'`, value: 'hello world' },
      { input: `"hello world"`, value: 'hello world' },
      { input: `'it\\'s'`, value: "it's" },
      { input: `"say \\"hi\\""`, value: 'say "hi"' },
      { input: `"it's"`, value: "it's" },
      { input: `'say "hi"'`, value: 'say "hi"' },
      // Only the quote in use is escapable; any other backslash stays as written (fexpr).
      { input: `'a\\"b'`, value: 'a\\"b' },
      { input: `'C:\\path\\n'`, value: 'C:\\path\\n' },
      { input: `'a\\\\'b'`, value: "a\\'b" },
      { input: `'// not a comment'`, value: '// not a comment' },
      { input: `'a && b || (c)'`, value: 'a && b || (c)' },
      { input: `'$^é 日本 🎉'`, value: '$^é 日本 🎉' },
      { input: `'line\nbreak'`, value: 'line\nbreak' },
    ])('$input', ({ input, value }) => {
      expect(tokenize(input)).toEqual([{ kind: 'text', value, start: 0, end: input.length }]);
    });
  });

  describe('double-quoted text is a JSON string literal (what pb.filter() writes)', () => {
    // The SDK's pb.filter() quotes every string parameter with JSON.stringify: each of these must
    // come back exactly, including the ones fexpr itself would mangle (a backslash, a newline).
    it.each([
      'back\\slash',
      'ends with a backslash\\',
      '\\\\',
      '\\"',
      'say "hi"',
      "it's",
      'line\nbreak',
      'tab\there',
      'cr\r\n',
      'controls \u0001\u0008\u000b\u000c\u001f\u007f',
      'emoji 🎉 and 日本',
      'separators \u2028 \u2029',
      'lone surrogate \ud800',
      'looks like an escape: \\n \\u0041 \\"',
      '',
    ])('%j round-trips', (value) => {
      const input = JSON.stringify(value);
      expect(tokenize(input)).toEqual([{ kind: 'text', value, start: 0, end: input.length }]);
    });

    it.each([
      { input: String.raw`"\\"`, value: '\\' },
      { input: String.raw`"a\\\\b"`, value: 'a\\\\b' },
      { input: String.raw`"\u00e9\u00E9"`, value: 'éé' },
      { input: String.raw`"\b\f"`, value: '\b\f' },
      // A backslash that starts no JSON escape is kept as written, as in fexpr (LIKE escapes).
      { input: String.raw`"50\%"`, value: '50\\%' },
      { input: String.raw`"a\_b"`, value: 'a\\_b' },
      { input: String.raw`"C:\path"`, value: 'C:\\path' },
      { input: String.raw`"\/"`, value: '\\/' },
      { input: String.raw`"\u12"`, value: '\\u12' },
      { input: String.raw`"\u12G4"`, value: '\\u12G4' },
      { input: String.raw`"\'"`, value: "\\'" },
    ])('$input', ({ input, value }) => {
      expect(tokenize(input)).toEqual([{ kind: 'text', value, start: 0, end: input.length }]);
    });

    it('a comparison with an SDK-quoted value ending in a backslash', () => {
      expect(lexemes(`title = ${JSON.stringify('a\\')} && b = 1`)).toEqual([
        ['identifier', 'title'], ['operator', '='], ['text', 'a\\'], ['and', '&&'],
        ['identifier', 'b'], ['operator', '='], ['number', '1'],
      ]);
    });

    it('single quotes keep fexpr\'s reading: only \\\' is an escape', () => {
      expect(lexemes(String.raw`'a\\b\n'`)).toEqual([['text', String.raw`a\\b\n`]]);
    });
  });

  describe('numbers', () => {
    it.each([
      { input: '0', expected: ['0'] },
      { input: '12', expected: ['12'] },
      { input: '-3', expected: ['-3'] },
      { input: '-3.5', expected: ['-3.5'] },
      { input: '10.50', expected: ['10.50'] },
      { input: '007', expected: ['007'] },
      { input: '-.5', expected: ['-.5'] },
      { input: '12-3', expected: ['12', '-3'] },
    ])('$input', ({ input, expected }) => {
      expect(lexemes(input)).toEqual(expected.map((n) => ['number', n]));
    });

    it('stops a number at the second dot, leaving a stray dot', () => {
      expect(() => tokenize('1.2.3')).toThrow('unexpected character "." at 3');
    });

    it('has no exponent: 1e3 is a number then an identifier', () => {
      expect(lexemes('1e3')).toEqual([['number', '1'], ['identifier', 'e3']]);
    });
  });

  describe('whitespace and comments', () => {
    it.each([
      { input: '', expected: [] },
      { input: ' \t\n\r\n ', expected: [] },
      { input: '// only a comment', expected: [] },
      { input: '//', expected: [] },
      { input: 'a = 1 // trailing', expected: [['identifier', 'a'], ['operator', '='], ['number', '1']] },
      { input: '// first line\na = 1', expected: [['identifier', 'a'], ['operator', '='], ['number', '1']] },
      { input: 'a = 1 // c1 && x\n&& b = 2', expected: [['identifier', 'a'], ['operator', '='], ['number', '1'], ['and', '&&'], ['identifier', 'b'], ['operator', '='], ['number', '2']] },
      { input: 'a///x\n=1', expected: [['identifier', 'a'], ['operator', '='], ['number', '1']] },
      { input: "'x // y' // z", expected: [['text', 'x // y']] },
      { input: 'a\t=\n1', expected: [['identifier', 'a'], ['operator', '='], ['number', '1']] },
    ])('$input', ({ input, expected }) => {
      expect(lexemes(input)).toEqual(expected);
    });
  });

  describe('spans', () => {
    it('gives every token its 0-based start and end offsets', () => {
      const expected: Token[] = [
        { kind: 'lparen', value: '(', start: 0, end: 1 },
        { kind: 'identifier', value: '@request.auth.id', start: 1, end: 17 },
        { kind: 'operator', value: '?!=', start: 18, end: 21 },
        { kind: 'text', value: "it's", start: 22, end: 29 },
        { kind: 'rparen', value: ')', start: 29, end: 30 },
        { kind: 'or', value: '||', start: 31, end: 33 },
        { kind: 'identifier', value: 'f', start: 41, end: 42 },
        { kind: 'lparen', value: '(', start: 42, end: 43 },
        { kind: 'number', value: '-1.5', start: 43, end: 47 },
        { kind: 'comma', value: ',', start: 47, end: 48 },
        { kind: 'identifier', value: 'x', start: 48, end: 49 },
        { kind: 'rparen', value: ')', start: 49, end: 50 },
        { kind: 'operator', value: '>', start: 50, end: 51 },
        { kind: 'number', value: '0', start: 51, end: 52 },
      ];
      expect(tokenize(`(@request.auth.id ?!= 'it\\'s') || // c\n  f(-1.5,x)>0`)).toEqual(expected);
    });
  });

  describe('errors', () => {
    it.each([
      { input: `'abc`, message: 'unterminated string at 0' },
      { input: `a = "abc`, message: 'unterminated string at 4' },
      { input: `'a\\'`, message: 'unterminated string at 0' },
      { input: `"a\\"`, message: 'unterminated string at 0' },
      { input: `"a\\\\\\"`, message: 'unterminated string at 0' },
      { input: `"mixed'`, message: 'unterminated string at 0' },
      { input: 'a = $x', message: 'unexpected character "$" at 4' },
      { input: 'a ^ b', message: 'unexpected character "^" at 2' },
      { input: '.5', message: 'unexpected character "." at 0' },
      { input: 'a = :b', message: 'unexpected character ":" at 4' },
      { input: 'a / b', message: 'unexpected character "/" at 2' },
      { input: 'a = [1]', message: 'unexpected character "[" at 4' },
      { input: 'a = 🎉', message: 'unexpected character "🎉" at 4' },
      { input: 'a == b', message: 'invalid operator "==" at 2' },
      { input: 'a =! b', message: 'invalid operator "=!" at 2' },
      { input: 'a ! b', message: 'invalid operator "!" at 2' },
      { input: 'a ? b', message: 'invalid operator "?" at 2' },
      { input: 'a ?? b', message: 'invalid operator "??" at 2' },
      { input: 'a <> b', message: 'invalid operator "<>" at 2' },
      { input: 'a=1 & b=2', message: 'invalid operator "&" at 4' },
      { input: 'a=1 | b=2', message: 'invalid operator "|" at 4' },
      { input: 'a=1 &&& b=2', message: 'invalid operator "&&&" at 4' },
      { input: 'a=1 &| b=2', message: 'invalid operator "&|" at 4' },
      { input: 'a = 1.', message: 'invalid number "1." at 4' },
      { input: 'a = -', message: 'invalid number "-" at 4' },
      { input: 'a = - 1', message: 'invalid number "-" at 4' },
      { input: 'a = --1', message: 'invalid number "-" at 4' },
      { input: 'a = 1' + '0'.repeat(400), message: /^invalid number "10{20}\.\.\." at 4$/ },
      { input: 'a. = 1', message: 'invalid identifier "a." at 0' },
      { input: 'tags: = 1', message: 'invalid identifier "tags:" at 0' },
      { input: '@ = 1', message: 'invalid identifier "@" at 0' },
      { input: '_ = 1', message: 'invalid identifier "_" at 0' },
      { input: '# = 1', message: 'invalid identifier "#" at 0' },
    ])('$input', ({ input, message }) => {
      let caught: unknown;
      try {
        tokenize(input);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(FilterSyntaxError);
      expect((caught as FilterSyntaxError).message).toMatch(message);
      const position = Number(/at (\d+)$/.exec((caught as FilterSyntaxError).message)?.[1]);
      expect((caught as FilterSyntaxError).position).toBe(position);
    });
  });
});
