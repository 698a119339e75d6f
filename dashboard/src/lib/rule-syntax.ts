/**
 * The filter language of rules, as the rule editor needs it: tokens to colour (a lenient
 * lexer: it never fails, unknown text is plain) and completions for the word at the cursor —
 * the collection's fields, `@request.*`, `@collection.<name>.<field>`, the macros and the
 * modifiers. The server remains the judge of validity (its message shows under the rule).
 */

export type TokenKind = 'macro' | 'variable' | 'string' | 'number' | 'operator' | 'keyword' | 'identifier' | 'comment' | 'punctuation' | 'space';

export interface Token {
  kind: TokenKind;
  text: string;
}

/** PocketBase's datetime macros. */
export const MACROS = [
  '@now',
  '@second',
  '@minute',
  '@hour',
  '@weekday',
  '@day',
  '@month',
  '@year',
  '@yesterday',
  '@tomorrow',
  '@todayStart',
  '@todayEnd',
  '@monthStart',
  '@monthEnd',
  '@yearStart',
  '@yearEnd',
] as const;

export const REQUEST_KEYS = ['@request.auth.', '@request.body.', '@request.query.', '@request.headers.', '@request.method', '@request.context'] as const;

export const MODIFIERS = [':isset', ':changed', ':length', ':each', ':lower'] as const;

const OPERATORS = ['?!=', '?>=', '?<=', '?!~', '!=', '>=', '<=', '!~', '?=', '?>', '?<', '?~', '&&', '||', '=', '>', '<', '~'];

/** The tokens of `text`; joined back they give `text` exactly (the highlighting overlays the input). */
export function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, end: number) => {
    out.push({ kind, text: text.slice(i, end) });
    i = end;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      let j = i + 1;
      while (j < text.length && /\s/.test(text[j]!)) j++;
      push('space', j);
    } else if (c === '/' && text[i + 1] === '/') {
      const nl = text.indexOf('\n', i);
      push('comment', nl === -1 ? text.length : nl);
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      push('string', Math.min(j + 1, text.length));
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(text[i + 1] ?? ''))) {
      let j = i + 1;
      while (j < text.length && /[0-9.]/.test(text[j]!)) j++;
      push('number', j);
    } else if (c === '@' || /[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < text.length && /[A-Za-z0-9_.@:]/.test(text[j]!)) j++;
      const word = text.slice(i, j);
      const kind: TokenKind = word.startsWith('@request') || word.startsWith('@collection') ? 'variable' : word.startsWith('@') ? 'macro' : /^(true|false|null)$/.test(word) ? 'keyword' : 'identifier';
      push(kind, j);
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      if (op) push('operator', i + op.length);
      else push('punctuation', i + 1);
    }
  }
  return out;
}

export interface CompletionContext {
  /** The collection's own field names (and, for auth rules, the same). */
  fields: readonly string[];
  /** Other collections, by name, with their fields (for `@collection.<name>.` and `@request.auth.`). */
  collections: Readonly<Record<string, readonly string[]>>;
  /** The fields of the auth record `@request.auth.` may name (the union of auth collections' fields). */
  authFields: readonly string[];
  /** The collection's relation fields, each with its target's fields (`author.` completes `author.name`). */
  relations?: Readonly<Record<string, readonly string[]>>;
}

/** The word being typed at `cursor`: its start and text (`@request.au` in `x = @request.au|`). */
export function wordAt(text: string, cursor: number): { start: number; word: string } {
  let start = cursor;
  while (start > 0 && /[A-Za-z0-9_.@:]/.test(text[start - 1]!)) start--;
  return { start, word: text.slice(start, cursor) };
}

/** The completions of `word` (at most `limit`), best first: those starting with it. */
export function completions(word: string, ctx: CompletionContext, limit = 12): string[] {
  if (word === '') return [];
  const candidates: string[] = [];
  const dot = word.lastIndexOf('.');
  const base = word.slice(0, dot + 1);
  if (word.startsWith('@request.auth.')) {
    candidates.push(...['id', 'collectionId', 'collectionName', ...ctx.authFields].map((f) => `@request.auth.${f}`));
  } else if (word.startsWith('@request.body.')) {
    candidates.push(...ctx.fields.map((f) => `@request.body.${f}`));
    candidates.push(...ctx.fields.map((f) => `@request.body.${f}:isset`));
  } else if (word.startsWith('@collection.') && dot > '@collection.'.length - 1 && base !== '@collection.') {
    const name = base.slice('@collection.'.length, -1);
    candidates.push(...(ctx.collections[name] ?? []).map((f) => `${base}${f}`));
  } else if (word.startsWith('@collection.')) {
    candidates.push(...Object.keys(ctx.collections).map((n) => `@collection.${n}.`));
  } else if (word.startsWith('@')) {
    candidates.push(...REQUEST_KEYS, '@collection.', ...MACROS);
  } else if (dot > 0 && ctx.relations?.[word.slice(0, dot)] !== undefined) {
    candidates.push(...ctx.relations[word.slice(0, dot)]!.map((f) => `${base}${f}`));
  } else if (word.includes(':')) {
    const stem = word.slice(0, word.indexOf(':'));
    candidates.push(...MODIFIERS.map((m) => `${stem}${m}`));
  } else {
    candidates.push(...ctx.fields, 'true', 'false', 'null');
  }
  const lower = word.toLowerCase();
  return [...new Set(candidates)].filter((c) => c.toLowerCase().startsWith(lower) && c !== word).slice(0, limit);
}

/** `text` with `word` (at `start`) replaced by `completion`; the cursor goes after it. */
export function applyCompletion(text: string, start: number, cursor: number, completion: string): { text: string; cursor: number } {
  return { text: text.slice(0, start) + completion + text.slice(cursor), cursor: start + completion.length };
}

/**
 * What is plainly wrong with a rule while it is typed (an unclosed string or parenthesis, an
 * operator with nothing after it), or '' — a hint only: the server, on save, decides (fields,
 * types, `@collection` names are its to check).
 */
export function syntaxProblem(text: string): string {
  const tokens = tokenize(text).filter((t) => t.kind !== 'space' && t.kind !== 'comment');
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === 'string' && (t.text.length < 2 || t.text[t.text.length - 1] !== t.text[0])) return `Unclosed string ${t.text}`;
    if (t.text === '(') depth++;
    if (t.text === ')' && --depth < 0) return 'A “)” closes nothing.';
  }
  if (depth > 0) return `${depth} unclosed “(”.`;
  const last = tokens[tokens.length - 1];
  if (last?.kind === 'operator') return `Nothing after “${last.text}”.`;
  return '';
}
