/**
 * The dashboard's helpers for the logs, settings and API key screens (dashboard/src/lib): the
 * logs filter with and without superusers' requests, the chart's bars, nested field errors by
 * path, lists as text, secrets sent only when typed, and API key scopes.
 */
import { ClientResponseError } from 'pocketbase';
import { describe, expect, it } from 'vitest';
import { emptyScope, localInputOf, scopeDrafts, scopesPayload, scopeSummary } from '../../dashboard/src/lib/api-keys.js';
import { chartBars, levelName, logsFilter, parseApiDate } from '../../dashboard/src/lib/log-chart.js';
import { flattenErrors, nestedFieldErrors } from '../../dashboard/src/lib/nested-errors.js';
import { formatBytes, listToText, textToList, toInt, withSecret } from '../../dashboard/src/lib/settings-form.js';
import { accessOf, matchRoute } from '../../dashboard/src/lib/routes.js';

describe('logs filter and levels', () => {
  it('leaves out superusers’ requests unless asked, and keeps the typed filter whole', () => {
    expect(logsFilter('', true)).toBe('');
    expect(logsFilter('', false)).toBe('data.auth != "_superusers"');
    expect(logsFilter(' level > 0 || data.status >= 400 ', true)).toBe('(level > 0 || data.status >= 400)');
    expect(logsFilter('level > 0 || data.status >= 400', false)).toBe('data.auth != "_superusers" && (level > 0 || data.status >= 400)');
  });

  it('names slog levels', () => {
    expect([-4, 0, 4, 8, 2].map(levelName)).toEqual(['DEBUG', 'INFO', 'WARN', 'ERROR', 'LEVEL 2']);
  });
});

describe('requests-per-hour chart', () => {
  it('parses the API’s dates', () => {
    expect(parseApiDate('2026-12-04 22:00:00.000Z')).toBe(Date.UTC(2026, 11, 4, 22));
    expect(parseApiDate('nonsense')).toBeNaN();
  });

  it('is empty without requests', () => {
    const chart = chartBars([{ date: 'x', total: 3 }, { date: '2026-12-04 22:00:00.000Z', total: 0 }], 100, 50);
    expect(chart.bars).toEqual([]);
    expect(chart.max).toBe(0);
  });

  it('places one bar per hour on a time axis of at least a day, gaps kept, scaled to the highest hour', () => {
    const chart = chartBars(
      [
        { date: '2026-12-04 23:00:00.000Z', total: 5 },
        { date: '2026-12-04 20:00:00.000Z', total: 10 },
      ],
      2400,
      100,
    );
    // 24 slots of 100 units ending at 23 h: the bars at 20 h (slot 20) and 23 h (slot 23).
    expect(chart.max).toBe(10);
    expect(chart.bars.map((b) => [b.x, b.width, b.y, b.height])).toEqual([
      [2000.5, 99, 0, 100],
      [2300.5, 99, 50, 50],
    ]);
    expect(chart.from).toBe(Date.UTC(2026, 11, 4, 0));
    expect(chart.to).toBe(Date.UTC(2026, 11, 4, 23));
  });

  it('spans more than a day when the logs do', () => {
    const chart = chartBars([{ date: '2026-12-01 00:00:00.000Z', total: 1 }, { date: '2026-12-04 23:00:00.000Z', total: 1 }], 96, 10);
    expect(chart.from).toBe(Date.UTC(2026, 11, 1, 0));
    expect(chart.bars.map((b) => b.x)).toEqual([0, 95]);
  });

  it('keeps a one-request hour visible beside a busy one', () => {
    const chart = chartBars([{ date: '2026-12-04 20:00:00.000Z', total: 100_000 }, { date: '2026-12-04 21:00:00.000Z', total: 1 }], 10, 100);
    expect(chart.bars[1]!.height).toBe(1);
    expect(chart.bars[1]!.width).toBeGreaterThanOrEqual(1);
  });
});

