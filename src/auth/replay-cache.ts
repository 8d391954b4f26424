import type { Redis } from 'ioredis';
import { ServiceUnavailableError } from '../shared/errors.js';

/** Remembers token ids so that an app enforcing `jti` can refuse a token seen before. */
export interface ReplayCache {
  /** True the first time a key is seen within its time to live, false after. */
  firstUse(key: string, ttlSeconds: number): Promise<boolean>;
  /** Forgets a key recorded by firstUse: its request was refused after all (the rate limit), so it may be sent again. */
  forget(key: string): Promise<void>;
  close(): Promise<void>;
}

export function createMemoryReplayCache(now: () => number = Date.now): ReplayCache {
  const seen = new Map<string, number>();
  const sweep = setInterval(() => {
    const t = now();
    for (const [key, expiresAt] of seen) if (expiresAt <= t) seen.delete(key);
  }, 60_000);
  sweep.unref();
  return {
    async firstUse(key, ttlSeconds) {
      const t = now();
      const expiresAt = seen.get(key);
      if (expiresAt !== undefined && expiresAt > t) return false;
      seen.set(key, t + ttlSeconds * 1000);
      return true;
    },
    async forget(key) {
      seen.delete(key);
    },
    async close() {
      clearInterval(sweep);
    },
  };
}

export function createRedisReplayCache(redis: Redis, prefix = 'dialbook:jti:'): ReplayCache {
  return {
    async firstUse(key, ttlSeconds) {
      let result: string | null;
      try {
        result = await redis.set(prefix + key, '1', 'EX', Math.max(1, Math.ceil(ttlSeconds)), 'NX');
      } catch {
        // Unable to tell a replay from a first use, the token is refused for now (503), never let through.
        throw new ServiceUnavailableError({ msg: 'The token replay store is not answering; try again shortly', code: 'SHARED_STATE_UNAVAILABLE' });
      }
      return result === 'OK';
    },
    async forget(key) {
      // Best effort: a key left behind only makes the token count as used, the safe side.
      await redis.del(prefix + key).catch(() => {});
    },
    async close() {},
  };
}
