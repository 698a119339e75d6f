/**
 * The tokenizer of the filter language (PocketBase's `fexpr` grammar, spec §2.1).
 *
 * It follows the scanner of `ganigeorgiev/fexpr` v0.5 wherever that one is well defined, so a
 * filter that PocketBase accepts lexes the same here, and it reports the first problem with its
 * 0-based offset. One pass over the input, no regular expressions with backtracking: tokenizing
 * is linear in the input length whatever the client sends.
 */

import type { SourceSpan } from './ast.js';

/**
 * A filter that cannot be tokenized or parsed. `position` is the 0-based offset of the problem;
 * most messages end with it too (`unexpected "&&" at 12`), since they are shown to API clients.
 */
export class FilterSyntaxError extends Error {
  readonly position: number;

  constructor(message: string, position: number) {
    super(message);
    this.name = 'FilterSyntaxError';
    this.position = position;
  }
}

/** `syntaxErrorAt('unexpected "&&"', 12)` → FilterSyntaxError `unexpected "&&" at 12`. */
export function syntaxErrorAt(problem: string, position: number): FilterSyntaxError {
  return new FilterSyntaxError(`${problem} at ${position}`, position);
}

export type TokenKind =
  | 'identifier'
  | 'text'
  | 'number'
  | 'operator'
  | 'and'
  | 'or'
  | 'lparen'
  | 'rparen'
  | 'comma';

/** One token with its source span; whitespace and `//` comments produce none. */
export interface Token extends SourceSpan {
  kind: TokenKind;
  /**
   * The source text of the token, except for `text`, where it is the content between the quotes
   * with its escapes decoded (`\'` in single quotes; JSON's escapes in double quotes).
   */
  value: string;
}

/** The comparison operators, with and without the `?` ("any") prefix. */
const OPERATORS: ReadonlySet<string> = new Set([
  '=', '!=', '~', '!~', '<', '<=', '>', '>=',
  '?=', '?!=', '?~', '?!~', '?<', '?<=', '?>', '?>=',
]);

const CH_TAB = 9;
const CH_LF = 10;
const CH_CR = 13;
const CH_SPACE = 32;
const CH_BACKSLASH = 92;

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

// NB: `\r` is not whitespace in fexpr; we accept it so a rule pasted with CRLF line endings
// still parses. Every other difference from fexpr is listed in the parser's TSDoc.
function isWhitespace(c: number): boolean {
  return c === CH_SPACE || c === CH_TAB || c === CH_LF || c === CH_CR;
}

/** `@`, `_` and `#` may start an identifier but, alone, are not one. */
function isSpecialIdentifierStart(ch: string): boolean {
  return ch === '@' || ch === '_' || ch === '#';
}

function isIdentifierStart(ch: string, c: number): boolean {
  return isLetter(c) || isSpecialIdentifierStart(ch);
}

// `@` and `#` are start-only, as in fexpr: `a@b` is two identifiers (and a parse error),
// not one strange field name.
function isIdentifierPart(ch: string, c: number): boolean {
  return isLetter(c) || isDigit(c) || ch === '_' || ch === '.' || ch === ':';
}

function isSignChar(ch: string): boolean {
  return ch === '=' || ch === '?' || ch === '!' || ch === '<' || ch === '>' || ch === '~';
}

/** Quotes a character or literal for an error message, clipped so a 3 KB string stays readable. */
export function describeSource(text: string): string {
  const clipped = text.length > 24 ? `${text.slice(0, 21)}...` : text;
  return JSON.stringify(clipped);
}

/**
 * Splits a filter into tokens.
 *
 * @throws FilterSyntaxError on an unterminated string, an unknown character, a malformed operator
 * (`==`, `&`, `|||`), an invalid number (`1.`, `-`) or an invalid identifier (`a.`, `@`).
 */
export function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  const n = input.length;
  let i = 0;

  while (i < n) {
    const ch = input[i];
    const c = input.charCodeAt(i);
    const start = i;

    if (isWhitespace(c)) {
      i++;
      continue;
    }

    if (ch === '/') {
      if (input[i + 1] !== '/') throw syntaxErrorAt(`unexpected character "/"`, i);
      // A line comment runs to the newline (kept as whitespace) or to the end of the filter.
      const newline = input.indexOf('\n', i + 2);
      i = newline === -1 ? n : newline;
      continue;
    }

    if (ch === '(' || ch === ')' || ch === ',') {
      tokens.push({ kind: ch === '(' ? 'lparen' : ch === ')' ? 'rparen' : 'comma', value: ch, start, end: i + 1 });
      i++;
      continue;
    }

    if (ch === "'" || ch === '"') {
      i = scanText(input, i, tokens);
      continue;
    }

    if (isIdentifierStart(ch, c)) {
      i++;
      while (i < n && isIdentifierPart(input[i], input.charCodeAt(i))) i++;
      const name = input.slice(start, i);
      const last = name[name.length - 1];
      if (last === '.' || last === ':' || (name.length === 1 && isSpecialIdentifierStart(name))) {
        throw syntaxErrorAt(`invalid identifier ${describeSource(name)}`, start);
      }
      tokens.push({ kind: 'identifier', value: name, start, end: i });
      continue;
    }

    if (isDigit(c) || ch === '-') {
      i = scanNumber(input, i, tokens);
      continue;
    }

    if (isSignChar(ch)) {
      // Maximal munch, then validation, as fexpr does: `==` and `=!` are errors rather than
      // `=` followed by something else.
      while (i < n && isSignChar(input[i])) i++;
      const op = input.slice(start, i);
      if (!OPERATORS.has(op)) throw syntaxErrorAt(`invalid operator ${describeSource(op)}`, start);
      tokens.push({ kind: 'operator', value: op, start, end: i });
      continue;
    }

    if (ch === '&' || ch === '|') {
      while (i < n && (input[i] === '&' || input[i] === '|')) i++;
      const join = input.slice(start, i);
      if (join !== '&&' && join !== '||') throw syntaxErrorAt(`invalid operator ${describeSource(join)}`, start);
      tokens.push({ kind: join === '&&' ? 'and' : 'or', value: join, start, end: i });
      continue;
    }

    const codePoint = input.codePointAt(i) ?? c;
    throw syntaxErrorAt(`unexpected character ${describeSource(String.fromCodePoint(codePoint))}`, i);
  }

  return tokens;
}

