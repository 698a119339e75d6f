import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FILTER_MAX_LENGTH } from '../../src/core/rules/ast.js';
import type { CompareOp, Expr, Operand } from '../../src/core/rules/ast.js';
import { tokenize } from '../../src/core/rules/lexer.js';
import { FilterSyntaxError, parseFilter } from '../../src/core/rules/parser.js';

// Span-less trees: what the generators build and what a parse is compared with.
type BareOperand =
  | { kind: 'identifier'; name: string }
  | { kind: 'text'; value: string; quote: "'" | '"' }
  | { kind: 'number'; value: number; literal: string }
  | { kind: 'function'; name: string; args: BareOperand[] };
type BareExpr =
  | { kind: 'comparison'; op: CompareOp; any: boolean; left: BareOperand; right: BareOperand }
  | { kind: 'and' | 'or'; left: BareExpr; right: BareExpr };

function stripSpans(node: Expr | Operand): unknown {
  const { start: _start, end: _end, ...rest } = node;
  if (rest.kind === 'function') return { ...rest, args: rest.args.map(stripSpans) };
  if (rest.kind === 'comparison' || rest.kind === 'and' || rest.kind === 'or') {
    return { ...rest, left: stripSpans(rest.left), right: stripSpans(rest.right) };
  }
  return rest;
}

/** The tree the parser should return: printing details (quote style, literal) dropped. */
function expected(node: BareExpr | BareOperand): unknown {
  switch (node.kind) {
    case 'text':
      return { kind: 'text', value: node.value };
    case 'number':
      return { kind: 'number', value: node.value };
    case 'identifier':
      return node;
    case 'function':
      return { kind: 'function', name: node.name, args: node.args.map(expected) };
    case 'comparison':
      return { ...node, left: expected(node.left), right: expected(node.right) };
    default:
      return { kind: node.kind, left: expected(node.left), right: expected(node.right) };
  }
}

/** fexpr escaping: only the quote in use is escaped; a trailing backslash cannot be written. */
function fexprQuote(value: string, quote: "'" | '"'): string {
  return quote + value.replaceAll(quote, `\\${quote}`) + quote;
}

/**
 * How a client writes text: single quotes as in fexpr; double quotes as JSON, which is what the
 * SDK's `pb.filter()` writes (JSON.stringify) and Basalt's lexer reads back exactly.
 */
function quoteText(value: string, quote: "'" | '"'): string {
  return quote === '"' ? JSON.stringify(value) : fexprQuote(value, quote);
}

/** Prints a tree as filter source, with the separators and redundant parentheses it is given. */
function printFilter(expr: BareExpr, separators: string[], extraParens: boolean[]): string {
  let s = 0;
  let p = 0;
  const sep = (): string => separators[s++ % separators.length];
  const paren = (): boolean => extraParens[p++ % extraParens.length];

  const operand = (node: BareOperand): string => {
    switch (node.kind) {
      case 'identifier':
        return node.name;
      case 'text':
        return quoteText(node.value, node.quote);
      case 'number':
        return node.literal;
      case 'function':
        return `${node.name}(${sep()}${node.args.map((arg) => operand(arg) + sep()).join(`,${sep()}`)})`;
    }
  };

  const print = (node: BareExpr, needsParens: boolean): string => {
    let out: string;
    if (node.kind === 'comparison') {
      out = `${operand(node.left)}${sep()}${node.any ? '?' : ''}${node.op}${sep()}${operand(node.right)}`;
    } else {
      // Left-associative: a child of the same kind needs parentheses only on the right, and an
      // `or` under an `and` always does.
      const join = node.kind === 'and' ? '&&' : '||';
      const left = print(node.left, node.kind === 'and' && node.left.kind === 'or');
      const right = print(node.right, node.right.kind === 'or' || (node.kind === 'and' && node.right.kind === 'and'));
      out = `${left} ${sep()}${join}${sep()} ${right}`;
    }
    return needsParens || paren() ? `(${sep()}${out}${sep()})` : out;
  };

  return print(expr, false);
}

// --- generators -------------------------------------------------------------------------------

