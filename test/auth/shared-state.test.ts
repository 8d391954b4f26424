import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildApp } from '../../src/app.js';
import { createSharedState } from '../../src/auth/shared-state.js';
import { signAppToken } from '../../src/auth/token.js';
import { loadConfig } from '../../src/config/config.js';
import { contactInput, createTenant, type Tenant } from '../helpers/app.js';
import { connectTestRedis, TEST_REDIS_URL } from '../helpers/redis.js';
import { createTestStore, DIALECTS, skipReason, type TestStore } from '../helpers/stores.js';

const redisConnection = await connectTestRedis();
redisConnection.redis?.disconnect();

for (const dialect of DIALECTS) describe(`limits shared through Redis (REDIS_URL) on ${dialect}`, { skip: await skipReason(dialect) }, () => {
  let store: TestStore;

  before(async () => {
    store = await createTestStore(dialect);
  });
  after(async () => {
    await store?.destroy();
  });

  async function appWith(redisUrl: string, rateLimitPerMinute: string) {
    const config = loadConfig({ REDIS_URL: redisUrl, RATE_LIMIT_PER_MINUTE: rateLimitPerMinute });
    const shared = createSharedState(config);
    const app = await buildApp({ config, store: store.store, shared });
    return {
      app,
      async close() {
        await app.close();
        await shared.close();
      },
    };
  }
  const post = (app: Awaited<ReturnType<typeof appWith>>['app'], who: Tenant, auth = who.token) =>
    app.inject({ method: 'POST', url: `${who.base}/contacts`, headers: { auth, accountId: who.accountId }, payload: [contactInput()] });

  it('answers 503 in the error shape, never 500, when Redis does not answer', async (t) => {
    // Port 1 on the loopback: nothing listens there, so every connection is refused at once.
    const one = await appWith('redis://127.0.0.1:1', '5');
    t.after(() => one.close());
    const tenant = await createTenant(store.store);
    const res = await post(one.app, tenant);
    assert.equal(res.statusCode, 503, res.body);
    assert.equal(res.json().errors[0].code, 'SHARED_STATE_UNAVAILABLE');
    assert.ok(res.headers['retry-after']);

    const strict = await createTenant(store.store, { enforceJti: true });
    const unlimited = await appWith('redis://127.0.0.1:1', '0');
    t.after(() => unlimited.close());
    const refused = await post(unlimited.app, strict);
    assert.equal(refused.statusCode, 503, refused.body);
    assert.equal(refused.json().errors[0].code, 'SHARED_STATE_UNAVAILABLE');
  });

  it('keeps one rate limit and one jti memory for two instances', { skip: redisConnection.skip }, async (t) => {
    const one = await appWith(TEST_REDIS_URL, '3');
    const two = await appWith(TEST_REDIS_URL, '3');
    t.after(async () => {
      await one.close();
      await two.close();
    });
    const tenant = await createTenant(store.store);
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await post(i % 2 === 0 ? one.app : two.app, tenant)).statusCode);
    assert.deepEqual(statuses, [200, 200, 200, 429]);

    const strict = await createTenant(store.store, { enforceJti: true });
    const once = await signAppToken({ clientId: strict.clientId, key: strict.clientSecret, expiresInSeconds: 120 });
    assert.equal((await post(one.app, strict, once)).statusCode, 200);
    assert.equal((await post(two.app, strict, once)).statusCode, 401);
  });
});
