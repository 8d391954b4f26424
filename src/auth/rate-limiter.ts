import type { Redis } from 'ioredis';
import { ServiceUnavailableError } from '../shared/errors.js';

export interface RateDecision {
  allowed: boolean;
  /** Seconds until the window ends (the window that refused the request, or the one it counted in). */
  retryAfterSeconds: number;
  /** Requests the window allows. */
  limit: number;
  /** Requests left in the window after this one. */
  remaining: number;
}

/** Counts requests per key in fixed one-minute windows that start at a key's first request. */
export interface RateLimiter {
  hit(key: string): Promise<RateDecision>;
  close(): Promise<void>;
}

const WINDOW_MS = 60_000;

/** One process's counters; enough for a single instance. */
export function createMemoryRateLimiter(limitPerMinute: number, now: () => number = Date.now): RateLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>();
  const sweep = setInterval(() => {
    const t = now();
    for (const [key, w] of windows) if (w.resetAt <= t) windows.delete(key);
  }, WINDOW_MS);
  sweep.unref();
  return {
    async hit(key) {
      const t = now();
      let w = windows.get(key);
      if (!w || w.resetAt <= t) {
        w = { count: 0, resetAt: t + WINDOW_MS };
        windows.set(key, w);
      }
      w.count += 1;
      return decide(w.count, limitPerMinute, w.resetAt - t);
    },
    async close() {
      clearInterval(sweep);
    },
  };
}

// INCR and the window's expiry in one step, so instances sharing the Redis share the window.
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
`;

/** Counters in Redis, shared by every instance that points at it. */
export function createRedisRateLimiter(redis: Redis, limitPerMinute: number, prefix = 'dialbook:rl:'): RateLimiter {
  return {
    async hit(key) {
      let result: [number, number];
      try {
        result = (await redis.eval(HIT_SCRIPT, 1, prefix + key, WINDOW_MS)) as [number, number];
      } catch {
        // Without its counter the limit cannot be kept; the caller may retry (503), it did nothing wrong (500).
        throw new ServiceUnavailableError({ msg: 'The rate limit store is not answering; try again shortly', code: 'SHARED_STATE_UNAVAILABLE' });
      }
      return decide(result[0], limitPerMinute, result[1]);
    },
    async close() {},
  };
}

function decide(count: number, limit: number, msLeft: number): RateDecision {
  return { allowed: count <= limit, retryAfterSeconds: Math.max(1, Math.ceil(msLeft / 1000)), limit, remaining: Math.max(0, limit - count) };
}

/**
 * The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers), named and valued as @fastify/rate-limit
 * sends them with `enableDraftSpec`: the limit, what is left, and the seconds until the window ends.
 */
export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  return {
    'ratelimit-limit': String(decision.limit),
    'ratelimit-remaining': String(decision.remaining),
    'ratelimit-reset': String(decision.retryAfterSeconds),
  };
}
