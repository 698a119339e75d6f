/**
 * Syntax colours for the dashboard's example code (the API preview's SDK, curl and JSON
 * examples): a small tokenizer that marks strings, numbers, comments, keywords and JSON keys.
 * Not a parser: it only has to colour the examples Basalt writes and the answers it gets, and the
 * tokens' texts always add up to the code exactly (what is copied is the code itself).
 */
export type CodeLanguage = 'js' | 'shell' | 'json';
export type TokenKind = 'plain' | 'string' | 'number' | 'comment' | 'keyword' | 'key';
export interface CodeToken {
  text: string;
  kind: TokenKind;
}

const JS_KEYWORDS = new Set([
  'async', 'await', 'const', 'let', 'var', 'new', 'import', 'from', 'export', 'return', 'if', 'else', 'for', 'of', 'in',
  'function', 'true', 'false', 'null', 'undefined', 'try', 'catch', 'throw',
]);
const JSON_KEYWORDS = new Set(['true', 'false', 'null']);

// Comments, strings (with their escapes; template strings too), numbers, words. A `#` starts a
// shell comment only at a line's start or after a space.
const PATTERNS: Record<CodeLanguage, RegExp> = {
  js: /(\/\/[^\n]*|\/\*[\s\S]*?\*\/)|('(?:\\[\s\S]|[^'\\\n])*'|"(?:\\[\s\S]|[^"\\\n])*"|`(?:\\[\s\S]|[^`\\])*`)|(\b\d+(?:\.\d+)?\b)|([A-Za-z_$][\w$]*)/g,
  shell: /((?:^|(?<=\s))#[^\n]*)|('[^']*'|"(?:\\[\s\S]|[^"\\])*")|(\b\d+(?:\.\d+)?\b)|((?:^|(?<=\s))(?:curl|-{1,2}[A-Za-z][\w-]*))/gm,
  json: /()("(?:\\[\s\S]|[^"\\\n])*")|(-?\b\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\b)|([A-Za-z]+)/g,
};

export function tokenize(code: string, language: CodeLanguage): CodeToken[] {
  const tokens: CodeToken[] = [];
  const push = (text: string, kind: TokenKind) => {
    if (text === '') return;
    const last = tokens[tokens.length - 1];
    if (last && last.kind === kind) last.text += text;
    else tokens.push({ text, kind });
  };
  const pattern = new RegExp(PATTERNS[language]);
  let at = 0;
  for (let m = pattern.exec(code); m !== null; m = pattern.exec(code)) {
    if (m[0] === '') {
      pattern.lastIndex++;
      continue;
    }
    push(code.slice(at, m.index), 'plain');
    at = m.index + m[0].length;
    if (m[1]) push(m[0], 'comment');
    else if (m[2]) push(m[0], language === 'json' && /^\s*:/.test(code.slice(at)) ? 'key' : 'string');
    else if (m[3]) push(m[0], 'number');
    else if (language === 'shell') push(m[0], 'keyword');
    else push(m[0], (language === 'json' ? JSON_KEYWORDS : JS_KEYWORDS).has(m[0]) ? 'keyword' : 'plain');
  }
  push(code.slice(at), 'plain');
  return tokens;
}
