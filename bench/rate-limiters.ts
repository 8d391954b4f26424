// The per-account rate limit on Redis: this code base's own limiter (src/auth/rate-limiter.ts, one EVAL a hit)
// against @fastify/rate-limit's Redis store through `createRateLimit` (one EVAL a hit as well). Run:
//   REDIS_URL=redis://127.0.0.1:6379 npx tsx bench/rate-limiters.ts   (BENCH_HITS, default 20000)
import { performance } from 'node:perf_hooks';
import Fastify from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { Redis } from 'ioredis';
import { createRedisRateLimiter } from '../src/auth/rate-limiter.js';

const HITS = Number(process.env.BENCH_HITS ?? 20_000);
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const prefix = `bench-rl-${process.pid}:`;

async function measure(name: string, hit: (key: string) => Promise<unknown>, concurrency: number) {
  const times: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < HITS) {
        const i = next++;
        const t = performance.now();
        await hit(`acct-${i % 100}`);
        times.push(performance.now() - t);
      }
    }),
  );
  const total = performance.now() - start;
  times.sort((a, b) => a - b);
  const p = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(3);
  console.log(`${name.padEnd(40)} c=${String(concurrency).padStart(2)}  ${Math.round((HITS / total) * 1000).toString().padStart(6)} hits/s  p50 ${p(0.5)} ms  p99 ${p(0.99)} ms`);
}

const own = createRedisRateLimiter(redis, 1_000_000_000, `${prefix}own:`);
const app = Fastify();
await app.register(rateLimit, { global: false, redis, max: 1_000_000_000, timeWindow: 60_000, nameSpace: `${prefix}plugin:`, keyGenerator: (req) => (req as unknown as { key: string }).key });
await app.ready();
const limit = app.createRateLimit();
const fakeRequest = (key: string) => ({ key, routeOptions: { config: {} } }) as never;

for (const concurrency of [1, 16]) {
  for (let round = 0; round < 2; round++) {
    await measure('src/auth/rate-limiter.ts (Redis)', (key) => own.hit(key), concurrency);
    await measure('@fastify/rate-limit createRateLimit (Redis)', (key) => limit(fakeRequest(key)), concurrency);
  }
}
const keys = await redis.keys(`${prefix}*`);
if (keys.length) await redis.del(...keys);
await app.close();
redis.disconnect();

// A window key that lost its expiry (a PERSIST, a restore, a failover that dropped the TTL): does the limiter repair
// it, or does the account stay refused for good?
{
  const redis2 = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const p2 = `bench-rl-stuck-${process.pid}:`;
  const own2 = createRedisRateLimiter(redis2, 5, `${p2}own:`);
  const app2 = Fastify();
  await app2.register(rateLimit, { global: false, redis: redis2, max: 5, timeWindow: 60_000, nameSpace: `${p2}plugin:`, keyGenerator: (req) => (req as unknown as { key: string }).key });
  await app2.ready();
  const limit2 = app2.createRateLimit();
  await redis2.set(`${p2}own:acct`, '100');
  await redis2.set(`${p2}plugin:acct`, '100');
  const ownDecision = await own2.hit('acct');
  const pluginDecision = (await limit2({ key: "acct", routeOptions: { config: {} } } as never)) as { isExceeded: boolean; ttlInSeconds: number };
  console.log(`stuck key, own limiter:    allowed ${ownDecision.allowed}, retry after ${ownDecision.retryAfterSeconds} s, key TTL now ${await redis2.pttl(`${p2}own:acct`)} ms`);
  console.log(`stuck key, plugin limiter: exceeded ${pluginDecision.isExceeded}, ttl ${pluginDecision.ttlInSeconds} s, key TTL now ${await redis2.pttl(`${p2}plugin:acct`)} ms (-1: no expiry, refused until someone deletes it)`);
  await redis2.del(`${p2}own:acct`, `${p2}plugin:acct`);
  await app2.close();
  redis2.disconnect();
}
