/**
 * The RateLimitStore port on Redis, so every node of a cluster counts against the same windows.
 * One round trip per hit: a script increments the key and starts its expiry on the first hit.
 */
import { Redis } from 'ioredis';
import type { RateLimitStore } from '../core/ports.js';

const HIT_SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

export class RedisRateLimitStore implements RateLimitStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'basalt:rl:',
  ) {}

  async hit(key: string, windowSeconds: number): Promise<number> {
    const n = await this.redis.eval(HIT_SCRIPT, 1, this.prefix + key, String(Math.max(1, Math.round(windowSeconds * 1000))));
    return Number(n);
  }

  async reset(key: string): Promise<void> {
    await this.redis.del(this.prefix + key);
  }

  async close(): Promise<void> {
    // The connection belongs to whoever created it (it may serve other ports too).
  }
}
