/** One structured log line per request, and never a token, password or query string in it. */
import { localAdapters } from '../../src/adapters/local-adapters.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/core/app.js';
import { defaultConfig } from '../../src/core/config.js';
import type { Logger } from '../../src/core/ports.js';
import { createDatabase } from '../../src/db/create-database.js';
import { buildServer } from '../../src/http/server.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { App } from '../../src/core/app.js';

const lines: { obj: Record<string, unknown>; msg?: string }[] = [];
const capture: Logger = {
  debug: (obj, msg) => void lines.push({ obj: obj as Record<string, unknown>, msg }),
  info: (obj, msg) => void lines.push({ obj: obj as Record<string, unknown>, msg }),
  warn: (obj, msg) => void lines.push({ obj: obj as Record<string, unknown>, msg }),
  error: (obj, msg) => void lines.push({ obj: obj as Record<string, unknown>, msg }),
};

let dir: string;
let app: App;
let server: FastifyInstance;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'basalt-log-'));
  const db = await createDatabase({ type: 'sqlite', file: join(dir, 'data.db') });
  app = await createApp(defaultConfig({ dataDir: dir }), { db, logger: capture, ...localAdapters({ dataDir: dir }) });
  server = await buildServer(app, { requestLog: true });
  await server.ready();
});
afterAll(async () => {
  await server.close();
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('request log', () => {
  it('writes one line per request with method, path, status and duration — without secrets', async () => {
    lines.length = 0;
    const secret = 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.s3cr3t-token';
    await server.inject({ method: 'GET', url: `/api/health?token=${secret}`, headers: { authorization: `Bearer ${secret}` } });
    await server.inject({
      method: 'POST',
      url: '/api/collections/users/auth-with-password',
      payload: { identity: 'nobody@example.com', password: 'hunter2-password' },
    });
    const requests = lines.filter((l) => l.msg === 'request');
    expect(requests).toHaveLength(2);
    expect(requests[0].obj).toMatchObject({ method: 'GET', path: '/api/health', status: 200 });
    expect(typeof requests[0].obj.durationMs).toBe('number');
    expect(requests[1].obj).toMatchObject({ method: 'POST', path: '/api/collections/users/auth-with-password', status: 400 });
    const everything = JSON.stringify(lines);
    expect(everything).not.toContain('s3cr3t');
    expect(everything).not.toContain('hunter2');
  });
});
