import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { createMemoryRateLimiter, createRedisRateLimiter } from '../../src/auth/rate-limiter.js';
import { connectTestRedis, deleteKeys, testKeyPrefix } from '../helpers/redis.js';

describe('the in-process rate limiter', () => {
  const clock = (start = 1_700_000_000_000) => {
    let t = start;
    return { now: () => t, advance: (ms: number) => { t += ms; } };
  };

  it('allows the limit within a minute and refuses the next, saying how long until the window ends', async () => {
    const c = clock();
    const limiter = createMemoryRateLimiter(3, c.now);
    for (let i = 0; i < 3; i += 1) assert.equal((await limiter.hit('acct')).allowed, true);
    c.advance(20_000);
    assert.deepEqual(await limiter.hit('acct'), { allowed: false, retryAfterSeconds: 40, limit: 3, remaining: 0 });
    await limiter.close();
  });

  it('starts a new window 60 seconds after the first request of the last one', async () => {
    const c = clock();
    const limiter = createMemoryRateLimiter(2, c.now);
    await limiter.hit('acct');
    await limiter.hit('acct');
    c.advance(59_999);
    assert.deepEqual(await limiter.hit('acct'), { allowed: false, retryAfterSeconds: 1, limit: 2, remaining: 0 });
    c.advance(1);
    assert.equal((await limiter.hit('acct')).allowed, true);
    assert.equal((await limiter.hit('acct')).allowed, true);
    assert.equal((await limiter.hit('acct')).allowed, false);
    await limiter.close();
  });

  it('counts each key on its own', async () => {
    const c = clock();
    const limiter = createMemoryRateLimiter(1, c.now);
    assert.equal((await limiter.hit('a')).allowed, true);
    assert.equal((await limiter.hit('a')).allowed, false);
    assert.equal((await limiter.hit('b')).allowed, true);
    await limiter.close();
  });
});

const redisConnection = await connectTestRedis();

describe('the Redis rate limiter', { skip: redisConnection.skip }, () => {
  let redis: Redis;
  let prefix: string;

  before(() => {
    redis = redisConnection.redis!;
    prefix = testKeyPrefix('rl');
  });
  after(async () => {
    if (!redis) return;
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('allows the limit and refuses the next with a Retry-After inside the minute', async () => {
    const limiter = createRedisRateLimiter(redis, 3, prefix);
    for (let i = 0; i < 3; i += 1) assert.equal((await limiter.hit('limit')).allowed, true);
    const refused = await limiter.hit('limit');
    assert.equal(refused.allowed, false);
    assert.ok(refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 60, String(refused.retryAfterSeconds));
    assert.equal((await limiter.hit('another')).allowed, true);
  });

  it('shares one window between limiters (instances) on the same Redis', async () => {
    const one = createRedisRateLimiter(redis, 4, prefix);
    const two = createRedisRateLimiter(redis, 4, prefix);
    const decisions = [];
    for (let i = 0; i < 6; i += 1) decisions.push((await (i % 2 === 0 ? one : two).hit('shared')).allowed);
    assert.deepEqual(decisions, [true, true, true, true, false, false]);
  });

  it('gives every window key an expiry of at most a minute', async () => {
    const limiter = createRedisRateLimiter(redis, 10, prefix);
    await limiter.hit('expiry');
    const ttl = await redis.pttl(`${prefix}expiry`);
    assert.ok(ttl > 0 && ttl <= 60_000, String(ttl));
  });

  it('starts counting again once the window has expired', async () => {
    const limiter = createRedisRateLimiter(redis, 1, prefix);
    await limiter.hit('reset');
    assert.equal((await limiter.hit('reset')).allowed, false);
    // End the window now instead of waiting a minute.
    await redis.pexpire(`${prefix}reset`, 1);
    while ((await redis.exists(`${prefix}reset`)) === 1) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal((await limiter.hit('reset')).allowed, true);
  });

  it('repairs a window key that lost its expiry', async () => {
    await redis.set(`${prefix}stuck`, '100');
    const limiter = createRedisRateLimiter(redis, 1, prefix);
    assert.equal((await limiter.hit('stuck')).allowed, false);
    const ttl = await redis.pttl(`${prefix}stuck`);
    assert.ok(ttl > 0 && ttl <= 60_000, String(ttl));
  });
});
