/**
 * What one Redis connection provides a cluster node: shared rate-limit counters, pub/sub between
 * nodes, and a readiness check (PING) for `/api/health/ready`. `basalt serve --redis` uses it.
 */
import type { Redis } from 'ioredis';
import type { ReadinessCheck } from '../core/health/readiness.js';
import { RedisPubSub } from './redis-pubsub.js';
import { RedisRateLimitStore } from './redis-rate-limit-store.js';

export function redisAdapters(redis: Redis): { rateLimits: RedisRateLimitStore; pubsub: RedisPubSub; readinessChecks: ReadinessCheck[] } {
  return {
    rateLimits: new RedisRateLimitStore(redis),
    pubsub: new RedisPubSub(redis),
    readinessChecks: [{ name: 'redis', run: async () => void (await redis.ping()) }],
  };
}
