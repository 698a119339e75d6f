/**
 * The parser of the filter language (PocketBase's `fexpr` grammar, spec §2.1).
 *
 *     expr     := orExpr
 *     orExpr   := andExpr ('||' andExpr)*
 *     andExpr  := primary ('&&' primary)*
 *     primary  := '(' expr ')' | operand OP operand
 *     operand  := identifier | text | number | function
 *     function := identifier '(' [operand (',' operand)* [',']] ')'   -- no space before '('
 *
 * A recursive descent over the token array: one token of look-ahead, every token consumed once,
 * so parsing is linear. Recursion only happens on `(` and on nested calls, and both are capped,
 * so no input can overflow the stack.
 */

import { FILTER_MAX_EXPRESSIONS, FILTER_MAX_LENGTH } from './ast.js';
import type { CompareOp, Expr, FunctionOperand, Operand } from './ast.js';
import { FilterSyntaxError, describeSource, syntaxErrorAt, tokenize } from './lexer.js';
import type { Token } from './lexer.js';

export { FilterSyntaxError } from './lexer.js';

/** Parentheses deeper than this are refused; real rules rarely go past 5. */
export const FILTER_MAX_DEPTH = 100;
/** Calls nested in calls, counting the outer one; fexpr's own limit. */
export const FILTER_MAX_FUNCTION_DEPTH = 3;
/** Arguments per call; the widest built-in, geoDistance, takes 4 and strftime a handful. */
export const FILTER_MAX_FUNCTION_ARGS = 16;

/**
 * Parses a filter or rule string into its syntax tree.
 *
 * `&&` binds tighter than `||` and both are left-associative: `a=1 || b=2 && c=3` is
 * `or(a=1, and(b=2, c=3))`. Spans are 0-based offsets into `input`; the span of a node does not
 * include parentheses around it.
 *
 * Where this deliberately differs from fexpr: an empty group `()` is an error (fexpr skips it),
 * `\r` counts as whitespace, double-quoted text decodes JSON escapes (`"a\\b"` is `a\b`, as the SDK's
 * `pb.filter()` means it; see the lexer), and a call takes at most
 * {@link FILTER_MAX_FUNCTION_ARGS} arguments.
 * Function names and argument counts are checked later, by the resolver.
 *
 * @throws FilterSyntaxError for any input that is not a valid filter, including an empty one,
 * one longer than FILTER_MAX_LENGTH characters, with more than FILTER_MAX_EXPRESSIONS comparisons
 * or nested deeper than FILTER_MAX_DEPTH parentheses. It never throws anything else.
 */
export function parseFilter(input: string): Expr {
  if (input.length > FILTER_MAX_LENGTH) {
    throw new FilterSyntaxError(`filter is too long (max ${FILTER_MAX_LENGTH} characters)`, FILTER_MAX_LENGTH);
  }
  const tokens = tokenize(input);
  if (tokens.length === 0) throw new FilterSyntaxError('empty filter expression', 0);
  return new Parser(tokens, input.length).parse();
}

class Parser {
  private pos = 0;
  private depth = 0;
  private functionDepth = 0;
  private comparisons = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly inputLength: number,
  ) {}

  parse(): Expr {
    const expr = this.parseOr();
    const rest = this.peek();
    if (rest) throw this.unexpected(rest);
    return expr;
  }

  private parseOr(): Expr {
    let left = this.parseAnd();
    while (this.peek()?.kind === 'or') {
      this.pos++;
      const right = this.parseAnd();
      left = { kind: 'or', left, right, start: left.start, end: right.end };
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parsePrimary();
    while (this.peek()?.kind === 'and') {
      this.pos++;
      const right = this.parsePrimary();
      left = { kind: 'and', left, right, start: left.start, end: right.end };
    }
    return left;
  }

  private parsePrimary(): Expr {
    const open = this.peek();
    if (open?.kind === 'lparen') {
      if (this.depth >= FILTER_MAX_DEPTH) {
        throw syntaxErrorAt(`too many nested parentheses (max ${FILTER_MAX_DEPTH})`, open.start);
      }
      this.pos++;
      this.depth++;
      const inner = this.parseOr();
      this.expect('rparen');
      this.depth--;
      return inner;
    }

    const left = this.parseOperand();
    const opToken = this.expect('operator');
    const right = this.parseOperand();

    this.comparisons++;
    if (this.comparisons > FILTER_MAX_EXPRESSIONS) {
      throw syntaxErrorAt(`too many expressions (max ${FILTER_MAX_EXPRESSIONS})`, left.start);
    }

    const any = opToken.value.startsWith('?');
    const op = (any ? opToken.value.slice(1) : opToken.value) as CompareOp;
    return { kind: 'comparison', op, any, left, right, start: left.start, end: right.end };
  }

  private parseOperand(): Operand {
    const token = this.next();
    switch (token.kind) {
      case 'identifier': {
        const after = this.peek();
        // Only `name(` with nothing in between is a call: `name (` stays an identifier followed
        // by a stray parenthesis, as in fexpr.
        if (after?.kind === 'lparen' && after.start === token.end) return this.parseCall(token);
        return { kind: 'identifier', name: token.value, start: token.start, end: token.end };
      }
      case 'text':
        return { kind: 'text', value: token.value, start: token.start, end: token.end };
      case 'number':
        // `|| 0` folds `-0` into `0`, so no negative zero reaches a query parameter.
        return { kind: 'number', value: Number(token.value) || 0, start: token.start, end: token.end };
      default:
        throw this.unexpected(token);
    }
  }

  /** Parses the arguments of `name(`; the current token is the `(`. */
  private parseCall(name: Token): FunctionOperand {
    if (this.functionDepth >= FILTER_MAX_FUNCTION_DEPTH) {
      throw syntaxErrorAt(`too many nested function calls (max ${FILTER_MAX_FUNCTION_DEPTH})`, name.start);
    }
    this.functionDepth++;
    this.pos++; // the `(`

    const args: Operand[] = [];
    let close = this.peek();
    while (close?.kind !== 'rparen') {
      if (args.length >= FILTER_MAX_FUNCTION_ARGS) {
        throw syntaxErrorAt(`too many function arguments (max ${FILTER_MAX_FUNCTION_ARGS})`, this.next().start);
      }
      args.push(this.parseOperand());
      close = this.peek();
      if (close?.kind === 'comma') {
        // A trailing comma before `)` is tolerated, like fexpr does: `fn(a, b,)`.
        this.pos++;
        close = this.peek();
      } else if (close?.kind !== 'rparen') {
        throw close ? this.unexpected(close) : this.endOfInput();
      }
    }
    this.pos++; // the `)`

    this.functionDepth--;
    return { kind: 'function', name: name.value, args, start: name.start, end: close.end };
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  /** Consumes the current token; at the end of the input, throws instead. */
  private next(): Token {
    const token = this.tokens[this.pos];
    if (!token) throw this.endOfInput();
    this.pos++;
    return token;
  }

  private expect(kind: Token['kind']): Token {
    const token = this.next();
    if (token.kind !== kind) throw this.unexpected(token);
    return token;
  }

  private unexpected(token: Token): FilterSyntaxError {
    const what = token.kind === 'text' ? `text ${describeSource(token.value)}` : describeSource(token.value);
    return syntaxErrorAt(`unexpected ${what}`, token.start);
  }

  private endOfInput(): FilterSyntaxError {
    return syntaxErrorAt('unexpected end of filter', this.inputLength);
  }
}
