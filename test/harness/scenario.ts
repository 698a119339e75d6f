/**
 * Scenario tables (PocketBase's ApiScenario, in TypeScript): each row is one HTTP request
 * against the app, with the expected status and a structural expectation of the JSON body.
 * Rows run in order against the same app; `before` hooks seed data with readable builders.
 */
import { expect, it } from 'vitest';
import type { TestApp } from './test-app.js';

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE' | 'HEAD';

export interface Scenario {
  name: string;
  method: Method;
  url: string | (() => string);
  /** A token, or a function giving one at run time (after `before` seeded it). */
  auth?: string | (() => string);
  headers?: Record<string, string>;
  /** JSON body (objects) or raw payload (strings, with a content-type header). */
  body?: unknown | (() => unknown);
  status: number;
  /** Structural match: every key given must match (arrays by length and item), extra keys allowed. */
  expect?: unknown;
  /** Keys that must be absent from the JSON body (top level, or `items[*]` for lists). */
  absent?: string[];
  /** Free-form assertions on the parsed body. */
  check?: (body: any, raw: string) => void | Promise<void>;
  before?: () => Promise<void> | void;
  after?: (body: any) => Promise<void> | void;
}

export interface ScenarioResponse {
  status: number;
  body: any;
  raw: string;
  headers: Record<string, unknown>;
}

const resolve = <T>(v: T | (() => T)): T => (typeof v === 'function' ? (v as () => T)() : v);

/** Sends one request through Fastify's in-memory injection (the full HTTP stack, no socket). */
export async function send(t: TestApp, method: Method, url: string, options: { auth?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<ScenarioResponse> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.auth) headers.authorization = options.auth;
  let payload: string | undefined;
  if (options.body !== undefined) {
    if (typeof options.body === 'string') payload = options.body;
    else {
      payload = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
  }
  const res = await t.server.inject({ method, url, headers, payload });
  let body: any = undefined;
  if (res.body !== '') {
    try {
      body = JSON.parse(res.body);
    } catch {
      body = res.body;
    }
  }
  return { status: res.statusCode, body, raw: res.body, headers: res.headers };
}

/** Registers one vitest test per scenario; `getApp` is read when the test runs. */
export function runScenarios(getApp: () => TestApp, scenarios: Scenario[]): void {
  for (const s of scenarios) {
    it(`${s.name} → ${s.status}`, async () => {
      await s.before?.();
      const res = await send(getApp(), s.method, resolve(s.url), {
        auth: s.auth === undefined ? undefined : resolve(s.auth),
        body: s.body === undefined ? undefined : resolve(s.body),
        headers: s.headers,
      });
      expect(res.status, `${s.method} ${resolve(s.url)} answered ${res.raw.slice(0, 500)}`).toBe(s.status);
      if (res.status >= 400) {
        // Every error has exactly the standard shape (spec §1.1).
        expect(Object.keys(res.body ?? {}).sort()).toEqual(['data', 'message', 'status']);
        expect(res.body.status).toBe(res.status);
        expect(typeof res.body.message).toBe('string');
        expect(typeof res.body.data).toBe('object');
      }
      if (s.expect !== undefined) expect(res.body).toMatchObject(s.expect as object);
      for (const key of s.absent ?? []) {
        const targets = Array.isArray(res.body?.items) ? res.body.items : [res.body];
        for (const target of targets) expect(target, `"${key}" must be absent`).not.toHaveProperty(key);
      }
      await s.check?.(res.body, res.raw);
      await s.after?.(res.body);
    });
  }
}
