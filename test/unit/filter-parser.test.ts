import { describe, expect, it } from 'vitest';
import { FILTER_MAX_EXPRESSIONS, FILTER_MAX_LENGTH } from '../../src/core/rules/ast.js';
import type { CompareOp, Expr, Operand } from '../../src/core/rules/ast.js';
import { FILTER_MAX_DEPTH, FilterSyntaxError, parseFilter } from '../../src/core/rules/parser.js';

// Builders of span-less trees, so the tables read like the filters they describe.
type BareOperand =
  | { kind: 'identifier'; name: string }
  | { kind: 'text'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'function'; name: string; args: BareOperand[] };
type BareExpr =
  | { kind: 'comparison'; op: CompareOp; any: boolean; left: BareOperand; right: BareOperand }
  | { kind: 'and' | 'or'; left: BareExpr; right: BareExpr };

const id = (name: string): BareOperand => ({ kind: 'identifier', name });
const txt = (value: string): BareOperand => ({ kind: 'text', value });
const num = (value: number): BareOperand => ({ kind: 'number', value });
const fn = (name: string, ...args: BareOperand[]): BareOperand => ({ kind: 'function', name, args });
function cmp(left: BareOperand, op: string, right: BareOperand): BareExpr {
  const any = op.startsWith('?');
  return { kind: 'comparison', op: (any ? op.slice(1) : op) as CompareOp, any, left, right };
}
const and = (left: BareExpr, right: BareExpr): BareExpr => ({ kind: 'and', left, right });
const or = (left: BareExpr, right: BareExpr): BareExpr => ({ kind: 'or', left, right });
/** `a = 1` shorthand for the precedence tables. */
const eq = (name: string, value: number): BareExpr => cmp(id(name), '=', num(value));

function stripSpans(node: Expr | Operand): unknown {
  const { start: _start, end: _end, ...rest } = node;
  if (rest.kind === 'function') return { ...rest, args: rest.args.map(stripSpans) };
  if (rest.kind === 'comparison' || rest.kind === 'and' || rest.kind === 'or') {
    return { ...rest, left: stripSpans(rest.left), right: stripSpans(rest.right) };
  }
  return rest;
}

const parse = (input: string): unknown => stripSpans(parseFilter(input));

