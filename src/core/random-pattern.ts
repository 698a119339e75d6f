/**
 * Generates a random string that matches a simple regular expression, for text fields'
 * `autogeneratePattern` (e.g. `[a-z0-9]{15}`, `usr_[A-Z]{4}-\d{6}`). Supports literals, escapes
 * (\d \w \s and escaped punctuation), classes with ranges and negation, `.`, groups with `|`,
 * and the quantifiers ? * + {n} {n,} {n,m}; unbounded repeats stop at 10 extra items.
 * Randomness comes from the CSPRNG because generated values are often ids or tokens.
 */
import { randomInt } from 'node:crypto';
import { randomIndex } from './ids.js';

type Node =
  | { t: 'chars'; set: string }
  | { t: 'alt'; options: Node[][] }
  | { t: 'repeat'; node: Node; min: number; max: number };

const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
const DIGITS = '0123456789';
const WORD = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_';
const UNBOUNDED_EXTRA = 10;
const MAX_LENGTH = 10_000;

export class PatternError extends Error {}

class PatternParser {
  private i = 0;
  constructor(private readonly src: string) {}

  parse(): Node[] {
    const seq = this.alternation();
    if (this.i < this.src.length) throw new PatternError(`unexpected "${this.src[this.i]}" at ${this.i}`);
    return seq;
  }

  private alternation(): Node[] {
    const options: Node[][] = [this.sequence()];
    while (this.src[this.i] === '|') {
      this.i++;
      options.push(this.sequence());
    }
    return options.length === 1 ? options[0] : [{ t: 'alt', options }];
  }

  private sequence(): Node[] {
    const out: Node[] = [];
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
      const atom = this.atom();
      if (atom) out.push(this.quantified(atom));
    }
    return out;
  }

  private atom(): Node | null {
    const c = this.src[this.i++];
    switch (c) {
      case '^':
      case '$':
        return null;
      case '.':
        return { t: 'chars', set: PRINTABLE };
      case '[':
        return this.charClass();
      case '(': {
        if (this.src.startsWith('?:', this.i)) this.i += 2;
        const inner = this.alternation();
        if (this.src[this.i] !== ')') throw new PatternError('missing closing ")"');
        this.i++;
        return { t: 'alt', options: [inner] };
      }
      case '\\':
        return { t: 'chars', set: this.escape() };
      case '*':
      case '+':
      case '?':
      case '{':
        throw new PatternError(`nothing to repeat at ${this.i - 1}`);
      default:
        return { t: 'chars', set: c };
    }
  }

  private escape(): string {
    const c = this.src[this.i++];
    if (c === undefined) throw new PatternError('trailing backslash');
    if (c === 'd') return DIGITS;
    if (c === 'w') return WORD;
    if (c === 's') return ' ';
    if (/[A-Za-z0-9]/.test(c)) throw new PatternError(`unsupported escape "\\${c}"`);
    return c;
  }

  private charClass(): Node {
    let negate = false;
    if (this.src[this.i] === '^') {
      negate = true;
      this.i++;
    }
    let set = '';
    let first = true;
    while (this.i < this.src.length && (this.src[this.i] !== ']' || first)) {
      first = false;
      let c = this.src[this.i++];
      if (c === '\\') c = this.escape();
      if (c.length === 1 && this.src[this.i] === '-' && this.src[this.i + 1] !== undefined && this.src[this.i + 1] !== ']') {
        this.i++;
        let end = this.src[this.i++];
        if (end === '\\') end = this.escape();
        if (end.length !== 1 || end < c) throw new PatternError(`invalid range ${c}-${end}`);
        for (let code = c.charCodeAt(0); code <= end.charCodeAt(0); code++) set += String.fromCharCode(code);
      } else set += c;
    }
    if (this.src[this.i] !== ']') throw new PatternError('missing closing "]"');
    this.i++;
    if (negate) set = [...PRINTABLE].filter((ch) => !set.includes(ch)).join('');
    if (set === '') throw new PatternError('empty character class');
    return { t: 'chars', set };
  }

  private quantified(node: Node): Node {
    const c = this.src[this.i];
    let min: number;
    let max: number;
    if (c === '?') [min, max] = [0, 1];
    else if (c === '*') [min, max] = [0, UNBOUNDED_EXTRA];
    else if (c === '+') [min, max] = [1, 1 + UNBOUNDED_EXTRA];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
      if (!m) return node;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? min + UNBOUNDED_EXTRA : Number(m[3]);
      if (max < min || max > MAX_LENGTH) throw new PatternError('invalid repeat count');
      this.i += m[0].length - 1;
    } else return node;
    this.i++;
    if (this.src[this.i] === '?') this.i++; // lazy modifier: irrelevant for generation
    return { t: 'repeat', node, min, max };
  }
}

function generate(nodes: Node[], out: string[]): void {
  for (const node of nodes) {
    if (out.length > MAX_LENGTH) throw new PatternError('pattern produces values that are too long');
    if (node.t === 'chars') out.push(node.set[node.set.length <= 256 ? randomIndex(node.set.length) : randomInt(node.set.length)]);
    else if (node.t === 'alt') generate(node.options[randomInt(node.options.length)], out);
    else {
      const count = node.min === node.max ? node.min : randomInt(node.min, node.max + 1);
      for (let k = 0; k < count; k++) generate([node.node], out);
    }
  }
}

const cache = new Map<string, Node[]>();

/** Throws PatternError when the pattern is outside the supported subset. */
export function randomStringFromPattern(pattern: string): string {
  let nodes = cache.get(pattern);
  if (!nodes) {
    nodes = new PatternParser(pattern).parse();
    if (cache.size > 500) cache.clear();
    cache.set(pattern, nodes);
  }
  const out: string[] = [];
  generate(nodes, out);
  return out.join('');
}
