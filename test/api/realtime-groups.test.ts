/**
 * Realtime access checks for many subscriber groups at once (event-access.ts answers them in
 * statements of 100): 250 signed-in subscribers with a per-user rule, each gets exactly the
 * events addressed to them, across statement boundaries; guests and a bad filter get nothing.
 * The clients are the hub's own, with in-memory channels (the SSE wire is covered by
 * realtime.test.ts). Runs on every engine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RealtimeClient } from '../../src/core/realtime/realtime-client.js';
import type { RecordModel } from '../../src/core/model/record-model.js';
import { createCollection, createRecord } from '../harness/fixtures.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
const USERS = 250;
const inboxes = new Map<string, string[]>();
const clients: RealtimeClient[] = [];

function connect(name: string): RealtimeClient {
  const frames: string[] = [];
  inboxes.set(name, frames);
  const client = t.app.realtime.hub.connect({ write: (f) => (frames.push(f), true), close() {} }, '127.0.0.1');
  frames.length = 0; // PB_CONNECT
  clients.push(client);
  return client;
}

const delivered = () => new Promise((r) => setTimeout(r, 300));

beforeAll(async () => {
  t = await startTestApp();
  // Subscribed before the collection exists (a filter is then compiled only per event): a check
  // that does not compile must not silence the others.
  const typo = connect('typo');
  const sub = `msgs/*?options=${encodeURIComponent(JSON.stringify({ query: { filter: 'nosuchfield = 1' } }))}`;
  t.app.realtime.hub.subscribe({ clientId: typo.id, subscriptions: [sub] }, { kind: 'system' }, '127.0.0.1');
  await createCollection(t, { name: 'msgs', fields: [{ name: 'to', type: 'text' }, { name: 'body', type: 'text' }], listRule: 'to = @request.auth.id' });
  const users = t.app.registry.find('users')!;
  for (let i = 0; i < USERS; i++) {
    const client = connect(`user${i}`);
    const auth = { collection: users, values: { id: `user${i}` } } as unknown as RecordModel;
    t.app.realtime.hub.subscribe({ clientId: client.id, subscriptions: ['msgs/*'] }, { kind: 'record', auth }, '127.0.0.1');
  }
  const guest = connect('guest');
  t.app.realtime.hub.subscribe({ clientId: guest.id, subscriptions: ['msgs/*'] }, { kind: 'guest' }, '127.0.0.1');
});

afterAll(async () => {
  for (const c of clients) c.close();
  await t?.close();
});

describe('access checks answered together', () => {
  it('each of 250 users gets exactly the messages addressed to them', async () => {
    for (const to of ['user0', 'user99', 'user100', 'user249']) await createRecord(t, 'msgs', { to, body: `for ${to}` });
    await delivered();
    for (let i = 0; i < USERS; i++) {
      const frames = inboxes.get(`user${i}`)!;
      const expected = ['user0', 'user99', 'user100', 'user249'].includes(`user${i}`) ? 1 : 0;
      expect(frames.length, `user${i}`).toBe(expected);
      if (expected) expect(frames[0]).toContain(`"body":"for user${i}"`);
    }
    expect(inboxes.get('guest')).toEqual([]);
    expect(inboxes.get('typo')).toEqual([]);
  });
});