function syntaxError(input: string): FilterSyntaxError {
  try {
    parseFilter(input);
  } catch (error) {
    expect(error).toBeInstanceOf(FilterSyntaxError);
    return error as FilterSyntaxError;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
}

describe('parseFilter', () => {
  describe('operators', () => {
    const ops = ['=', '!=', '~', '!~', '<', '<=', '>', '>='];
    it.each(ops)('%s and ?%s', (op) => {
      expect(parse(`title ${op} 'x'`)).toEqual(cmp(id('title'), op, txt('x')));
      expect(parse(`tags ?${op} 'x'`)).toEqual(cmp(id('tags'), `?${op}`, txt('x')));
      expect(parse(`tags?${op}'x'`)).toEqual(cmp(id('tags'), `?${op}`, txt('x')));
    });
  });

  describe('operands', () => {
    it.each([
      { input: `a = 'single'`, expected: cmp(id('a'), '=', txt('single')) },
      { input: `a = "double"`, expected: cmp(id('a'), '=', txt('double')) },
      { input: `a = 'it\\'s'`, expected: cmp(id('a'), '=', txt("it's")) },
      { input: `a = "say \\"hi\\""`, expected: cmp(id('a'), '=', txt('say "hi"')) },
      { input: `a = ''`, expected: cmp(id('a'), '=', txt('')) },
      { input: `'x' = a`, expected: cmp(txt('x'), '=', id('a')) },
      { input: 'a = 12', expected: cmp(id('a'), '=', num(12)) },
      { input: 'a > -3.5', expected: cmp(id('a'), '>', num(-3.5)) },
      { input: 'a<=-1', expected: cmp(id('a'), '<=', num(-1)) },
      { input: 'a = -0', expected: cmp(id('a'), '=', num(0)) },
      { input: 'a = -.5', expected: cmp(id('a'), '=', num(-0.5)) },
      { input: '1 = 1', expected: cmp(num(1), '=', num(1)) },
      { input: 'a = null', expected: cmp(id('a'), '=', id('null')) },
      { input: 'a != true && b = false', expected: and(cmp(id('a'), '!=', id('true')), cmp(id('b'), '=', id('false'))) },
      { input: '@request.auth.id != ""', expected: cmp(id('@request.auth.id'), '!=', txt('')) },
      { input: 'author = @request.auth.id', expected: cmp(id('author'), '=', id('@request.auth.id')) },
      { input: 'author.name ~ "x"', expected: cmp(id('author.name'), '~', txt('x')) },
      { input: 'tags:each ?= "a"', expected: cmp(id('tags:each'), '?=', txt('a')) },
      { input: 'tags:length > 2', expected: cmp(id('tags:length'), '>', num(2)) },
      { input: '@request.body.x:isset = true', expected: cmp(id('@request.body.x:isset'), '=', id('true')) },
      { input: '@collection.posts:alias.title = title', expected: cmp(id('@collection.posts:alias.title'), '=', id('title')) },
      { input: 'created > @now', expected: cmp(id('created'), '>', id('@now')) },
      { input: 'posts_via_author.title ?= "x"', expected: cmp(id('posts_via_author.title'), '?=', txt('x')) },
      { input: '#x = 1', expected: cmp(id('#x'), '=', num(1)) },
    ])('$input', ({ input, expected }) => {
      expect(parse(input)).toEqual(expected);
    });
  });

  describe('functions', () => {
    it.each([
      { input: 'f() = 1', expected: cmp(fn('f'), '=', num(1)) },
      { input: 'f(a) = 1', expected: cmp(fn('f', id('a')), '=', num(1)) },
      { input: 'f( a , "b" ) = 1', expected: cmp(fn('f', id('a'), txt('b')), '=', num(1)) },
      {
        input: 'geoDistance(lon, lat, 1.5, -2) < 25',
        expected: cmp(fn('geoDistance', id('lon'), id('lat'), num(1.5), num(-2)), '<', num(25)),
      },
      {
        input: "strftime('%Y-%m', created, 'start of month') = '2024-01'",
        expected: cmp(fn('strftime', txt('%Y-%m'), id('created'), txt('start of month')), '=', txt('2024-01')),
      },
      { input: "x = strftime('%Y')", expected: cmp(id('x'), '=', fn('strftime', txt('%Y'))) },
      { input: 'f(g(1), h()) = 1', expected: cmp(fn('f', fn('g', num(1)), fn('h')), '=', num(1)) },
      { input: 'f(g(h(1))) = 1', expected: cmp(fn('f', fn('g', fn('h', num(1)))), '=', num(1)) },
      { input: 'f(@request.auth.id, a.b:lower) = 1', expected: cmp(fn('f', id('@request.auth.id'), id('a.b:lower')), '=', num(1)) },
      { input: 'f(a,) = 1', expected: cmp(fn('f', id('a')), '=', num(1)) },
      { input: 'f(\n  a, // first\n  b\n) = 1', expected: cmp(fn('f', id('a'), id('b')), '=', num(1)) },
      { input: 'f(a)=f(b)', expected: cmp(fn('f', id('a')), '=', fn('f', id('b'))) },
    ])('$input', ({ input, expected }) => {
      expect(parse(input)).toEqual(expected);
    });
  });

  describe('precedence and grouping', () => {
    it.each([
      { input: 'a=1 && b=2', expected: and(eq('a', 1), eq('b', 2)) },
      { input: 'a=1 || b=2', expected: or(eq('a', 1), eq('b', 2)) },
      { input: 'a=1 || b=2 && c=3', expected: or(eq('a', 1), and(eq('b', 2), eq('c', 3))) },
      { input: 'a=1 && b=2 || c=3', expected: or(and(eq('a', 1), eq('b', 2)), eq('c', 3)) },
      { input: 'a=1 && b=2 && c=3', expected: and(and(eq('a', 1), eq('b', 2)), eq('c', 3)) },
      { input: 'a=1 || b=2 || c=3', expected: or(or(eq('a', 1), eq('b', 2)), eq('c', 3)) },
      { input: '(a=1 || b=2) && c=3', expected: and(or(eq('a', 1), eq('b', 2)), eq('c', 3)) },
      { input: 'a=1 && (b=2 || c=3)', expected: and(eq('a', 1), or(eq('b', 2), eq('c', 3))) },
      { input: 'a=1 || (b=2 || c=3)', expected: or(eq('a', 1), or(eq('b', 2), eq('c', 3))) },
      { input: '((a=1))', expected: eq('a', 1) },
      { input: '(a=1) && ((b=2))', expected: and(eq('a', 1), eq('b', 2)) },
      {
        input: 'a=1 || b=2 && c=3 || d=4 && e=5',
        expected: or(or(eq('a', 1), and(eq('b', 2), eq('c', 3))), and(eq('d', 4), eq('e', 5))),
      },
    ])('$input', ({ input, expected }) => {
      expect(parse(input)).toEqual(expected);
    });
  });

  describe('whitespace and comments', () => {
    it.each([
      { input: '  a = 1  ', expected: eq('a', 1) },
      { input: 'a=1', expected: eq('a', 1) },
      { input: '\ta\n=\r\n1\n', expected: eq('a', 1) },
      { input: 'a = 1 // the end', expected: eq('a', 1) },
      { input: '// on its own line\na = 1', expected: eq('a', 1) },
      { input: 'a = 1 &&\n// b = 2 &&\nc = 3', expected: and(eq('a', 1), eq('c', 3)) },
      { input: "a = '// not a comment'", expected: cmp(id('a'), '=', txt('// not a comment')) },
      { input: 'a = "x" // "y"', expected: cmp(id('a'), '=', txt('x')) },
    ])('$input', ({ input, expected }) => {
      expect(parse(input)).toEqual(expected);
    });
  });

  describe('spans', () => {
    it('spans operands, comparisons and joins, without the parentheses', () => {
      expect(parseFilter("(a = 'x') || f(b, 1) > -2")).toEqual({
        kind: 'or',
        start: 1,
        end: 25,
        left: {
          kind: 'comparison',
          op: '=',
          any: false,
          start: 1,
          end: 8,
          left: { kind: 'identifier', name: 'a', start: 1, end: 2 },
          right: { kind: 'text', value: 'x', start: 5, end: 8 },
        },
        right: {
          kind: 'comparison',
          op: '>',
          any: false,
          start: 13,
          end: 25,
          left: {
            kind: 'function',
            name: 'f',
            start: 13,
            end: 20,
            args: [
              { kind: 'identifier', name: 'b', start: 15, end: 16 },
              { kind: 'number', value: 1, start: 18, end: 19 },
            ],
          },
          right: { kind: 'number', value: -2, start: 23, end: 25 },
        },
      });
    });

    it('spans an any-comparison across a newline', () => {
      const expr = parseFilter('tags\n  ?!= "x"');
      expect(expr).toMatchObject({ kind: 'comparison', op: '!=', any: true, start: 0, end: 14 });
    });
  });

  describe('errors', () => {
    it.each([
      { input: '', message: 'empty filter expression', position: 0 },
      { input: '   \n\t', message: 'empty filter expression', position: 0 },
      { input: '// nothing but a comment', message: 'empty filter expression', position: 0 },
      { input: 'a', message: 'unexpected end of filter at 1', position: 1 },
      { input: 'a =', message: 'unexpected end of filter at 3', position: 3 },
      { input: '= 1', message: 'unexpected "=" at 0', position: 0 },
      { input: '=', message: 'unexpected "=" at 0', position: 0 },
      { input: 'a 1', message: 'unexpected "1" at 2', position: 2 },
      { input: "a 'x'", message: 'unexpected text "x" at 2', position: 2 },
      { input: 'a = = 1', message: 'unexpected "=" at 4', position: 4 },
      { input: 'a = 1 b = 2', message: 'unexpected "b" at 6', position: 6 },
      { input: 'a = 1 (b = 2)', message: 'unexpected "(" at 6', position: 6 },
      { input: 'a = 1 &&', message: 'unexpected end of filter at 8', position: 8 },
      { input: '&& a = 1', message: 'unexpected "&&" at 0', position: 0 },
      { input: 'a = 1 && && b = 2', message: 'unexpected "&&" at 9', position: 9 },
      { input: 'a = 1 || && b = 2', message: 'unexpected "&&" at 9', position: 9 },
      { input: 'a = 1 ||', message: 'unexpected end of filter at 8', position: 8 },
      { input: '(a = 1', message: 'unexpected end of filter at 6', position: 6 },
      { input: 'a = 1)', message: 'unexpected ")" at 5', position: 5 },
      { input: '((a = 1)', message: 'unexpected end of filter at 8', position: 8 },
      { input: '()', message: 'unexpected ")" at 1', position: 1 },
      { input: 'a = 1 && ()', message: 'unexpected ")" at 10', position: 10 },
      { input: '(a) = 1', message: 'unexpected ")" at 2', position: 2 },
      { input: 'a = (1)', message: 'unexpected "(" at 4', position: 4 },
      { input: 'a = "x', message: 'unterminated string at 4', position: 4 },
      { input: 'a = $', message: 'unexpected character "$" at 4', position: 4 },
      { input: 'a ^ 1', message: 'unexpected character "^" at 2', position: 2 },
      { input: 'a == 1', message: 'invalid operator "==" at 2', position: 2 },
      { input: 'a = 1 & b = 2', message: 'invalid operator "&" at 6', position: 6 },
      { input: 'f (a) = 1', message: 'unexpected "(" at 2', position: 2 },
      { input: 'f(a = 1', message: 'unexpected "=" at 4', position: 4 },
      { input: 'f(a b) = 1', message: 'unexpected "b" at 4', position: 4 },
      { input: 'f(,) = 1', message: 'unexpected "," at 2', position: 2 },
      { input: 'f(a,,b) = 1', message: 'unexpected "," at 4', position: 4 },
      { input: 'f(a', message: 'unexpected end of filter at 3', position: 3 },
      { input: 'f((a)) = 1', message: 'unexpected "(" at 2', position: 2 },
      { input: 'f(a = 1) = 1', message: 'unexpected "=" at 4', position: 4 },
      { input: 'a = 1, b = 2', message: 'unexpected "," at 5', position: 5 },
      { input: 'f(g(h(i(1)))) = 1', message: 'too many nested function calls (max 3) at 6', position: 6 },
      {
        input: `f(${Array.from({ length: 17 }, (_, i) => i).join(',')}) = 1`,
        message: 'too many function arguments (max 16) at 40',
        position: 40,
      },
    ])('$input', ({ input, message, position }) => {
      const error = syntaxError(input);
      expect(error.message).toBe(message);
      expect(error.position).toBe(position);
      expect(error.name).toBe('FilterSyntaxError');
    });
  });

  describe('limits', () => {
    const comparisons = (count: number): string => Array.from({ length: count }, (_, i) => `a=${i}`).join('&&');

    it(`accepts ${FILTER_MAX_EXPRESSIONS} comparisons and refuses one more`, () => {
      expect(() => parseFilter(comparisons(FILTER_MAX_EXPRESSIONS))).not.toThrow();
      const error = syntaxError(comparisons(FILTER_MAX_EXPRESSIONS + 1));
      expect(error.message).toMatch(/^too many expressions \(max 200\) at \d+$/);
    });

    it(`accepts ${FILTER_MAX_LENGTH} characters and refuses one more`, () => {
      const filter = `a = '${'x'.repeat(FILTER_MAX_LENGTH - 6)}'`;
      expect(filter).toHaveLength(FILTER_MAX_LENGTH);
      expect(() => parseFilter(filter)).not.toThrow();
      const error = syntaxError(`${filter} `);
      expect(error.message).toBe('filter is too long (max 3500 characters)');
      expect(error.position).toBe(FILTER_MAX_LENGTH);
    });

    it(`accepts ${FILTER_MAX_DEPTH} nested parentheses and refuses one more`, () => {
      const nested = (depth: number): string => `${'('.repeat(depth)}a=1${')'.repeat(depth)}`;
      expect(parse(nested(FILTER_MAX_DEPTH))).toEqual(eq('a', 1));
      expect(syntaxError(nested(FILTER_MAX_DEPTH + 1)).message).toBe('too many nested parentheses (max 100) at 100');
    });

    it('refuses pathological nesting without overflowing the stack', () => {
      for (const input of ['('.repeat(FILTER_MAX_LENGTH), `${'(a=1 || '.repeat(380)}a=1`, 'f('.repeat(1000)]) {
        expect(syntaxError(input)).toBeInstanceOf(FilterSyntaxError);
      }
    });

    it('parses a maximal filter quickly', () => {
      const filter = comparisons(FILTER_MAX_EXPRESSIONS);
      const started = performance.now();
      for (let i = 0; i < 100; i++) parseFilter(filter);
      expect(performance.now() - started).toBeLessThan(1000);
    });
  });
});
