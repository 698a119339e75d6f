/**
 * Delivers one committed record event to this node's subscribers (spec §1.6). Subscribers are
 * grouped by what decides their message — the rule that applies (view rule for `coll/<id>`,
 * list rule otherwise), who they are, and their subscription options — so the access check,
 * the expansion and the field picking run once per group, not once per connection: a thousand
 * guests on `posts/*` cost one check and one JSON serialisation. The groups' access checks go
 * to the database together (event-access.ts), then the groups that may receive are presented.
 */
import type { ParsedRule } from '../rules/parsed-rule.js';
import type { Logger } from '../ports.js';
import { callerAs, type Caller } from '../records/caller.js';
import { pickFields } from '../records/fields-picker.js';
import { presentRecords } from '../records/record-presenter.js';
import type { QueryContext } from '../records/record-query.js';
import type { RecordModel } from '../model/record-model.js';
import { canReceiveAll, CheckCache } from './event-access.js';
import { authKeyOf, type RealtimeHub, type TopicEntry } from './realtime-hub.js';
import { subscriptionRequest } from './subscription.js';

export type RecordAction = 'create' | 'update' | 'delete';

interface Group {
  rule: ParsedRule;
  /** Identifies the group's compiled access check (see CheckCache). */
  cacheKey: string;
  first: TopicEntry;
  targets: TopicEntry[];
}

/** Auth records by object identity: a refreshed record (new values) is a new object, so a new key. */
const authObjectIds = new WeakMap<object, number>();
let nextAuthObjectId = 1;
function authObjectId(auth: object | null): number {
  if (!auth) return 0;
  let id = authObjectIds.get(auth);
  if (id === undefined) authObjectIds.set(auth, (id = nextAuthObjectId++));
  return id;
}

/** Groups presented at once (expansion may query): enough to overlap PostgreSQL round trips. */
const CONCURRENT_GROUPS = 8;

export class EventFanOut {
  private readonly checks = new CheckCache();

  constructor(
    private readonly hub: RealtimeHub,
    private readonly ctx: () => QueryContext,
    private readonly logger: Logger,
  ) {}

  async deliver(action: RecordAction, record: RecordModel): Promise<void> {
    const groups = this.groupsFor(record);
    if (groups.length === 0) return;
    const callers = groups.map(callerOf);
    let allowed: boolean[];
    try {
      allowed = await canReceiveAll(
        this.ctx(),
        record,
        groups.map((g, i) => ({ rule: g.rule, query: g.first.subscription.checked, caller: callers[i], cacheKey: g.cacheKey })),
        this.checks,
      );
    } catch (err) {
      this.logger.error({ err, collection: record.collection.name }, 'realtime access check failed: event not delivered');
      return;
    }
    const receiving = groups.map((g, i) => ({ group: g, caller: callers[i] })).filter((_, i) => allowed[i]);
    for (let i = 0; i < receiving.length; i += CONCURRENT_GROUPS) {
      await Promise.all(receiving.slice(i, i + CONCURRENT_GROUPS).map(({ group, caller }) => this.deliverToGroup(action, record, group, caller)));
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
        const key = `${ruleName}\u0000${client.principal.kind}:${authKeyOf(client.auth)}\u0000${subscription.optionsKey}`;
        const group = groups.get(key);
        if (group) group.targets.push(entry);
        else groups.set(key, { rule, cacheKey: `${key}\u0000${authObjectId(client.auth)}`, first: entry, targets: [entry] });
      }
    };
    add(`${c.name}/${id}`, c.rules.view, 'view');
    add(`${c.id}/${id}`, c.rules.view, 'view');
    for (const topic of [`${c.name}/*`, `${c.id}/*`, c.name, c.id]) add(topic, c.rules.list, 'list');
    return [...groups.values()];
  }

  private async deliverToGroup(action: RecordAction, record: RecordModel, group: Group, caller: Caller): Promise<void> {
    const query = group.first.subscription.checked;
    let payload: string;
    try {
      const [json] = await presentRecords(this.ctx(), [record], caller, query);
      payload = JSON.stringify({ action, record: pickFields(json, query.fields) });
    } catch (err) {
      this.logger.debug({ err, topic: group.first.subscription.topic }, 'realtime event not delivered to a subscription');
      return;
    }
    for (const target of group.targets) target.client.send(target.subscription.raw, payload);
  }
}

/** The subscriber of a group as rules see it: its auth, its options as `@request.query/headers`. */
function callerOf(group: Group): Caller {
  const { client, subscription } = group.first;
  return callerAs(client.principal, subscriptionRequest(subscription, client.auth));
}
