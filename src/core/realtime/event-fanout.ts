/**
 * Delivers one committed record event to this node's subscribers (spec §1.6). Subscribers are
 * grouped by what decides their message — the rule that applies (view rule for `coll/<id>`,
 * list rule otherwise), who they are, and their subscription options — so the access check,
 * the expansion and the field picking run once per group, not once per connection: a thousand
 * guests on `posts/*` cost one check and one JSON serialisation.
 */
import type { ParsedRule } from '../rules/parsed-rule.js';
import type { Logger } from '../ports.js';
import type { Caller } from '../records/caller.js';
import { parseExpand } from '../records/expand.js';
import { parseFields, pickFields } from '../records/fields-picker.js';
import { presentRecords } from '../records/record-presenter.js';
import type { QueryContext } from '../records/record-query.js';
import type { RecordModel } from '../records/record.js';
import { canReceive } from './event-access.js';
import { authKeyOf, type RealtimeHub, type TopicEntry } from './realtime-hub.js';

export type RecordAction = 'create' | 'update' | 'delete';

interface Group {
  rule: ParsedRule;
  first: TopicEntry;
  targets: TopicEntry[];
}

/** Groups checked at once: enough to overlap PostgreSQL round trips, few enough to stay fair. */
const CONCURRENT_GROUPS = 8;

export class EventFanOut {
  constructor(
    private readonly hub: RealtimeHub,
    private readonly ctx: () => QueryContext,
    private readonly logger: Logger,
  ) {}

  async deliver(action: RecordAction, record: RecordModel): Promise<void> {
    const groups = this.groupsFor(record);
    if (groups.length === 0) return;
    for (let i = 0; i < groups.length; i += CONCURRENT_GROUPS) {
      await Promise.all(groups.slice(i, i + CONCURRENT_GROUPS).map((g) => this.deliverToGroup(action, record, g)));
    }
  }

  private groupsFor(record: RecordModel): Group[] {
    const c = record.collection;
    const id = String(record.values.id);
    const groups = new Map<string, Group>();
    const seen = new Set<string>();
    const add = (topic: string, rule: ParsedRule, ruleName: string) => {
      if (seen.has(topic)) return; // a collection whose name is its id
      seen.add(topic);
      for (const entry of this.hub.subscribers(topic)) {
        const { client, subscription } = entry;
        const key = `${ruleName}\u0000${client.isSuperuser ? 's' : ''}${authKeyOf(client.auth)}\u0000${subscription.optionsKey}`;
        const group = groups.get(key);
        if (group) group.targets.push(entry);
        else groups.set(key, { rule, first: entry, targets: [entry] });
      }
    };
    add(`${c.name}/${id}`, c.rules.view, 'view');
    add(`${c.id}/${id}`, c.rules.view, 'view');
    for (const topic of [`${c.name}/*`, `${c.id}/*`, c.name, c.id]) add(topic, c.rules.list, 'list');
    return [...groups.values()];
  }

  private async deliverToGroup(action: RecordAction, record: RecordModel, group: Group): Promise<void> {
    const { client, subscription } = group.first;
    const query = subscription.query;
    const caller: Caller = {
      auth: client.auth,
      isSuperuser: client.isSuperuser,
      info: { context: 'realtime', method: 'GET', headers: subscription.headers, query, body: {}, auth: client.auth },
    };
    let payload: string;
    try {
      const ctx = this.ctx();
      if (!(await canReceive(ctx, record, group.rule, query.filter ?? '', caller))) return;
      const [json] = await presentRecords(ctx, [record], caller, parseExpand(query.expand));
      payload = JSON.stringify({ action, record: pickFields(json, parseFields(query.fields)) });
    } catch (err) {
      // A subscription filter that does not compile for this collection simply matches nothing.
      this.logger.debug({ err, topic: subscription.topic }, 'realtime event not delivered to a subscription');
      return;
    }
    for (const target of group.targets) target.client.send(target.subscription.raw, payload);
  }
}
