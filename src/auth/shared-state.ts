import { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import { createMemoryRateLimiter, createRedisRateLimiter, type RateLimiter } from './rate-limiter.js';
import { createMemoryReplayCache, createRedisReplayCache, type ReplayCache } from './replay-cache.js';

/** State that instances must share to enforce limits together: in Redis when REDIS_URL is set. */
export interface SharedState {
  rateLimiter: RateLimiter | undefined;
  replayCache: ReplayCache;
  close(): Promise<void>;
}

export function createSharedState(config: Pick<Config, 'redisUrl' | 'redisKeyPrefix' | 'rateLimitPerMinute'>): SharedState {
  if (!config.redisUrl) {
    const rateLimiter = config.rateLimitPerMinute > 0 ? createMemoryRateLimiter(config.rateLimitPerMinute) : undefined;
    const replayCache = createMemoryReplayCache();
    return {
      rateLimiter,
      replayCache,
      async close() {
        await rateLimiter?.close();
        await replayCache.close();
      },
    };
  }
  // Commands made while (re)connecting wait in the queue, but at most one retry and the command timeout:
  // a request should not hang while Redis is away; it gets a 503 instead.
  const redis = new Redis(config.redisUrl, { enableOfflineQueue: true, maxRetriesPerRequest: 1, commandTimeout: 2000, lazyConnect: false });
  redis.on('error', () => {});
  return {
    rateLimiter: config.rateLimitPerMinute > 0 ? createRedisRateLimiter(redis, config.rateLimitPerMinute, `${config.redisKeyPrefix}rl:`) : undefined,
    replayCache: createRedisReplayCache(redis, `${config.redisKeyPrefix}jti:`),
    async close() {
      redis.disconnect();
    },
  };
}