/**
 * Reads `'…'` or `"…"` starting at `start` and returns the offset after the closing quote.
 *
 * Single-quoted text is read exactly like fexpr: only a backslash right before the quote escapes
 * it (`'it\'s'` → `it's`) and every other backslash is kept as written, so `'a\'` never closes.
 *
 * Double-quoted text is what the PocketBase SDK's `pb.filter()` writes, with `JSON.stringify`: a
 * JSON string literal. So its JSON escapes are decoded (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`,
 * `\uXXXX`) and any value round-trips, a backslash, a newline or a control character included.
 * NB: this is where Basalt departs from fexpr, which keeps `\\` and `\n` as two characters and
 * so cannot find a title holding a backslash that the SDK quoted. A backslash before anything
 * else (`"50\%"`, `"C:\path"`) is still kept as written, as in fexpr, so hand-written LIKE
 * escapes keep their meaning.
 */
function scanText(input: string, start: number, tokens: Token[]): number {
  const quote = input[start];
  const json = quote === '"';
  const n = input.length;
  let value = '';
  let chunkStart = start + 1;
  let i = start + 1;

  while (i < n) {
    const c = input.charCodeAt(i);
    if (c === CH_BACKSLASH) {
      const escaped = json ? jsonEscape(input, i) : input[i + 1] === quote ? { text: quote, length: 2 } : undefined;
      if (escaped) {
        value += input.slice(chunkStart, i) + escaped.text;
        i += escaped.length;
        chunkStart = i;
        continue;
      }
    }
    if (input[i] === quote) {
      value += input.slice(chunkStart, i);
      tokens.push({ kind: 'text', value, start, end: i + 1 });
      return i + 1;
    }
    i++;
  }

  throw syntaxErrorAt('unterminated string', start);
}

/** The one-character JSON escapes (RFC 8259 §7) that `JSON.stringify` writes, but `\/`. */
const JSON_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"', '\\': '\\', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t',
};

/**
 * The JSON escape at `at` (a backslash), or `undefined` when the backslash starts none and is
 * therefore kept as written. A `\u` takes exactly four hex digits (a lone surrogate included,
 * which `JSON.stringify` writes as `\ud800`).
 */
function jsonEscape(input: string, at: number): { text: string; length: number } | undefined {
  const next = input[at + 1];
  if (next === undefined) return undefined;
  const simple = JSON_ESCAPES[next];
  if (simple !== undefined) return { text: simple, length: 2 };
  if (next === 'u') {
    const hex = input.slice(at + 2, at + 6);
    if (/^[0-9a-fA-F]{4}$/.test(hex)) return { text: String.fromCharCode(parseInt(hex, 16)), length: 6 };
  }
  return undefined;
}

/**
 * Reads a number starting at `start` (a digit or `-`) and returns the offset after it.
 *
 * Like fexpr: an optional leading `-`, digits and at most one `.`; the literal may not be a lone
 * `-` nor end with `.`. So `12`, `-3.5` and `-.5` are numbers, `1.` and `-` are errors, `.5` is
 * not a number at all (`.` cannot start a token) and `1.2.3` is `1.2` followed by a stray `.`.
 * No exponent (`1e3` is `1` then the identifier `e3`).
 */
function scanNumber(input: string, start: number, tokens: Token[]): number {
  const n = input.length;
  let i = start;
  if (input[i] === '-') i++;
  let hadDot = false;
  while (i < n) {
    const ch = input[i];
    if (isDigit(input.charCodeAt(i))) {
      i++;
    } else if (ch === '.' && !hadDot) {
      hadDot = true;
      i++;
    } else {
      break;
    }
  }

  const literal = input.slice(start, i);
  // A literal of 309+ digits overflows to Infinity, which no database column can compare to.
  if (literal === '-' || literal.endsWith('.') || !Number.isFinite(Number(literal))) {
    throw syntaxErrorAt(`invalid number ${describeSource(literal)}`, start);
  }
  tokens.push({ kind: 'number', value: literal, start, end: i });
  return i;
}
