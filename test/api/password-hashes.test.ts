/**
 * Passwords: bcrypt hashes written by PocketBase ($2a$), PHP ($2y$) or Basalt ($2b$) all verify,
 * so existing user data can be imported as is; the hash never leaves the server.
 */
import bcrypt from 'bcrypt';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../src/core/auth/password.js';
import { createAuthRecord } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

describe('password hashing', () => {
  it('hashes with bcrypt (cost 10 by default) and verifies', async () => {
    const hash = await hashPassword('correct horse');
    expect(hash).toMatch(/^\$2b\$10\$/);
    expect(await verifyPassword('correct horse', hash)).toBe(true);
    expect(await verifyPassword('wrong horse', hash)).toBe(false);
  });

  it('verifies $2a$ (PocketBase, Go) and $2y$ (PHP) hashes', async () => {
    const a = await bcrypt.hash('imported-pass', await bcrypt.genSalt(4, 'a'));
    expect(a).toMatch(/^\$2a\$04\$/);
    expect(await verifyPassword('imported-pass', a)).toBe(true);
    const y = '$2y$' + (await bcrypt.hash('php-pass', 4)).slice(4);
    expect(await verifyPassword('php-pass', y)).toBe(true);
    expect(await verifyPassword('nope', y)).toBe(false);
  });

  it('treats a missing or malformed hash as a mismatch, never an error', async () => {
    for (const hash of ['', null, undefined, 'plain-text', '$2b$10$short', '$argon2id$v=19$m=65536,t=3,p=4$abc']) {
      expect(await verifyPassword('anything', hash)).toBe(false);
    }
  });
});

describe('signing in with an imported PocketBase hash', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a user whose password hash came from PocketBase can authenticate', async () => {
    const { id } = await createAuthRecord(t, 'users', { email: 'imported@example.com', password: 'temporary-pass' });
    const pbHash = await bcrypt.hash('from-pocketbase', await bcrypt.genSalt(10, 'a'));
    await sql`UPDATE ${sql.id('users')} SET ${sql.id('password')} = ${pbHash} WHERE ${sql.id('id')} = ${id}`.execute(t.app.db.kysely);
    const ok = await send(t, 'POST', '/api/collections/users/auth-with-password', { body: { identity: 'imported@example.com', password: 'from-pocketbase' } });
    expect(ok.status).toBe(200);
    expect(ok.raw).not.toContain(pbHash);
    expect(ok.body.record).not.toHaveProperty('password');
    const bad = await send(t, 'POST', '/api/collections/users/auth-with-password', { body: { identity: 'imported@example.com', password: 'temporary-pass' } });
    expect(bad.status).toBe(400);
  });
});