const segment = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_]{0,5}$/);
const identifierName = fc
  .tuple(fc.constantFrom('', '', '@', '#', '_'), segment, fc.array(fc.tuple(fc.constantFrom('.', ':'), segment), { maxLength: 3 }))
  .map(([prefix, first, rest]) => prefix + first + rest.map(([joiner, part]) => joiner + part).join(''));

/** Text content, heavy on the characters that matter to the scanner. */
const textContent = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: fc.constantFrom("'", '"', '\\', 'a', ' ', '/', '\n', '(', '&'), maxLength: 20 }),
);
const writableText = textContent.filter((value) => !value.endsWith('\\'));

const identifier = identifierName.map((name): BareOperand => ({ kind: 'identifier', name }));
const text = fc
  .tuple(writableText, fc.constantFrom("'", '"') as fc.Arbitrary<"'" | '"'>)
  .map(([value, quote]): BareOperand => ({ kind: 'text', value, quote }));
const number = fc
  .tuple(fc.boolean(), fc.nat({ max: 1_000_000_000 }), fc.option(fc.stringMatching(/^[0-9]{1,4}$/), { nil: undefined }))
  .map(([negative, int, fraction]): BareOperand => {
    const literal = `${negative ? '-' : ''}${int}${fraction === undefined ? '' : `.${fraction}`}`;
    return { kind: 'number', value: Number(literal) || 0, literal };
  });
const leaf = fc.oneof(identifier, text, number);

/** Calls nest at most 3 deep (fexpr's limit), so the depth is spelled out rather than recursive. */
const call = (arg: fc.Arbitrary<BareOperand>): fc.Arbitrary<BareOperand> =>
  fc.record({ name: identifierName, args: fc.array(arg, { maxLength: 4 }) }).map(({ name, args }) => ({ kind: 'function' as const, name, args }));
const operand = fc.oneof({ weight: 4, arbitrary: leaf }, { weight: 1, arbitrary: call(fc.oneof(leaf, call(fc.oneof(leaf, call(leaf))))) });

const OPS: CompareOp[] = ['=', '!=', '~', '!~', '<', '<=', '>', '>='];
const comparison = fc
  .record({ op: fc.constantFrom(...OPS), any: fc.boolean(), left: operand, right: operand })
  .map((c): BareExpr => ({ kind: 'comparison', ...c }));

const { expr } = fc.letrec<{ expr: BareExpr; logical: BareExpr }>((tie) => ({
  expr: fc.oneof({ maxDepth: 4, depthIdentifier: 'expr' }, comparison, tie('logical')),
  logical: fc
    .record({ kind: fc.constantFrom('and', 'or'), left: tie('expr'), right: tie('expr') })
    .map((l): BareExpr => l as BareExpr),
}));

const separators = fc.array(fc.constantFrom('', ' ', '  ', '\n', '\t', '\r\n', ' // note\n', '//\n'), { minLength: 1, maxLength: 8 });
const extraParens = fc.array(fc.boolean(), { minLength: 1, maxLength: 8 });
const validFilter = fc
  .tuple(expr, separators, extraParens)
  .map(([tree, seps, parens]) => ({ tree, source: printFilter(tree, seps, parens) }))
  .filter(({ source }) => source.length <= FILTER_MAX_LENGTH);

const TOKEN_ALPHABET = [
  'a', 'title', '@request.auth.id', 'tags:each', "'x'", '"y"', "'", '"', '\\', '1', '-2.5', '-', '.', ':', '@', '#', '_',
  '&&', '||', '&', '|', '(', ')', ',', 'f(', '=', '?=', '!=', '!~', '?!~', '<=', '>', '!', '?', '//', '/', '\n', ' ', '$', '^',
];
const tokenSoup = fc.array(fc.constantFrom(...TOKEN_ALPHABET), { maxLength: 80 });

/** A valid filter with one character inserted, deleted or replaced. */
const mutatedFilter = fc
  .tuple(validFilter, fc.nat(), fc.constantFrom('insert', 'delete', 'replace'), fc.constantFrom(...'()\'"\\&|=!?,-./ @a1'))
  .map(([{ source }, at, how, ch]) => {
    const i = at % (source.length + 1);
    if (how === 'insert') return source.slice(0, i) + ch + source.slice(i);
    if (how === 'delete') return source.slice(0, i) + source.slice(i + 1);
    return source.slice(0, i) + ch + source.slice(i + 1);
  });