describe('nested field errors', () => {
  const body = {
    meta: { appName: { code: 'validation_required', message: 'Missing required value.' } },
    rateLimits: { rules: { 1: { label: { code: 'validation_match_invalid', message: 'Invalid label format.' } } } },
    superuserIPs: { 0: { code: 'validation_invlaid_ip_or_subnet', message: 'Must be an IP address.' } },
    // A section with a field named "message" is not a leaf.
    smtp: { message: { code: 'validation_x', message: 'inner' } },
  };

  it('flattens them to dotted paths', () => {
    expect(flattenErrors(body)).toEqual({
      'meta.appName': 'Missing required value.',
      'rateLimits.rules.1.label': 'Invalid label format.',
      'superuserIPs.0': 'Must be an IP address.',
      'smtp.message': 'inner',
    });
    expect(flattenErrors({ name: { code: 'validation_required', message: 'Missing.' } })).toEqual({ name: 'Missing.' });
    expect(flattenErrors(null)).toEqual({});
  });

  it('reads them from the SDK’s error', () => {
    const err = new ClientResponseError({ status: 400, response: { status: 400, message: 'Bad', data: body } });
    expect(nestedFieldErrors(err)['meta.appName']).toBe('Missing required value.');
    expect(nestedFieldErrors(new Error('x'))).toEqual({});
  });
});

describe('settings forms', () => {
  it('edits lists as text', () => {
    expect(textToList(' X-Real-IP, X-Forwarded-For\n\n10.0.0.0/8 ,')).toEqual(['X-Real-IP', 'X-Forwarded-For', '10.0.0.0/8']);
    expect(textToList('')).toEqual([]);
    expect(listToText(['a', 'b'])).toBe('a, b');
    expect(listToText(undefined)).toBe('');
  });

  it('sends a secret only when one was typed', () => {
    expect(withSecret({ host: 'h', password: 'stale' }, 'password', '')).toEqual({ host: 'h' });
    expect(withSecret({ host: 'h' }, 'password', 's3cret')).toEqual({ host: 'h', password: 's3cret' });
  });

  it('reads whole numbers and sizes', () => {
    expect([toInt('42'), toInt(''), toInt(3.7), toInt('x')]).toEqual([42, 0, 3, 0]);
    expect([formatBytes(512), formatBytes(1_400_000), formatBytes(-1)]).toEqual(['512 B', '1.4 MB', '']);
  });
});

describe('API key scopes', () => {
  it('sends the checked actions in order', () => {
    const draft = emptyScope();
    draft.actions.delete = true;
    expect(scopesPayload([draft, { collection: 'posts', actions: { list: false, view: false, create: true, update: false, delete: false } }])).toEqual([
      { collection: '*', actions: ['list', 'view', 'delete'] },
      { collection: 'posts', actions: ['create'] },
    ]);
  });

  it('summarises scopes by collection name', () => {
    expect(scopeSummary([{ collection: 'abc', collectionName: 'posts', actions: ['list', 'view'] }, { collection: '*', collectionName: '*', actions: ['create'] }])).toBe('posts: list, view; *: create');
  });

  it('turns a key back into the form it was made with (editing), and its payload into the same scopes', () => {
    const scopes = [
      { collection: 'abc', collectionName: 'posts', actions: ['list', 'view'] as const },
      { collection: '*', collectionName: '*', actions: ['create', 'delete'] as const },
    ].map((s) => ({ ...s, actions: [...s.actions] }));
    const drafts = scopeDrafts(scopes);
    expect(drafts[0]).toEqual({ collection: 'posts', actions: { list: true, view: true, create: false, update: false, delete: false } });
    expect(scopesPayload(drafts)).toEqual([
      { collection: 'posts', actions: ['list', 'view'] },
      { collection: '*', actions: ['create', 'delete'] },
    ]);
  });

  it('shows a stored expiry in a datetime-local input, in the local time zone', () => {
    expect(localInputOf('')).toBe('');
    expect(localInputOf('not a date')).toBe('');
    const local = localInputOf('2027-03-04 05:06:07.000Z');
    expect(local).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
    // Read back as the browser reads the input (local time), it is the same minute.
    expect(new Date(local).toISOString()).toBe('2027-03-04T05:06:00.000Z');
  });
});

describe('the new routes', () => {
  it('matches logs, settings sections and API keys, for superusers', () => {
    expect(matchRoute('#/logs?filter=x').name).toBe('logs');
    expect(matchRoute('#/settings').params).toEqual({});
    expect(matchRoute('#/settings/backups')).toMatchObject({ name: 'settings', params: { section: 'backups' } });
    expect(matchRoute('#/api-keys').name).toBe('apiKeys');
    expect(['logs', 'settings', 'apiKeys'].map((n) => accessOf(n as 'logs'))).toEqual(['superuser', 'superuser', 'superuser']);
  });
});
