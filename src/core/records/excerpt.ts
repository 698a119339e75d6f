/**
 * Plain-text excerpts of HTML, for the `:excerpt(maxLength, withEllipsis?)` modifier of the
 * `fields` query parameter (spec §2.4).
 *
 * PocketBase (`tools/picker/excerpt_modifier.go`) builds a full HTML5 tree and walks it. We do
 * not need the tree, only the text in document order and where element boundaries fall, so this
 * is a single forward scan with a stack of open elements. It reproduces PocketBase's output for
 * the HTML that rich-text editors produce:
 * - text is collected from every element except the excluded ones below, whose whole subtree
 *   is dropped (no text and no separating space either: `a<img>b` → `ab`);
 * - each start and end of an element that is not in the inline list separates words with one
 *   space (`<p>a</p><p>b</p>` → `a b`); inline elements, `<br>` included, do not (`a<b>b</b>`
 *   → `ab`, `a<br>b` → `ab`, as in PocketBase);
 * - runs of `[\t\n\f\r ]` (Go's `\s`) collapse to one space; other spaces such as `&nbsp;` are
 *   kept as they are, except at both ends where Go's `strings.TrimSpace` set is trimmed;
 * - the length is counted in Unicode code points, and the cut never splits a surrogate pair.
 *
 * Differences, on purpose: `noscript`, `noembed`, `noframes` and `title` are excluded too (Go's
 * parser shows `noscript` content as text); the character references decoded are the numeric
 * ones and the common named ones (all of Latin-1 plus typographic punctuation), not the 2,231 of
 * HTML5; tree-construction quirks (table foster-parenting, adoption agency) are not replayed.
 *
 * NB: the input is client-controlled rich text; every loop here is linear in its length (the
 * open-element stack is searched only through a count map, and the regular expressions have no
 * nested quantifiers), and scanning stops as soon as the excerpt is known to be truncated.
 */

/** Elements dropped with their whole subtree (PocketBase's list, plus the four noted above). */
const EXCLUDED_TAGS: ReadonlySet<string> = new Set([
  'head', 'style', 'script', 'iframe', 'embed', 'applet', 'object', 'svg', 'img', 'picture',
  'dialog', 'template', 'button', 'form', 'textarea', 'input', 'select', 'option',
  'noscript', 'noembed', 'noframes', 'title',
]);

/** Elements that do not separate words (PocketBase's list; every other element does). */
const INLINE_TAGS: ReadonlySet<string> = new Set([
  'a', 'abbr', 'acronym', 'b', 'bdo', 'big', 'br', 'button', 'cite', 'code', 'em', 'i', 'label',
  'q', 'small', 'span', 'strong', 'strike', 'sub', 'sup', 'time',
]);

/** Elements that never have content or an end tag (WHATWG HTML §13.1.2). */
const VOID_TAGS: ReadonlySet<string> = new Set([
  'area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'keygen', 'link', 'meta', 'param',
  'source', 'track', 'wbr',
]);

/** Elements whose content is raw text up to their end tag: `<script>a<b</script>` has no `<b>`. */
const RAW_TEXT_TAGS: ReadonlySet<string> = new Set([
  'script', 'style', 'textarea', 'title', 'iframe', 'noembed', 'noframes', 'noscript', 'xmp',
]);

// Latin-1 named references, in code point order from U+00A0 and from U+00C0. HTML5 also
// accepts all of these without the trailing semicolon ("legacy" references).
const LATIN1_A0 =
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn ' +
  'sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest';
const LATIN1_C0 =
  'Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute ' +
  'Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml ' +
  'Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc ' +
  'euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ' +
  'ugrave uacute ucirc uuml yacute thorn yuml';

/** Named references that need their semicolon, with their code points. */
const OTHER_ENTITIES: Readonly<Record<string, number>> = {
  apos: 0x27, OElig: 0x152, oelig: 0x153, Scaron: 0x160, scaron: 0x161, Yuml: 0x178,
  fnof: 0x192, circ: 0x2c6, tilde: 0x2dc, ensp: 0x2002, emsp: 0x2003, thinsp: 0x2009,
  zwnj: 0x200c, zwj: 0x200d, lrm: 0x200e, rlm: 0x200f, ndash: 0x2013, mdash: 0x2014,
  lsquo: 0x2018, rsquo: 0x2019, sbquo: 0x201a, ldquo: 0x201c, rdquo: 0x201d, bdquo: 0x201e,
  dagger: 0x2020, Dagger: 0x2021, bull: 0x2022, hellip: 0x2026, permil: 0x2030, prime: 0x2032,
  Prime: 0x2033, lsaquo: 0x2039, rsaquo: 0x203a, euro: 0x20ac, trade: 0x2122, larr: 0x2190,
  uarr: 0x2191, rarr: 0x2192, darr: 0x2193, harr: 0x2194, minus: 0x2212, infin: 0x221e,
  ne: 0x2260, le: 0x2264, ge: 0x2265, hearts: 0x2665,
};

