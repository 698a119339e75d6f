/**
 * The dashboard's helpers for Basalt's additions (dashboard/src/lib): the jobs list's filter from
 * a queue and a state, the actions a job's state allows, the queues' rows from the stats; a
 * webhook endpoint ↔ its form's draft (headers as lines); a workflow's diagram (columns by distance
 * from the initial state, one arrow per pair of states, geometry inside the picture).
 */
import { describe, expect, it } from 'vitest';
import { jobActions, jobsFilter, prettyJson, queueRows, quoteFilterValue } from '../../dashboard/src/lib/jobs.js';
import { accessOf, matchRoute } from '../../dashboard/src/lib/routes.js';
import { afterText, edgePairs, layoutWorkflow, ruleText, stateColumns, type Workflow } from '../../dashboard/src/lib/workflow-diagram.js';
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

describe('workflow diagram', () => {
  const orders: Workflow = {
    field: 'status', initial: 'draft',
    transitions: [
      { name: 'submit', from: ['draft'], to: 'submitted' },
      { name: 'approve', from: ['submitted'], to: 'approved' },
      { name: 'cancel', from: ['draft', 'submitted'], to: 'cancelled' },
      { name: 'withdraw', from: 'submitted', to: 'cancelled' },
      { name: 'reopen', from: ['cancelled'], to: 'draft' },
      { name: 'touch', from: ['approved'], to: 'approved' },
    ],
  };

  it('puts each state in the column of its distance from the initial state; unreachable values last', () => {
    expect(stateColumns(orders, ['draft', 'submitted', 'approved', 'cancelled', 'archived'])).toEqual([
      { state: 'draft', column: 0 }, { state: 'submitted', column: 1 }, { state: 'cancelled', column: 1 },
      { state: 'approved', column: 2 }, { state: 'archived', column: 3 },
    ]);
  });

  it('draws one arrow per pair of states, named by every transition taking it (from as a list or a string)', () => {
    const pairs = edgePairs(orders);
    expect(pairs.find((p) => p.from === 'submitted' && p.to === 'cancelled')!.names).toEqual(['cancel', 'withdraw']);
    expect(pairs).toHaveLength(6);
  });

  it('lays the boxes out without overlap and keeps every path and label inside the picture', () => {
    const d = layoutWorkflow(orders, ['archived']);
    for (const a of d.nodes) {
      for (const b of d.nodes) {
        if (a === b) continue;
        const apart = a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
        expect(apart, `${a.state} / ${b.state}`).toBe(true);
      }
      expect(a.x + a.width).toBeLessThanOrEqual(d.width);
      expect(a.y + a.height).toBeLessThanOrEqual(d.height);
    }
    for (const e of d.edges) {
      const numbers = e.path.match(/-?\d+(\.\d+)?/g)!.map(Number);
      expect(numbers.every((n) => Number.isFinite(n) && n >= 0 && n <= Math.max(d.width, d.height)), e.path).toBe(true);
      expect(e.labelX).toBeGreaterThan(0);
      expect(e.labelY).toBeGreaterThan(0);
    }
    // The loop of a transition back to its own state is drawn over its box.
    expect(d.edges.find((e) => e.from === 'approved' && e.to === 'approved')!.path).toMatch(/^M .* C /);
    expect(d.nodes.find((n) => n.initial)!.state).toBe('draft');
  });

  it('says who may take a transition and when it fires by itself', () => {
    expect(ruleText(undefined)).toBe('as the update rule');
    expect(ruleText(null)).toBe('as the update rule');
    expect(ruleText('')).toBe('anyone');
    expect(ruleText('@request.auth.id != ""')).toBe('@request.auth.id != ""');
    expect(afterText('48h')).toBe('after 48h');
    expect(afterText({ field: 'due' })).toBe('at due');
    expect(afterText(undefined)).toBe('');
    expect(matchRoute('#/collections/orders/workflow?record=r1').params).toEqual({ collection: 'orders' });
    expect(matchRoute('#/collections/orders/workflow').name).toBe('workflow');
  });
});
