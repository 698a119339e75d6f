/**
 * The `backups` settings (PocketBase's BackupsConfig): defaults, validation, `s3.secret` never
 * shown and kept when a PATCH leaves it out; the `__pbAutoBackup__` cron (registered while `cron`
 * is set, keeping only `cronMaxKeep` automatic backups, manual clock); backups on an S3 target
 * (s3rver): create, list, download, restore, delete, nothing in the local folder.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import PocketBase from 'pocketbase';
import { createRecord, createSuperuser } from '../harness/fixtures.js';
import { ManualClock } from '../harness/manual-clock.js';
import { runScenarios, send } from '../harness/scenario.js';
import { startTestS3, type TestS3 } from '../harness/s3-server.js';
import { listenOnLoopback, startTestApp, type TestApp } from '../harness/test-app.js';
import { stateOf } from './backups-helpers.js';

let t: TestApp;
let s3: TestS3;
let su = '';
const clock = new ManualClock(Date.parse('2031-05-06T07:08:09.000Z'));

const keys = async () => ((await send(t, 'GET', '/api/backups', { auth: su })).body as { key: string }[]).map((b) => b.key).sort();

beforeAll(async () => {
  t = await startTestApp({ deps: { clock } });
  su = (await createSuperuser(t)).token;
  s3 = await startTestS3('basalt-backups');
});

afterAll(async () => {
  await t?.close();
  await s3?.close();
});

describe('settings section backups', () => {
  it('defaults, with no secret shown', async () => {
    const res = await send(t, 'GET', '/api/settings', { auth: su });
    expect(res.body.backups).toEqual({
      cron: '',
      cronMaxKeep: 3,
      s3: { enabled: false, bucket: '', region: '', endpoint: '', accessKey: '', forcePathStyle: false },
    });
  });

  it('s3.secret: saved, never returned, kept when a PATCH leaves it out', async () => {
    const patch = { backups: { s3: { bucket: 'b1', region: 'r1', endpoint: 'http://127.0.0.1:9', accessKey: 'AK', secret: 'top-secret-value' } } };
    const res = await send(t, 'PATCH', '/api/settings', { auth: su, body: patch });
    expect(res.status, res.raw).toBe(200);
    expect(res.raw).not.toContain('top-secret-value');
    expect(res.body.backups.s3).toEqual({ enabled: false, bucket: 'b1', region: 'r1', endpoint: 'http://127.0.0.1:9', accessKey: 'AK', forcePathStyle: false });
    const again = await send(t, 'PATCH', '/api/settings', { auth: su, body: { backups: { s3: { bucket: 'b2' } } } });
    expect(again.status).toBe(200);
    expect(t.app.settings.get().backups.s3).toMatchObject({ bucket: 'b2', secret: 'top-secret-value', accessKey: 'AK' });
    expect((await send(t, 'GET', '/api/settings', { auth: su })).raw).not.toContain('top-secret-value');
    await send(t, 'PATCH', '/api/settings', { auth: su, body: { backups: { s3: { bucket: '', region: '', endpoint: '', accessKey: '', secret: '' } } } });
  });

  runScenarios(() => t, [
    ...([
      ['a bad cron expression', { cron: 'every day' }, 'cron', 'validation_invalid_cron'],
      ['a cron that never fires', { cron: '0 0 31 2 *' }, 'cron', 'validation_invalid_cron'],
      ['cron without cronMaxKeep', { cron: '0 3 * * *', cronMaxKeep: 0 }, 'cronMaxKeep', 'validation_required'],
      ['a negative cronMaxKeep', { cronMaxKeep: -1 }, 'cronMaxKeep', 'validation_min_greater_equal_than_required'],
      ['cronMaxKeep not a number', { cronMaxKeep: '3' }, 'cronMaxKeep', 'validation_invalid_type'],
      ['cron not a string', { cron: 5 }, 'cron', 'validation_invalid_type'],
      ['an unknown key', { cronMax: 1 }, 'cronMax', 'validation_unknown_field'],
      ['s3 not an object', { s3: 'x' }, 's3', 'validation_invalid_type'],
    ] as const).map(([name, backups, field, code]) => ({
      name: `backups: ${name}`,
      method: 'PATCH' as const,
      url: '/api/settings',
      auth: () => su,
      body: { backups },
      status: 400,
      check: (body: any) => expect(body.data.backups[field].code).toBe(code),
    })),
    {
      name: 'backups: s3 enabled without its values',
      method: 'PATCH',
      url: '/api/settings',
      auth: () => su,
      body: { backups: { s3: { enabled: true, endpoint: 'not a url' } } },
      status: 400,
      check: (body: any) => {
        for (const k of ['bucket', 'region', 'accessKey', 'secret']) expect(body.data.backups.s3[k].code).toBe('validation_required');
        expect(body.data.backups.s3.endpoint.code).toBe('validation_is_url');
      },
    },
    { name: 'backups: s3 unknown key', method: 'PATCH', url: '/api/settings', auth: () => su, body: { backups: { s3: { password: 'x' } } }, status: 400, check: (body: any) => expect(body.data.backups.s3.password.code).toBe('validation_unknown_field') },
    { name: 'backups: s3.enabled not a bool', method: 'PATCH', url: '/api/settings', auth: () => su, body: { backups: { s3: { enabled: 'yes' } } }, status: 400 },
  ]);

  it('a refused PATCH changes nothing', () => {
    expect(t.app.settings.get().backups).toMatchObject({ cron: '', cronMaxKeep: 3, s3: { enabled: false } });
  });
});

describe('automatic backups (__pbAutoBackup__)', () => {
  it('registered while cron is set; keeps the newest cronMaxKeep @auto backups, never the others', async () => {
    expect(t.app.crons.has('__pbAutoBackup__')).toBe(false);
    const res = await send(t, 'PATCH', '/api/settings', { auth: su, body: { meta: { appName: 'Auto App' }, backups: { cron: '0 3 * * *', cronMaxKeep: 2 } } });
    expect(res.status, res.raw).toBe(200);
    const crons = (await send(t, 'GET', '/api/crons', { auth: su })).body as { id: string; expression: string }[];
    expect(crons).toContainEqual({ id: '__pbAutoBackup__', expression: '0 3 * * *' });
    expect((await send(t, 'POST', '/api/backups', { auth: su, body: { name: 'manual.zip' } })).status).toBe(204);
    for (let i = 0; i < 4; i++) {
      expect(await t.app.crons.runNow('__pbAutoBackup__')).toBe('done');
      await clock.advance(61_000);
    }
    expect(await keys()).toEqual(['@auto_pb_backup_auto_app_20310506071011.zip', '@auto_pb_backup_auto_app_20310506071112.zip', 'manual.zip']);
    // The cron runs through POST /api/crons/{id} too.
    expect((await send(t, 'POST', '/api/crons/__pbAutoBackup__', { auth: su })).status).toBe(204);
    await expectEventually(async () => expect(await keys()).toContain('@auto_pb_backup_auto_app_20310506071213.zip'));
    await expectEventually(async () => expect((await keys()).length).toBe(3));
    await send(t, 'PATCH', '/api/settings', { auth: su, body: { backups: { cron: '' } } });
    expect(t.app.crons.has('__pbAutoBackup__')).toBe(false);
  }, 60_000);
});

describe('backups on an S3 target', () => {
  let base = '';
  beforeAll(async () => {
    base = await listenOnLoopback(t);
    const { endpoint, bucket, region, accessKey, secret } = s3.options;
    const res = await send(t, 'PATCH', '/api/settings', { auth: su, body: { backups: { s3: { enabled: true, endpoint, bucket, region, accessKey, secret, forcePathStyle: true } } } });
    expect(res.status, res.raw).toBe(200);
  });

  it('create, list, download, restore and delete go to the bucket, not the local folder', async () => {
    const pb = new PocketBase(base);
    await pb.collection('_superusers').authWithPassword('admin@example.com', 'password123');
    await createRecord(t, 'users', { email: 'carol@example.com', password: 'carol-password-1', passwordConfirm: 'carol-password-1' });
    const localBefore = existsSync(join(t.config.dataDir, 'backups')) ? readdirSync(join(t.config.dataDir, 'backups')).sort() : [];
    expect(await pb.backups.getFullList()).toEqual([]);
    await pb.backups.create('on_s3.zip');
    const list = await pb.backups.getFullList();
    expect(list.map((b) => b.key)).toEqual(['on_s3.zip']);
    expect(list[0].size).toBeGreaterThan(0);
    const local = existsSync(join(t.config.dataDir, 'backups')) ? readdirSync(join(t.config.dataDir, 'backups')).sort() : [];
    expect(local).toEqual(localBefore);

    const zip = Buffer.from(await (await fetch(pb.backups.getDownloadURL(await pb.files.getToken(), 'on_s3.zip'))).arrayBuffer());
    expect(zip.length).toBe(list[0].size);

    const before = await stateOf(t);
    await createRecord(t, 'users', { email: 'dave@example.com', password: 'dave-password-1', passwordConfirm: 'dave-password-1' });
    await pb.backups.restore('on_s3.zip');
    expect(await stateOf(t)).toEqual(before);

    await pb.backups.delete('on_s3.zip');
    expect(await pb.backups.getFullList()).toEqual([]);
  }, 60_000);

  it('an unreachable S3 target: 400, not 500', async () => {
    await send(t, 'PATCH', '/api/settings', { auth: su, body: { backups: { s3: { endpoint: 'http://127.0.0.1:9' } } } });
    const res = await send(t, 'POST', '/api/backups', { auth: su, body: { name: 'nowhere.zip' } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ status: 400, message: 'Failed to create backup.', data: {} });
  }, 60_000);
});

async function expectEventually(check: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