/** name → [text, semicolon optional]. */
const NAMED_ENTITIES: ReadonlyMap<string, readonly [string, boolean]> = (() => {
  const map = new Map<string, readonly [string, boolean]>();
  LATIN1_A0.split(' ').forEach((name, i) => map.set(name, [String.fromCodePoint(0xa0 + i), true]));
  LATIN1_C0.split(' ').forEach((name, i) => map.set(name, [String.fromCodePoint(0xc0 + i), true]));
  const legacyAscii: Array<[string, string]> = [['amp', '&'], ['lt', '<'], ['gt', '>'], ['quot', '"']];
  for (const [name, text] of legacyAscii) {
    map.set(name, [text, true]);
    map.set(name.toUpperCase(), [text, true]);
  }
  map.set('COPY', ['\u00a9', true]);
  map.set('REG', ['\u00ae', true]);
  for (const [name, cp] of Object.entries(OTHER_ENTITIES)) map.set(name, [String.fromCodePoint(cp), false]);
  return map;
})();

/** HTML5 maps numeric references 0x80–0x9F through Windows-1252 (WHATWG §13.2.5.80). */
const WINDOWS_1252 =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

const ENTITY = /&(#[xX][0-9a-fA-F]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*)(;?)/g;

function decodeNumeric(body: string): string {
  const hex = body[1] === 'x' || body[1] === 'X';
  // Cap the digits so a 1,000-digit reference cannot become Infinity (it is out of range anyway).
  const digits = (hex ? body.slice(2) : body.slice(1)).replace(/^0+/, '').slice(0, 8);
  const cp = digits === '' ? 0 : parseInt(digits, hex ? 16 : 10);
  if (cp >= 0x80 && cp <= 0x9f) return WINDOWS_1252[cp - 0x80];
  if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '\ufffd';
  return String.fromCodePoint(cp);
}

/** Decodes the character references of a text run; unknown ones stay as they are, like HTML5. */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(ENTITY, (match: string, body: string, semicolon: string) => {
    if (body[0] === '#') return decodeNumeric(body);
    const entry = NAMED_ENTITIES.get(body);
    if (entry === undefined || (semicolon === '' && !entry[1])) return match;
    return entry[0];
  });
}

/** Go's `unicode.IsSpace`, which `strings.TrimSpace` uses for the final trim. */
function isGoSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0x85) return false;
  return (
    c === 0x85 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000
  );
}

