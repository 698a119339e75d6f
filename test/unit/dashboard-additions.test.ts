/**
 * The dashboard's helpers for Basalt's additions (dashboard/src/lib): the jobs list's filter from
 * a queue and a state, the actions a job's state allows, the queues' rows from the stats; a
 * webhook endpoint ↔ its form's draft (headers as lines).
 */
import { describe, expect, it } from 'vitest';
import { jobActions, jobsFilter, prettyJson, queueRows, quoteFilterValue } from '../../dashboard/src/lib/jobs.js';
import { accessOf, matchRoute } from '../../dashboard/src/lib/routes.js';
import { collectionsSummary, draftOf, emptyDraft, headersToText, textToHeaders, webhookBody, type Webhook } from '../../dashboard/src/lib/webhooks.js';

describe('jobs', () => {
  it('filters by queue and state, quoting the name as a filter string', () => {
    expect(jobsFilter('', '')).toBe('');
    expect(jobsFilter('send-receipt', '')).toBe('name = "send-receipt"');
    expect(jobsFilter('', 'failed')).toBe('state = "failed"');
    expect(jobsFilter('a"b\\c', 'queued')).toBe('name = "a\\"b\\\\c" && state = "queued"');
    // A state typed into the URL that is none of the five is ignored, not sent.
    expect(jobsFilter('', 'broken" || 1=1')).toBe('');
    expect(quoteFilterValue('x')).toBe('"x"');
  });

  it('offers retry for failed and cancelled jobs, cancel for queued and running ones', () => {
    expect(jobActions('failed')).toEqual({ retry: true, cancel: false });
    expect(jobActions('cancelled')).toEqual({ retry: true, cancel: false });
    expect(jobActions('queued')).toEqual({ retry: false, cancel: true });
    expect(jobActions('running')).toEqual({ retry: false, cancel: true });
    expect(jobActions('completed')).toEqual({ retry: false, cancel: false });
  });

  it('lists the queues by name with every state counted', () => {
    expect(queueRows(null)).toEqual([]);
    const rows = queueRows({
      total: { queued: 1, running: 0, completed: 0, failed: 2, cancelled: 0 },
      names: { zeta: { queued: 1 } as never, alpha: { failed: 2, queued: 0, running: 0, completed: 0, cancelled: 0 } },
    });
    expect(rows.map((r) => r.name)).toEqual(['alpha', 'zeta']);
    expect(rows[1]!.counts).toEqual({ queued: 1, running: 0, completed: 0, failed: 0, cancelled: 0 });
  });

  it('shows JSON indented and text as it is', () => {
    expect(prettyJson({ a: 1 })).toBe('{\n  "a": 1\n}');
    expect(prettyJson('plain')).toBe('plain');
    expect(prettyJson(null)).toBe('null');
    expect(prettyJson(undefined)).toBe('');
  });

  it('routes #/jobs to the jobs screen, for superusers', () => {
    expect(matchRoute('#/jobs?state=failed').name).toBe('jobs');
    expect(accessOf('jobs')).toBe('superuser');
  });
});

describe('webhooks', () => {
  it('reads headers from "Name: value" lines, keeping a line without a colon for the server to refuse', () => {
    expect(textToHeaders('X-Tenant: acme\n\n  Authorization:  ******  \nbroken line')).toEqual({ 'X-Tenant': 'acme', Authorization: '******', 'broken line': '' });
    expect(textToHeaders('X-Url: http://a:b')).toEqual({ 'X-Url': 'http://a:b' });
    expect(headersToText({ a: '1', b: '2' })).toBe('a: 1\nb: 2');
    expect(headersToText(null)).toBe('');
  });

  it('turns an endpoint into a draft and back into the same body', () => {
    const hook: Webhook = {
      id: 'w1', url: 'https://example.com/h', collections: ['pbc_1'], actions: ['create', 'delete'], filter: 'a = 1',
      headers: { 'X-Tenant': 'acme' }, enabled: false, failingSince: '', disabledReason: '', secretRotating: false, created: '', updated: '',
    };
    const draft = draftOf(hook);
    expect(draft.actions).toEqual({ create: true, update: false, delete: true });
    expect(webhookBody(draft)).toEqual({ url: 'https://example.com/h', collections: ['pbc_1'], actions: ['create', 'delete'], filter: 'a = 1', headers: { 'X-Tenant': 'acme' }, enabled: false });
    expect(webhookBody({ ...emptyDraft(), url: '  https://x.test  ' })).toMatchObject({ url: 'https://x.test', actions: ['create', 'update', 'delete'], headers: {} });
  });

  it('names the followed collections', () => {
    const names = new Map([['pbc_1', 'orders']]);
    expect(collectionsSummary(['pbc_1', 'pbc_gone'], names)).toBe('orders, pbc_gone');
    expect(collectionsSummary(['*'], names)).toBe('every collection');
    expect(matchRoute('#/webhooks?hook=w1&delivery=msg_1').name).toBe('webhooks');
  });
});
