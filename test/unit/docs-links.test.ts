/**
 * The README and docs/ ship in the npm package: every relative link must resolve inside the
 * project, and nothing may point at the development-only ../shared folder.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const FILES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

describe.each(FILES)('%s', (file) => {
  const text = readFileSync(join(ROOT, file), 'utf8');

  it('does not mention ../shared', () => {
    expect(text).not.toContain('../shared');
  });

  it('links only to files inside the project that exist', () => {
    const targets = [...text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/i.test(t));
    for (const target of targets) {
      const path = resolve(dirname(join(ROOT, file)), target);
      expect(path.startsWith(ROOT + '/'), target).toBe(true);
      expect(existsSync(path), target).toBe(true);
    }
  });
});

it('package.json ships docs/', () => {
  expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).files).toContain('docs');
});
