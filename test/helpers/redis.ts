import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** Where Redis tests run: TEST_REDIS_URL, else the local server CI and developers have. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A connected client, or why Redis tests are skipped on this machine. */
export async function connectTestRedis(): Promise<{ redis: Redis; skip: false } | { redis: undefined; skip: string }> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    return { redis, skip: false };
  } catch {
    redis.disconnect();
    // Asked for explicitly (as CI does): an unreachable server is a failure, not a skip.
    if (process.env.TEST_REDIS_URL) throw new Error(`TEST_REDIS_URL is set but Redis does not answer at ${TEST_REDIS_URL}`);
    return { redis: undefined, skip: `Redis is not reachable at ${TEST_REDIS_URL}` };
  }
}

/** A key prefix of its own, so that runs sharing one Redis never see each other's keys. */
export function testKeyPrefix(kind: string): string {
  return `dialbook:test:${kind}:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under the prefix. */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
}
