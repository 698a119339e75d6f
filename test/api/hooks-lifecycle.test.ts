/**
 * The rest of the hook kinds: update and delete (request, model and after hooks), the mail hook,
 * collection hooks, and framework mode's lifecycle hooks (onBootstrap, onServe, onTerminate)
 * with the PocketBase SDK as the client of a route and of hook-changed records.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PocketBase from 'pocketbase';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBasalt } from '../../src/cli/create-basalt.js';
import { defaultConfig } from '../../src/core/config.js';
import { ForbiddenError } from '../../src/public-api.js';
import { addHooks, createCollection, createSuperuser } from '../harness/fixtures.js';
import { send } from '../harness/scenario.js';
import { startSmtpSink, type SmtpSink } from '../harness/smtp-sink.js';
import { ENGINE } from '../harness/engines.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let admin: string;
const log: string[] = [];

beforeAll(async () => {
  t = await startTestApp();
  admin = (await createSuperuser(t)).token;
  await createCollection(t, { name: 'tasks', fields: [{ name: 'title', type: 'text' }, { name: 'done', type: 'bool' }], listRule: '', viewRule: '', createRule: '', updateRule: '', deleteRule: '' });
  addHooks(t, (app) => {
    app.onRecordUpdateRequest(async (e) => {
      log.push(`update request by ${e.auth ? 'user' : 'guest'} ${e.request.method} ${e.pathValue('id') === e.record.id}`);
      await e.next();
    }, 'tasks');
    app.onRecordUpdate(async (e) => {
      log.push(`update ${e.record.original().getString('title')} -> ${e.record.getString('title')}`);
      if (e.record.getString('title') === 'locked') throw new ForbiddenError('This task is locked.');
      await e.next();
    }, 'tasks');
    app.onRecordAfterUpdateSuccess(async (e) => {
      log.push(`updated ${e.record.getString('title')}`);
      await e.next();
    }, 'tasks');
    app.onRecordAfterUpdateError(async (e) => {
      log.push('update failed');
      await e.next();
    }, 'tasks');
    app.onRecordDeleteRequest(async (e) => {
      if (e.record.getBool('done') === false) return e.json(409, { message: 'finish it first' });
      await e.next();
    }, 'tasks');
    app.onRecordAfterDeleteSuccess(async (e) => {
      log.push(`deleted ${e.record.getString('title')}`);
      await e.next();
    }, 'tasks');
    app.onCollectionCreate(async (e) => {
      if (e.collection.name.startsWith('tmp_')) throw new ForbiddenError('No temporary collections.');
      await e.next();
    });
    app.onCollectionAfterDeleteSuccess(async (e) => {
      log.push(`collection ${e.collection.name} deleted`);
      await e.next();
    });
  });
});
afterAll(async () => {
  // The app first: its SMTP connection ends, so the sink closes at once.
  await t?.close();
  await sink?.close();
});

describe('update and delete hooks', () => {
  it('an update runs its request, model and after hooks; a refusal runs the error hook and changes nothing', async () => {
    const task = await t.app.hookApp().records('tasks').create({ title: 'write' });
    log.length = 0;
    const ok = await send(t, 'PATCH', `/api/collections/tasks/records/${String(task.id)}`, { body: { title: 'write more' } });
    expect(ok.status).toBe(200);
    expect(log).toEqual(['update request by guest PATCH true', 'update write -> write more', 'updated write more']);
    log.length = 0;
    const refused = await send(t, 'PATCH', `/api/collections/tasks/records/${String(task.id)}`, { body: { title: 'locked' } });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe('This task is locked.');
    expect(log).toContain('update failed');
    expect((await t.app.hookApp().records('tasks').getOne(String(task.id))).title).toBe('write more');
  });

  it('a delete request hook may answer instead (nothing deleted), or let it through', async () => {
    const task = await t.app.hookApp().records('tasks').create({ title: 'ship' });
    expect((await send(t, 'DELETE', `/api/collections/tasks/records/${String(task.id)}`)).status).toBe(409);
    await t.app.hookApp().records('tasks').update(String(task.id), { done: true });
    log.length = 0;
    expect((await send(t, 'DELETE', `/api/collections/tasks/records/${String(task.id)}`)).status).toBe(204);
    expect(log).toContain('deleted ship');
  });
});

describe('collection hooks', () => {
  it('refuse a schema change inside its transaction, and hear of committed ones', async () => {
    const refused = await send(t, 'POST', '/api/collections', { auth: admin, body: { name: 'tmp_x', type: 'base' } });
    expect(refused.status).toBe(403);
    expect(t.app.registry.find('tmp_x')).toBeUndefined();
    expect((await send(t, 'POST', '/api/collections', { auth: admin, body: { name: 'scratch', type: 'base' } })).status).toBe(200);
    log.length = 0;
    expect((await send(t, 'DELETE', '/api/collections/scratch', { auth: admin })).status).toBe(204);
    expect(log).toEqual(['collection scratch deleted']);
  });
});

let sink: SmtpSink | undefined;

describe('onMailerSend', () => {
  beforeAll(async () => {
    sink = await startSmtpSink();
    await send(t, 'PATCH', '/api/settings', { auth: admin, body: { smtp: { enabled: true, host: '127.0.0.1', port: sink.port } } });
  });

  it('changes a message before it is sent, or skips it', async () => {
    addHooks(t, (app) => {
      app.onMailerSend(async (e) => {
        if (e.message.to[0]?.address === 'nobody@example.com') return; // not sent
        e.message.subject = `[Acme] ${e.message.subject}`;
        await e.next();
      });
    });
    await t.app.hookApp().sendMail({ to: 'nobody@example.com', subject: 'skipped', text: 'x', html: 'x' });
    await t.app.hookApp().sendMail({ to: 'someone@example.com', subject: 'Hello', text: 'x', html: 'x' });
    const mail = await sink!.waitFor((m) => m.to.includes('someone@example.com'), 5000);
    expect(mail.subject).toBe('[Acme] Hello');
    await sink!.expectNone((m) => m.to.includes('nobody@example.com'), 300);
  });
});

describe.skipIf(ENGINE !== 'sqlite')('framework mode (createBasalt)', () => {
  it('runs onBootstrap (from hook files), onServe and onTerminate; code-registered routes and hooks serve SDK clients', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'basalt-framework-'));
    const hooksDir = mkdtempSync(join(process.cwd(), 'test', '.hooks-framework-'));
    // onBootstrap can only come from hook files: they are loaded before createBasalt returns.
    writeFileSync(join(hooksDir, 'boot.ts'), "import { defineHooks } from 'basalt';\nexport default defineHooks((app) => {\n  app.onBootstrap(async (e) => { (globalThis as any).__basaltBooted = true; await e.next(); });\n});\n");
    const seen: string[] = [];
    const basalt = await createBasalt({ config: defaultConfig({ dataDir: dir, hooksDir, logLevel: 'silent', http: { host: '127.0.0.1', port: 0 } }) });
    try {
      expect((globalThis as Record<string, unknown>).__basaltBooted).toBe(true);
      basalt.onServe(async (e) => {
        seen.push('serve');
        await e.next();
      });
      basalt.onTerminate(async (e) => {
        seen.push('terminate');
        await e.next();
      });
      basalt.routerAdd('GET', '/api/hello/{name}', (e) => ({ hello: e.pathValue('name') }));
      await basalt.app.collections.create({ name: 'notes', type: 'base', fields: [{ name: 'text', type: 'text' }], createRule: '', viewRule: '' });
      basalt.onRecordCreate(async (e) => {
        e.record.set('text', e.record.getString('text').trim().toUpperCase());
        await e.next();
      }, 'notes');
      const url = await basalt.listen();
      expect(seen).toEqual(['serve']);
      const pb = new PocketBase(url);
      expect(await pb.send('/api/hello/sdk', {})).toEqual({ hello: 'sdk' });
      const note = await pb.collection('notes').create({ text: '  quiet  ' });
      expect(note.text).toBe('QUIET');
      // A custom route still running when the shutdown starts finishes, database included.
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      basalt.routerAdd('POST', '/api/slow', async (e) => {
        await gate;
        return e.app.records('notes').create({ text: 'written during shutdown' });
      });
      const slow = fetch(`${url}/api/slow`, { method: 'POST' });
      await new Promise((r) => setTimeout(r, 100));
      const closing = basalt.close();
      setTimeout(release, 100);
      const answer = await slow;
      expect(answer.status).toBe(200);
      expect(((await answer.json()) as { text: string }).text).toBe('WRITTEN DURING SHUTDOWN');
      await closing;
    } finally {
      await basalt.close();
      rmSync(dir, { recursive: true, force: true });
      rmSync(hooksDir, { recursive: true, force: true });
    }
    expect(seen).toEqual(['serve', 'terminate']);
  });
});