const anyInput = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 120 }),
  fc.string({ unit: 'binary-ascii', maxLength: 120 }),
  tokenSoup.map((parts) => parts.join('')),
  tokenSoup.map((parts) => parts.join(' ')),
  mutatedFilter,
  fc.string({ unit: fc.constantFrom('(', ')', 'a=1', '&&', ' ', 'f('), minLength: 1000, maxLength: 1300 }),
);

/** Parses, and says how it went: an Expr or a FilterSyntaxError, nothing else. */
function outcome(input: string): Expr | FilterSyntaxError {
  try {
    return parseFilter(input);
  } catch (error) {
    if (error instanceof FilterSyntaxError) return error;
    throw error;
  }
}

// --- properties -------------------------------------------------------------------------------

describe('parseFilter (property-based)', () => {
  it('returns an Expr or throws FilterSyntaxError, whatever the input', () => {
    fc.assert(
      fc.property(anyInput, (input) => {
        const result = outcome(input);
        if (result instanceof FilterSyntaxError) {
          expect(Number.isInteger(result.position)).toBe(true);
          expect(result.position).toBeGreaterThanOrEqual(0);
          expect(result.position).toBeLessThanOrEqual(input.length);
          expect(result.message).not.toBe('');
        } else {
          expect(['comparison', 'and', 'or']).toContain(result.kind);
          expect(result.end).toBeLessThanOrEqual(input.length);
        }
        // The tokenizer alone keeps the same promise.
        try {
          tokenize(input);
        } catch (error) {
          expect(error).toBeInstanceOf(FilterSyntaxError);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('parses a printed tree back to the same tree', () => {
    fc.assert(
      fc.property(validFilter, ({ tree, source }) => {
        const parsed = parseFilter(source);
        expect(stripSpans(parsed)).toEqual(expected(tree));
        expect(parsed.start).toBeGreaterThanOrEqual(0);
        expect(parsed.end).toBeLessThanOrEqual(source.trimEnd().length);
      }),
      { numRuns: 400 },
    );
  });

  it('gives each operand the span of its source text', () => {
    const check = (node: Expr | Operand, source: string): void => {
      expect(node.start).toBeLessThan(node.end);
      if (node.kind === 'identifier') expect(source.slice(node.start, node.end)).toBe(node.name);
      if (node.kind === 'number') expect(Number(source.slice(node.start, node.end)) || 0).toBe(node.value);
      if (node.kind === 'text') expect(['"', "'"]).toContain(source[node.start]);
      if (node.kind === 'function') {
        expect(source.slice(node.start, node.start + node.name.length + 1)).toBe(`${node.name}(`);
        expect(source[node.end - 1]).toBe(')');
        node.args.forEach((arg) => check(arg, source));
      }
      if (node.kind === 'comparison' || node.kind === 'and' || node.kind === 'or') {
        check(node.left, source);
        check(node.right, source);
        expect(node.start).toBe(node.left.start);
        expect(node.end).toBe(node.right.end);
      }
    };
    fc.assert(
      fc.property(validFilter, ({ source }) => check(parseFilter(source), source)),
      { numRuns: 200 },
    );
  });

  it('round-trips any text not ending in a backslash in single quotes, and any text at all in double quotes', () => {
    fc.assert(
      fc.property(textContent, fc.constantFrom("'", '"') as fc.Arbitrary<"'" | '"'>, (raw, quote) => {
        const value = quote === "'" ? raw.replace(/\\+$/, '') : raw;
        const expr = parseFilter(`a = ${quoteText(value, quote)}`);
        expect(expr).toMatchObject({ kind: 'comparison', right: { kind: 'text', value } });
      }),
      { numRuns: 500 },
    );
  });

  it('cannot close a single-quoted text that ends in a backslash (as in fexpr)', () => {
    fc.assert(
      fc.property(textContent, (value) => {
        const source = `a = ${fexprQuote(`${value}\\`, "'")}`;
        expect(outcome(source)).toBeInstanceOf(FilterSyntaxError);
      }),
      { numRuns: 200 },
    );
  });
});
