/**
 * Realtime through the official SDK (spec §5.3), with the `eventsource` polyfill Node needs:
 * subscribe and unsubscribe, rule filtering per signed-in user, subscribe options, and the
 * popup OAuth2 flow `authWithOAuth2()`, whose code comes back over the `@oauth2` topic.
 */
import type { AddressInfo } from 'node:net';
import { EventSource } from 'eventsource';
import PocketBase, { type RecordSubscription } from 'pocketbase';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthRecord, createCollection, createRecord, createSuperuser } from '../harness/fixtures.js';
import { startOidcServer, type OidcServer } from '../harness/oidc-server.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

(globalThis as { EventSource?: unknown }).EventSource ??= EventSource;

let t: TestApp;
let idp: OidcServer;
let baseURL = '';
const clients: PocketBase[] = [];

function client(): PocketBase {
  const pb = new PocketBase(baseURL);
  pb.autoCancellation(false);
  clients.push(pb);
  return pb;
}

async function signedIn(collection: string, email: string, password: string): Promise<PocketBase> {
  const pb = client();
  await pb.collection(collection).authWithPassword(email, password);
  return pb;
}

/** Collects events and lets a test wait for the n-th one. */
function inbox<T>() {
  const events: T[] = [];
  let wake: (() => void) | null = null;
  return {
    events,
    push: (e: T) => {
      events.push(e);
      wake?.();
    },
    async count(n: number, timeoutMs = 5000): Promise<T[]> {
      const deadline = Date.now() + timeoutMs;
      while (events.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} events, got ${events.length}`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      return events;
    },
  };
}

const settle = () => new Promise((r) => setTimeout(r, 300));

beforeAll(async () => {
  t = await startTestApp();
  await t.server.listen({ host: '127.0.0.1', port: 0 });
  baseURL = `http://127.0.0.1:${(t.server.server.address() as AddressInfo).port}`;
  idp = await startOidcServer([`${baseURL}/api/oauth2-redirect`]);
  idp.accounts.set('popup-sub', { sub: 'popup-sub', email: 'popup@example.com', email_verified: true, name: 'Popup User' });
  await createSuperuser(t, 'admin@example.com', 'admin-password1');
  await t.app.collections.update('users', { listRule: '', viewRule: '' });
  await createCollection(t, {
    name: 'messages',
    fields: [
      { name: 'text', type: 'text' },
      { name: 'to', type: 'relation', collectionId: '_pb_users_auth_', maxSelect: 1 },
    ],
    listRule: 'to = @request.auth.id',
    viewRule: 'to = @request.auth.id',
    createRule: '@request.auth.id != ""',
  });
  await createAuthRecord(t, 'users', { email: 'ann@example.com', password: 'ann-password1', name: 'Ann' });
  await createAuthRecord(t, 'users', { email: 'ben@example.com', password: 'ben-password1', name: 'Ben' });
});

afterAll(async () => {
  for (const pb of clients) pb.realtime.unsubscribe().catch(() => {});
  for (const pb of clients) (pb.realtime as unknown as { disconnect(): void }).disconnect?.();
  await t?.close();
  await idp?.close();
});

describe('pb.collection().subscribe through the SDK', () => {
  it('delivers create, update and delete to the addressee only, and stops after unsubscribe', async () => {
    const ann = await signedIn('users', 'ann@example.com', 'ann-password1');
    const ben = await signedIn('users', 'ben@example.com', 'ben-password1');
    const annBox = inbox<RecordSubscription>();
    const benBox = inbox<RecordSubscription>();
    const unsubscribe = await ann.collection('messages').subscribe('*', (e) => annBox.push(e));
    await ben.collection('messages').subscribe('*', (e) => benBox.push(e));

    const sent = await ben.collection('messages').create({ text: 'hi Ann', to: ann.authStore.record!.id });
    const su = await signedIn('_superusers', 'admin@example.com', 'admin-password1');
    await su.collection('messages').update(sent.id, { text: 'hello Ann' });
    await su.collection('messages').delete(sent.id);
    const events = await annBox.count(3);
    expect(events.map((e) => [e.action, e.record.text])).toEqual([
      ['create', 'hi Ann'],
      ['update', 'hello Ann'],
      ['delete', 'hello Ann'],
    ]);
    await settle();
    expect(benBox.events).toEqual([]);

    await unsubscribe();
    await su.collection('messages').create({ text: 'after', to: ann.authStore.record!.id });
    await settle();
    expect(annBox.events).toHaveLength(3);
  });

  it('subscribes to one record, with expand and fields options', async () => {
    const ann = await signedIn('users', 'ann@example.com', 'ann-password1');
    const su = await signedIn('_superusers', 'admin@example.com', 'admin-password1');
    const message = await su.collection('messages').create({ text: 'one', to: ann.authStore.record!.id });
    const box = inbox<RecordSubscription>();
    await ann.collection('messages').subscribe(message.id, (e) => box.push(e), { expand: 'to', fields: 'id,text,expand.to.name' });
    await su.collection('messages').update(message.id, { text: 'two' });
    const [event] = await box.count(1);
    expect(event.action).toBe('update');
    expect(event.record).toEqual({ id: message.id, text: 'two', expand: { to: { name: 'Ann' } } });
  });

  it('filters with the subscribe filter option', async () => {
    const ann = await signedIn('users', 'ann@example.com', 'ann-password1');
    const su = await signedIn('_superusers', 'admin@example.com', 'admin-password1');
    const box = inbox<RecordSubscription>();
    await ann.collection('messages').subscribe('*', (e) => box.push(e), { filter: 'text ~ "urgent"' });
    await su.collection('messages').create({ text: 'not now', to: ann.authStore.record!.id });
    await su.collection('messages').create({ text: 'urgent: call', to: ann.authStore.record!.id });
    const [event] = await box.count(1);
    expect(event.record.text).toBe('urgent: call');
    await settle();
    expect(box.events).toHaveLength(1);
  });
});

describe('reconnecting', () => {
  it('after the server closes an idle connection, the SDK reconnects, subscribes again and keeps receiving', async () => {
    const quick = await startTestApp({ config: { realtime: { idleTimeoutMs: 400, maxLifetimeMs: 60_000 } } });
    try {
      await quick.server.listen({ host: '127.0.0.1', port: 0 });
      const url = `http://127.0.0.1:${(quick.server.server.address() as AddressInfo).port}`;
      await createCollection(quick, { name: 'notes', fields: [{ name: 'text', type: 'text' }], listRule: '' });
      const pb = new PocketBase(url);
      pb.autoCancellation(false);
      clients.push(pb);
      const box = inbox<RecordSubscription>();
      await pb.collection('notes').subscribe('*', (e) => box.push(e));
      const firstId = pb.realtime.clientId;
      // Idle past the timeout: the server closes the stream, the SDK opens a new one.
      const deadline = Date.now() + 10_000;
      while (pb.realtime.clientId === firstId || !pb.realtime.isConnected) {
        if (Date.now() > deadline) throw new Error('the SDK did not reconnect');
        await new Promise((r) => setTimeout(r, 50));
      }
      await settle();
      await createRecord(quick, 'notes', { text: 'after reconnect' });
      const [event] = await box.count(1);
      expect(event.record.text).toBe('after reconnect');
      await pb.realtime.unsubscribe();
    } finally {
      await quick.close();
    }
  });
});

describe('authWithOAuth2 (popup flow over @oauth2)', () => {
  it('signs up through the provider; the code arrives over realtime', async () => {
    const su = await signedIn('_superusers', 'admin@example.com', 'admin-password1');
    await su.collections.update('users', { oauth2: { enabled: true, providers: [{ name: 'oidc', clientId: idp.clientId, clientSecret: idp.clientSecret, extra: { discoveryURL: idp.issuer } }] } });
    idp.loginAs('popup-sub');
    const pb = client();
    const auth = await pb.collection('users').authWithOAuth2({
      provider: 'oidc',
      urlCallback: async (url) => {
        // Plays the browser: the provider's login, then its redirect to Basalt's oauth2-redirect.
        const params = await idp.authorize(url, `${baseURL}/api/oauth2-redirect`);
        const res = await fetch(`${baseURL}/api/oauth2-redirect?${params}`, { redirect: 'manual' });
        expect(res.status).toBe(307);
        expect(res.headers.get('location')).toContain('success');
      },
    });
    expect(auth.record.email).toBe('popup@example.com');
    expect(auth.meta?.isNew).toBe(true);
    expect(pb.authStore.isValid).toBe(true);
  });
});
