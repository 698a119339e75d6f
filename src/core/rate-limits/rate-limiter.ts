/**
 * Rate limits as PocketBase defines them (settings.rateLimits, spec §1.1): each request is
 * matched to one rule, first by its tags (`users:authWithPassword`, then `*:authWithPassword`,
 * `*:auth`…), then by its path (`POST /api/x`, `/api/x`, then path prefixes ending with `/`).
 * Counts are per client IP; sign-in endpoints also count per submitted identity, so spreading a
 * password-guessing run over many addresses does not escape the limit. Superusers and the
 * addresses of settings `rateLimits.excludedIPs` are exempt (from the per-IP counts).
 * The counters live behind the RateLimitStore port (memory, or Redis for a cluster).
 */
import { ApiError } from '../errors.js';
import { ipInList } from '../net/ip-list.js';
import type { Logger, RateLimitStore } from '../ports.js';
import type { SettingsService } from '../settings/settings-service.js';
import type { RateLimitRule } from '../settings/settings.js';

export interface RateLimitRequest {
  method: string;
  /** URL path, without the query string. */
  path: string;
  /** Collection name and action tags of collection routes (`['authWithPassword', 'auth']`). */
  collection?: { id: string; name: string; tags: readonly string[]; route: string };
  isAuth: boolean;
  /** Trusted principals (superusers) are never limited. */
  trusted: boolean;
  ip: string;
}

export const tooManyRequests = (message?: string) => new ApiError(429, message);

/** The first rule matching `labels` (in order) for one of `audiences`: exact labels first, then path prefixes. */
export function findRateLimitRule(rules: readonly RateLimitRule[], labels: readonly string[], audiences: readonly string[]): RateLimitRule | null {
  const prefixRules = rules.filter((r) => r.label.endsWith('/'));
  for (const label of labels) {
    for (const rule of rules) if (rule.label === label && audiences.includes(rule.audience)) return rule;
    for (const rule of prefixRules) if ((label + '/').startsWith(rule.label) && audiences.includes(rule.audience)) return rule;
  }
  return null;
}

const AUTH_AUDIENCES = ['', '@auth'];
const GUEST_AUDIENCES = ['', '@guest'];

export class RateLimiter {
  constructor(
    private readonly settings: SettingsService,
    private readonly store: RateLimitStore,
    private readonly logger: Logger,
  ) {}

  get enabled(): boolean {
    return this.settings.get().rateLimits.enabled;
  }

  private match(req: RateLimitRequest): { rule: RateLimitRule; scope: string } | null {
    const { rules } = this.settings.get().rateLimits;
    const audiences = req.isAuth ? AUTH_AUDIENCES : GUEST_AUDIENCES;
    const pathLabels = [`${req.method} ${req.path}`, req.path];
    if (req.collection) {
      const c = req.collection;
      const labels = [...c.tags.map((t) => `${c.name}:${t}`), ...c.tags.map((t) => `*:${t}`), ...pathLabels];
      const rule = findRateLimitRule(rules, labels, audiences);
      // Tag rules count per collection and route, as PocketBase's do.
      return rule ? { rule, scope: `${c.id}:${c.route}` } : null;
    }
    const rule = findRateLimitRule(rules, pathLabels, audiences);
    return rule ? { rule, scope: '' } : null;
  }

  /** Counts the request against its rule; a 429 once the rule's window is used up. */
  async check(req: RateLimitRequest): Promise<void> {
    if (!this.enabled || req.trusted) return;
    if (ipInList(this.settings.get().rateLimits.excludedIPs, req.ip)) return;
    const matched = this.match(req);
    if (!matched) return;
    await this.count(`${matched.rule.label}|${matched.rule.audience}|${matched.scope}|ip:${req.ip}`, matched.rule);
  }

  /**
   * The identity half of a sign-in limit: `identity` (an email or username) is counted with the
   * rule that applies to `tag` on the collection, whatever address the attempts come from.
   */
  async checkIdentity(collection: { id: string; name: string }, tags: readonly string[], identity: string): Promise<void> {
    if (!this.enabled || identity === '') return;
    const { rules } = this.settings.get().rateLimits;
    const labels = [...tags.map((t) => `${collection.name}:${t}`), ...tags.map((t) => `*:${t}`)];
    const rule = findRateLimitRule(rules, labels, GUEST_AUDIENCES);
    if (!rule) return;
    await this.count(`${rule.label}|${rule.audience}|${collection.id}|identity:${identity.toLowerCase()}`, rule);
  }

  /**
   * A limit that always applies, whatever the settings (one-time codes: PocketBase allows 5
   * attempts per record in 3 minutes). Throws 429 with `message` past `max`.
   */
  async enforce(key: string, max: number, windowSeconds: number, message?: string): Promise<void> {
    const n = await this.hit(key, windowSeconds);
    if (n !== null && n > max) throw tooManyRequests(message);
  }

  /** Counts once per window: true the first time, false until the window ends (resend suppression). */
  async firstInWindow(key: string, windowSeconds: number): Promise<boolean> {
    const n = await this.hit(key, windowSeconds);
    return n === null || n === 1;
  }

  async forget(key: string): Promise<void> {
    await this.store.reset(key).catch(() => {});
  }

  private async count(key: string, rule: RateLimitRule): Promise<void> {
    const n = await this.hit(key, rule.duration);
    if (n !== null && n > rule.maxRequests) throw tooManyRequests();
  }

  /**
   * Counts one hit on `key` and returns the hits in its window, this one included; null when the
   * store is unreachable: limits fail open (logged) rather than take the API down.
   */
  async hit(key: string, windowSeconds: number): Promise<number | null> {
    try {
      return await this.store.hit(key, windowSeconds);
    } catch (err) {
      this.logger.error({ err: { message: (err as Error).message } }, 'rate limit store unavailable: request not counted');
      return null;
    }
  }
}
