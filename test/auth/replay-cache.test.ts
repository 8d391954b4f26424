import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { createMemoryReplayCache, createRedisReplayCache } from '../../src/auth/replay-cache.js';
import { connectTestRedis, deleteKeys, testKeyPrefix } from '../helpers/redis.js';

describe('the in-process replay cache', () => {
  it('says first use once, then refuses the key until its time to live has passed', async () => {
    let t = 1_700_000_000_000;
    const cache = createMemoryReplayCache(() => t);
    assert.equal(await cache.firstUse('app:jti-1', 60), true);
    assert.equal(await cache.firstUse('app:jti-1', 60), false);
    t += 59_999;
    assert.equal(await cache.firstUse('app:jti-1', 60), false);
    t += 1;
    assert.equal(await cache.firstUse('app:jti-1', 60), true);
    assert.equal(await cache.firstUse('app:jti-1', 60), false);
    await cache.close();
  });

  it('keeps keys apart', async () => {
    const cache = createMemoryReplayCache(() => 0);
    assert.equal(await cache.firstUse('a', 10), true);
    assert.equal(await cache.firstUse('b', 10), true);
    assert.equal(await cache.firstUse('a', 10), false);
    await cache.close();
  });
});

const redisConnection = await connectTestRedis();

describe('the Redis replay cache', { skip: redisConnection.skip }, () => {
  let redis: Redis;
  let prefix: string;

  before(() => {
    redis = redisConnection.redis!;
    prefix = testKeyPrefix('jti');
  });
  after(async () => {
    if (!redis) return;
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  it('says first use once and refuses the key after, on every instance that shares the Redis', async () => {
    const one = createRedisReplayCache(redis, prefix);
    const two = createRedisReplayCache(redis, prefix);
    assert.equal(await one.firstUse('app:jti-1', 60), true);
    assert.equal(await one.firstUse('app:jti-1', 60), false);
    assert.equal(await two.firstUse('app:jti-1', 60), false);
    assert.equal(await two.firstUse('app:jti-2', 60), true);
  });

  it('remembers a key for its time to live, at least a second', async () => {
    const cache = createRedisReplayCache(redis, prefix);
    await cache.firstUse('long', 120);
    const ttl = await redis.ttl(`${prefix}long`);
    assert.ok(ttl > 100 && ttl <= 120, String(ttl));
    await cache.firstUse('short', 0.2);
    const shortTtl = await redis.pttl(`${prefix}short`);
    assert.ok(shortTtl > 0 && shortTtl <= 1000, String(shortTtl));
  });

  it('accepts a key again once it has expired', async () => {
    const cache = createRedisReplayCache(redis, prefix);
    assert.equal(await cache.firstUse('expiring', 60), true);
    await redis.pexpire(`${prefix}expiring`, 1);
    while ((await redis.exists(`${prefix}expiring`)) === 1) await new Promise((resolve) => setTimeout(resolve, 5));
    assert.equal(await cache.firstUse('expiring', 60), true);
  });
});
