/**
 * Small helpers shared by the records API suites: hand-built request bodies (multipart and
 * urlencoded, as browsers and the SDK send them) and superuser look-ups used to check what was
 * (or was not) written.
 */
import { expect } from 'vitest';
import { send } from '../harness/scenario.js';
import type { TestApp } from '../harness/test-app.js';

/** The API datetime format, spec §1.1: `2024-01-31 12:00:00.123Z`. */
export const DATE_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** Default record ids, spec §1.1: 15 characters of [a-z0-9]. */
export const ID_RE = /^[a-z0-9]{15}$/;

export const NOT_FOUND = "The requested resource wasn't found.";
export const SUPERUSERS_ONLY = 'Only superusers can perform this action.';
export const SUPERUSERS_ONLY_FILTER = 'Only superusers can filter by @collection.';
export const CREATE_FAILED = 'Failed to create record.';
export const UPDATE_FAILED = 'Failed to update record.';
export const DELETE_FAILED = 'Failed to delete record. Make sure that the record is not part of a required relation reference.';
export const MISSING_COLLECTION = 'Missing collection context.';
export const INVALID_FILTER = 'Invalid filter parameters.';

export const BOUNDARY = '----BasaltTestBoundary7MA4YWxkTrZu0gW';

export type Part = string | { filename: string; contentType: string; content: string };

/**
 * A multipart/form-data body built by hand. `parts` is a list of [name, value] pairs, so a name
 * may repeat (several values of a multi-valued field).
 */
export function multipart(parts: [string, Part][] | Record<string, Part>, boundary = BOUNDARY): { body: string; headers: Record<string, string> } {
  const entries = Array.isArray(parts) ? parts : Object.entries(parts);
  let body = '';
  for (const [name, value] of entries) {
    body += `--${boundary}\r\n`;
    if (typeof value === 'string') {
      body += `Content-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    } else {
      body += `Content-Disposition: form-data; name="${name}"; filename="${value.filename}"\r\n`;
      body += `Content-Type: ${value.contentType}\r\n\r\n${value.content}\r\n`;
    }
  }
  body += `--${boundary}--\r\n`;
  return { body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

/** An application/x-www-form-urlencoded body. */
export function urlencoded(fields: [string, string][] | Record<string, string>): { body: string; headers: Record<string, string> } {
  const entries = Array.isArray(fields) ? fields : Object.entries(fields);
  return {
    body: new URLSearchParams(entries).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  };
}

/** Every record of a collection as a superuser sees it (up to 1000), in insertion order. */
export async function listAsSuperuser(t: TestApp, superToken: string, collection: string, filter = ''): Promise<any[]> {
  const query = `perPage=1000&sort=@rowid${filter ? `&filter=${encodeURIComponent(filter)}` : ''}`;
  const res = await send(t, 'GET', `/api/collections/${collection}/records?${query}`, { auth: superToken });
  expect(res.status, res.raw).toBe(200);
  return res.body.items;
}

/** How many records a collection holds (superuser count, rules ignored). */
export async function countAsSuperuser(t: TestApp, superToken: string, collection: string, filter = ''): Promise<number> {
  const query = `perPage=1${filter ? `&filter=${encodeURIComponent(filter)}` : ''}`;
  const res = await send(t, 'GET', `/api/collections/${collection}/records?${query}`, { auth: superToken });
  expect(res.status, res.raw).toBe(200);
  return res.body.totalItems;
}

/** A record as a superuser sees it, or null when it does not exist. */
export async function viewAsSuperuser(t: TestApp, superToken: string, collection: string, id: string): Promise<any | null> {
  const res = await send(t, 'GET', `/api/collections/${collection}/records/${id}`, { auth: superToken });
  if (res.status === 404) return null;
  expect(res.status, res.raw).toBe(200);
  return res.body;
}

/** A few milliseconds, so that `updated` timestamps taken before and after differ. */
export const tick = (ms = 5): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