// A manual trim: `/\s+$/` backtracks quadratically on long runs of &nbsp; that are not at the end.
function trimGoSpace(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isGoSpace(s.charCodeAt(start))) start++;
  while (end > start && isGoSpace(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

/** Number of code points of `s`, counting no further than `limit + 1`. */
function countCodePoints(s: string, limit: number): number {
  let count = 0;
  for (let i = 0; i < s.length && count <= limit; i++, count++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
  }
  return count;
}

/** The first `max` code points of `s`, never splitting a surrogate pair. */
function sliceCodePoints(s: string, max: number): string {
  let i = 0;
  for (let count = 0; count < max && i < s.length; count++) {
    const c = s.charCodeAt(i);
    const paired = c >= 0xd800 && c <= 0xdbff && i + 1 < s.length &&
      s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff;
    i += paired ? 2 : 1;
  }
  return s.slice(0, i);
}

/** Go's `\s`: the only characters PocketBase collapses (not &nbsp;, not `\v`). */
const WHITESPACE_RUN = /[\t\n\f\r ]+/g;

/** Accumulates the plain text with PocketBase's spacing rules. */
class TextCollector {
  text = '';
  private prevSpace = false;
  private nextCheck: number;

  constructor(private readonly max: number) {
    // The earliest length at which the text can hold more than `max` code points plus the one
    // leading and one trailing space that the final trim removes.
    this.nextCheck = max + 3;
  }

  add(run: string): void {
    let txt = run.replace(WHITESPACE_RUN, ' ');
    if (this.prevSpace && txt.charCodeAt(0) === 0x20) txt = txt.slice(1);
    if (txt === '') return;
    this.prevSpace = txt.charCodeAt(txt.length - 1) === 0x20;
    this.text += txt;
  }

  boundary(): void {
    if (!this.prevSpace) {
      this.text += ' ';
      this.prevSpace = true;
    }
  }

  /**
   * True once the excerpt is certainly truncated: what follows cannot change its first `max`
   * code points, so the scan can stop. Checked at doubling lengths to stay linear overall.
   */
  isFull(): boolean {
    if (this.text.length < this.nextCheck) return false;
    if (countCodePoints(trimGoSpace(this.text), this.max) > this.max) return true;
    this.nextCheck = this.text.length * 2;
    return false;
  }
}

interface OpenElement {
  name: string;
  excluded: boolean;
  block: boolean;
}

const GT = 0x3e;
const SLASH = 0x2f;
const EQUALS = 0x3d;

function isAsciiLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isTagSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0c || c === 0x0d;
}

/** Reads a tag name from `from`; returns it lower-cased with the index after it. */
function readTagName(html: string, from: number): [string, number] {
  let i = from;
  while (i < html.length) {
    const c = html.charCodeAt(i);
    if (isTagSpace(c) || c === SLASH || c === GT) break;
    i++;
  }
  return [html.slice(from, i).toLowerCase(), i];
}

/**
 * Skips the attributes of a tag up to and including its `>`, honouring quoted values (which
 * may contain `>`). Returns -1 when the input ends inside the tag: HTML5 then drops the tag.
 */
function skipAttributes(html: string, from: number): { end: number; selfClosing: boolean } {
  let i = from;
  while (i < html.length) {
    const c = html.charCodeAt(i);
    if (c === GT) return { end: i + 1, selfClosing: html.charCodeAt(i - 1) === SLASH };
    if (c === EQUALS) {
      i++;
      while (i < html.length && isTagSpace(html.charCodeAt(i))) i++;
      const quote = html[i];
      if (quote === '"' || quote === "'") {
        const close = html.indexOf(quote, i + 1);
        if (close === -1) return { end: -1, selfClosing: false };
        i = close + 1;
      }
      continue;
    }
    i++;
  }
  return { end: -1, selfClosing: false };
}

/** Index of the `</name` that ends a raw-text element opened before `from`, or -1. */
function findRawTextEnd(html: string, from: number, name: string): number {
  let i = from;
  // Scans forward only (no lower-casing of the whole input per element: that would be quadratic).
  while ((i = html.indexOf('</', i)) !== -1) {
    const after = i + 2 + name.length;
    if (html.slice(i + 2, after).toLowerCase() === name) {
      const c = html.charCodeAt(after);
      if (after >= html.length || isTagSpace(c) || c === SLASH || c === GT) return i;
    }
    i += 2;
  }
  return -1;
}

/** Walks the markup and feeds text and element boundaries to the collector. */
class ExcerptScanner {
  private readonly stack: OpenElement[] = [];
  private readonly openCounts = new Map<string, number>();
  private excludedDepth = 0;
  private seenContent = false;

  constructor(private readonly html: string, private readonly out: TextCollector) {}

  run(): void {
    const html = this.html;
    let i = 0;
    while (i < html.length && !this.out.isFull()) {
      const lt = html.indexOf('<', i);
      if (lt === -1) {
        this.text(html.slice(i));
        return;
      }
      if (lt > i) this.text(html.slice(i, lt));
      i = this.markup(lt);
    }
  }

  /** Handles the markup that starts with the `<` at `at`; returns where to continue. */
  private markup(at: number): number {
    const html = this.html;
    const c = html.charCodeAt(at + 1);
    if (isAsciiLetter(c)) return this.startTag(at + 1);
    if (c === SLASH) {
      const c2 = html.charCodeAt(at + 2);
      if (isAsciiLetter(c2)) return this.endTag(at + 2);
      if (c2 === GT) return at + 3; // `</>` is dropped
      if (at + 2 >= html.length) {
        this.text('</');
        return html.length;
      }
      return skipPast(html, '>', at + 2); // bogus comment
    }
    if (c === 0x21 /* ! */) {
      if (html.startsWith('<!--', at)) {
        // `<!-->` and `<!--->` are complete (empty) comments in HTML5.
        if (html.startsWith('>', at + 4)) return at + 5;
        if (html.startsWith('->', at + 4)) return at + 6;
        // Ends at `-->` or `--!>`; one forward scan (two indexOf calls to the end would be
        // quadratic over many comments).
        for (let j = html.indexOf('--', at + 4); j !== -1; j = html.indexOf('--', j + 1)) {
          if (html.charCodeAt(j + 2) === GT) return j + 3;
          if (html.startsWith('!>', j + 2)) return j + 4;
        }
        return html.length;
      }
      return skipPast(html, '>', at + 2); // doctype, CDATA and other bogus comments
    }
    if (c === 0x3f /* ? */) return skipPast(html, '>', at + 2);
    this.text('<'); // a lone `<` is text
    return at + 1;
  }

  private startTag(from: number): number {
    const [name, afterName] = readTagName(this.html, from);
    const { end, selfClosing } = skipAttributes(this.html, afterName);
    if (end === -1) return this.html.length;
    // The parser merges these into the implied document elements; a late <head> is ignored.
    if (name === 'html' || name === 'body' || (name === 'head' && this.seenContent)) return end;
    if (name !== 'head') this.seenContent = true;

    const excluded = EXCLUDED_TAGS.has(name);
    const block = !INLINE_TAGS.has(name);
    const visible = this.excludedDepth === 0 && !excluded;
    if (VOID_TAGS.has(name) || (selfClosing && (name === 'svg' || name === 'math'))) {
      if (visible && block) this.out.boundary();
      return end;
    }
    if (RAW_TEXT_TAGS.has(name)) {
      const close = findRawTextEnd(this.html, end, name);
      const contentEnd = close === -1 ? this.html.length : close;
      if (visible) {
        // Only `xmp` gets here (the others are excluded): its content is literal text.
        this.out.boundary();
        this.out.add(this.html.slice(end, contentEnd).replaceAll('\0', ''));
        this.out.boundary();
      }
      return close === -1 ? this.html.length : skipPast(this.html, '>', close + 2);
    }
    if (visible && block) this.out.boundary();
    this.stack.push({ name, excluded, block });
    this.openCounts.set(name, (this.openCounts.get(name) ?? 0) + 1);
    if (excluded) this.excludedDepth++;
    return end;
  }

  private endTag(from: number): number {
    const [name, afterName] = readTagName(this.html, from);
    const { end } = skipAttributes(this.html, afterName);
    if (end === -1) return this.html.length;
    if (!this.openCounts.get(name)) {
      // An unmatched end tag is ignored, except `</p>`, for which HTML5 creates an empty <p>.
      if (name === 'p' && this.excludedDepth === 0) this.out.boundary();
      return end;
    }
    // Close everything opened since the matching element, as the parser's implied end tags do.
    // Each popped element is visited once in total, so this stays linear.
    while (true) {
      const element = this.stack.pop() as OpenElement;
      this.openCounts.set(element.name, (this.openCounts.get(element.name) ?? 1) - 1);
      if (element.excluded) this.excludedDepth--;
      else if (element.block && this.excludedDepth === 0) this.out.boundary();
      if (element.name === name) return end;
    }
  }

  private text(run: string): void {
    if (this.excludedDepth > 0) return;
    if (!this.seenContent && trimGoSpace(run) !== '') this.seenContent = true;
    // The HTML5 parser drops U+0000 from body text.
    const clean = run.includes('\0') ? run.replaceAll('\0', '') : run;
    this.out.add(decodeEntities(clean));
  }
}

function skipPast(html: string, char: string, from: number): number {
  const i = html.indexOf(char, from);
  return i === -1 ? html.length : i + 1;
}

/**
 * Returns a plain-text excerpt of an HTML string, as PocketBase's `:excerpt` modifier does.
 *
 * Tags are dropped, and so is the content of script, style, form controls, media and the other
 * excluded elements; character references are decoded; whitespace collapses to single spaces
 * and block elements separate words. The text is then cut to `maxLength` Unicode code points
 * (trimmed again after the cut) and, when it was cut and `withEllipsis` is set, `...` is
 * appended.
 *
 * @param html the (possibly malformed) HTML or plain text
 * @param maxLength the maximum number of code points kept, ellipsis excluded; must be ≥ 1
 * @param withEllipsis append `...` when the text was truncated
 */
export function excerpt(html: string, maxLength: number, withEllipsis: boolean): string {
  const collector = new TextCollector(maxLength);
  new ExcerptScanner(html, collector).run();
  const text = trimGoSpace(collector.text);
  if (countCodePoints(text, maxLength) <= maxLength) return text;
  const cut = trimGoSpace(sliceCodePoints(text, maxLength));
  return withEllipsis ? cut + '...' : cut;
}
