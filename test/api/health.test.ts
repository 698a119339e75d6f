/**
 * GET /api/health (spec §1.8), the 404 of unknown routes (spec §1.1 error shape) and generic
 * `?fields=` picking on a non-record endpoint.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { createAuthRecord, createSuperuser } from '../harness/fixtures.js';
import { runScenarios, type Scenario } from '../harness/scenario.js';
import { startTestApp, type TestApp } from '../harness/test-app.js';

let t: TestApp;
let superuserToken = '';
let userToken = '';

beforeAll(async () => {
  t = await startTestApp();
  superuserToken = (await createSuperuser(t)).token;
  userToken = (await createAuthRecord(t, 'users', { email: 'health-user@example.com' })).token;
});
afterAll(async () => {
  await t?.close();
});

const NOT_FOUND = { status: 404, message: "The requested resource wasn't found.", data: {} };

describe('GET /api/health', () => {
  runScenarios(() => t, [
    {
      name: 'guest gets the exact healthy body',
      method: 'GET',
      url: '/api/health',
      status: 200,
      check: (body) => expect(body).toEqual({ code: 200, message: 'API is healthy.', data: {} }),
    },
    {
      name: 'a regular user gets the same public body (no diagnostics)',
      method: 'GET',
      url: '/api/health',
      auth: () => userToken,
      status: 200,
      check: (body) => expect(body).toEqual({ code: 200, message: 'API is healthy.', data: {} }),
    },
    {
      name: 'a superuser gets the diagnostics in data',
      method: 'GET',
      url: '/api/health',
      auth: () => superuserToken,
      status: 200,
      expect: { code: 200, message: 'API is healthy.' },
      check: (body) => {
        expect(Object.keys(body.data).sort()).toEqual(['canBackup', 'possibleProxyHeader', 'realIP']);
        expect(typeof body.data.canBackup).toBe('boolean');
      },
    },
    {
      name: 'an invalid token is ignored (guest), not refused',
      method: 'GET',
      url: '/api/health',
      auth: 'not-a-jwt',
      status: 200,
      check: (body) => expect(body).toEqual({ code: 200, message: 'API is healthy.', data: {} }),
    },
    {
      name: '?fields=code keeps only code',
      method: 'GET',
      url: '/api/health?fields=code',
      status: 200,
      check: (body) => expect(body).toEqual({ code: 200 }),
    },
    {
      name: '?fields=message,data keeps only those keys',
      method: 'GET',
      url: '/api/health?fields=message,data',
      status: 200,
      check: (body) => expect(body).toEqual({ message: 'API is healthy.', data: {} }),
    },
    {
      name: '?fields=* keeps everything',
      method: 'GET',
      url: '/api/health?fields=*',
      status: 200,
      check: (body) => expect(body).toEqual({ code: 200, message: 'API is healthy.', data: {} }),
    },
    {
      name: 'trailing slash is tolerated',
      method: 'GET',
      url: '/api/health/',
      status: 200,
      expect: { code: 200 },
    },
    {
      name: 'HEAD answers without a body',
      method: 'HEAD',
      url: '/api/health',
      status: 200,
      check: (_body, raw) => expect(raw).toBe(''),
    },
  ] satisfies Scenario[]);
});

describe('unknown routes', () => {
  const unknown: Scenario[] = [
    { name: 'GET an unknown /api route', method: 'GET', url: '/api/nope' },
    { name: 'POST an unknown /api route', method: 'POST', url: '/api/nope', body: { a: 1 } },
    { name: 'DELETE an unknown /api route', method: 'DELETE', url: '/api/nope/deeper' },
    { name: 'an unknown sub-route of a collection', method: 'GET', url: '/api/collections/users/nope' },
    { name: 'an unknown route outside /api', method: 'GET', url: '/definitely-not-here' },
    { name: 'an unknown route as superuser', method: 'GET', url: '/api/nope', auth: () => superuserToken },
  ].map((s) => ({ ...s, status: 404, check: (body: any) => expect(body).toEqual(NOT_FOUND) }) as Scenario);

  runScenarios(() => t, [
    ...unknown,
    {
      name: '?fields= never reduces an error body',
      method: 'GET',
      url: '/api/nope?fields=status',
      status: 404,
      check: (body) => expect(body).toEqual(NOT_FOUND),
    },
  ]);
});
