/**
 * The syntax tree of Basalt's filter language (PocketBase's `fexpr` grammar, spec §2.1).
 *
 * The parser produces it from a filter or rule string; the resolver and the compiler turn it into
 * one parameterised SQL predicate. The tree is plain data so a parsed rule can be cached per
 * collection change and reused by every request.
 */

/** A comparison operator without its `?` ("any") prefix. */
export type CompareOp = '=' | '!=' | '~' | '!~' | '<' | '<=' | '>' | '>=';

/** A position in the source text (0-based character offset), for error messages. */
export interface SourceSpan {
  start: number;
  end: number;
}

/** A field path, macro or bare word: `title`, `author.name`, `tags:each`, `@request.auth.id`, `@now`, `null`, `true`. */
export interface IdentifierOperand extends SourceSpan {
  kind: 'identifier';
  name: string;
}

/** A quoted string literal, already unescaped. */
export interface TextOperand extends SourceSpan {
  kind: 'text';
  value: string;
}

/** A numeric literal such as `12`, `-3.5`. */
export interface NumberOperand extends SourceSpan {
  kind: 'number';
  value: number;
}

/** A function call: `geoDistance(lon, lat, 1, 2)`, `strftime('%Y', created)`. */
export interface FunctionOperand extends SourceSpan {
  kind: 'function';
  name: string;
  args: Operand[];
}

export type Operand = IdentifierOperand | TextOperand | NumberOperand | FunctionOperand;

/** `left op right`; `any` is true for the `?=`, `?!=`, `?~` … variants. */
export interface ComparisonExpr extends SourceSpan {
  kind: 'comparison';
  op: CompareOp;
  any: boolean;
  left: Operand;
  right: Operand;
}

/** `left && right` or `left || right`. `&&` binds tighter than `||`, as in SQL. */
export interface LogicalExpr extends SourceSpan {
  kind: 'and' | 'or';
  left: Expr;
  right: Expr;
}

export type Expr = ComparisonExpr | LogicalExpr;

/** Limits of spec §1.1, enforced by the parser. */
export const FILTER_MAX_LENGTH = 3500;
export const FILTER_MAX_EXPRESSIONS = 200;
