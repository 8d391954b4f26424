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

export function createSharedState(config: Pick<Config, 'redisUrl' | 'rateLimitPerMinute'>): SharedState {
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
  // Fail fast rather than queue: a request should not hang while Redis is away.
  const redis = new Redis(config.redisUrl, { enableOfflineQueue: true, maxRetriesPerRequest: 1, commandTimeout: 2000, lazyConnect: false });
  redis.on('error', () => {});
  return {
    rateLimiter: config.rateLimitPerMinute > 0 ? createRedisRateLimiter(redis, config.rateLimitPerMinute) : undefined,
    replayCache: createRedisReplayCache(redis),
    async close() {
      redis.disconnect();
    },
  };
}
