import { describe, expect, it } from 'vitest';
import { assertSingleSelect, calledFunctions, StatementError } from '../../src/db/single-statement.js';

describe('assertSingleSelect', () => {
  it.each([
    ['SELECT 1 AS id', 'SELECT 1 AS id'],
    ['  select id from posts ;  ', 'select id from posts'],
    ["SELECT ';' AS id", "SELECT ';' AS id"],
    ['SELECT "a;b" AS id FROM t', 'SELECT "a;b" AS id FROM t'],
    ['WITH x AS (SELECT 1 AS id) SELECT id FROM x', 'WITH x AS (SELECT 1 AS id) SELECT id FROM x'],
    ['-- comment; here\nSELECT 1 AS id', '-- comment; here\nSELECT 1 AS id'],
    ['/* a; /* nested; */ b */ SELECT 1', '/* a; /* nested; */ b */ SELECT 1'],
    ["SELECT $tag$ ; $tag$ AS id", "SELECT $tag$ ; $tag$ AS id"],
    ["SELECT E'\\'; x' AS id", "SELECT E'\\'; x' AS id"],
    ["SELECT 'it''s; fine' AS id", "SELECT 'it''s; fine' AS id"],
  ])('accepts %j', (sql, expected) => {
    expect(assertSingleSelect(sql)).toBe(expected);
  });

  it.each([
    'SELECT 1; DROP TABLE users',
    'SELECT 1;; ',
    'DELETE FROM users',
    'INSERT INTO x VALUES (1)',
    'PRAGMA writable_schema = 1',
    "SELECT 'unterminated",
    'SELECT 1 /* unterminated',
    'SELECT $a$ x',
    '',
    '   ',
    "SELECT '\\'; DROP TABLE users; --'",
  ])('refuses %j', (sql) => {
    expect(() => assertSingleSelect(sql)).toThrow(StatementError);
  });
});

describe('calledFunctions', () => {
  it.each([
    ['SELECT id, COUNT(*) FROM t', ['count']],
    ["SELECT set_config('a', 'b', false)", ['set_config']],
    ['SELECT pg_catalog.nextval (x) FROM t', ['nextval']],
    ['SELECT "Weird"(1)', ['Weird']],
    ["SELECT 'nextval(x)' AS s -- setval(y)\n/* lo_unlink(1) */", []],
    ['SELECT $$ pg_sleep(1) $$', []],
  ])('%j calls %j', (sql, expected) => {
    expect(calledFunctions(sql).filter((n) => n !== 'select')).toEqual(expected);
  });
});
