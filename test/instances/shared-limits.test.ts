import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signAppToken } from '../../src/auth/token.js';
import { contactInput, createTenant, type Tenant } from '../helpers/app.js';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, testKeyPrefix } from '../helpers/redis.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { createTestStore, skipReason, type TestStore } from '../helpers/stores.js';

const RATE_LIMIT_MESSAGE = "You've exceeded the per-minute rate limit. Please wait for sometime before retrying";

const testRedis = await connectTestRedis();
after(() => testRedis.redis?.disconnect());

function databaseUrl(store: TestStore): string {
  if (store.url.kind !== 'postgres') throw new Error('these tests need PostgreSQL');
  return store.url.url;
}

function createContact(server: ServerProcess, tenant: Tenant, headers: Record<string, string> = tenant.headers) {
  return fetch(`${server.url}${tenant.base}/contacts`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify([contactInput()]),
  });
}

async function contactsInStream(store: TestStore, tenant: Tenant): Promise<number> {
  const row = await store.store.db
    .selectFrom('contacts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('stream_id', '=', tenant.streamId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('two instances sharing one PostgreSQL and one Redis', { skip: (await skipReason('postgres')) || testRedis.skip }, () => {
  // Other tests use the same Redis: this run's keys carry their own prefix, and only they are removed.
  const prefix = testKeyPrefix('instances');
  const redis = testRedis.redis!;
  let store: TestStore;
  let a: ServerProcess | undefined;
  let b: ServerProcess | undefined;

  before(async () => {
    store = await createTestStore('postgres');
    const env = { DATABASE_URL: databaseUrl(store), REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix, RATE_LIMIT_PER_MINUTE: '60', PG_POOL_SIZE: '4' };
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await deleteKeys(redis, prefix);
    await store?.destroy();
  });

  it('refuses exactly one of 61 requests of one account spread over both, with Retry-After', async () => {
    const tenant = await createTenant(store.store);
    const answers: { instance: string; status: number; retryAfter: string | null; body: any }[] = [];
    for (let i = 0; i < 61; i += 1) {
      const [name, server] = i % 2 === 0 ? ['A', a!] : ['B', b!];
      const res = await createContact(server, tenant);
      answers.push({ instance: name, status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() });
    }
    const refused = answers.filter((x) => x.status === 429);
    assert.equal(refused.length, 1, `statuses: ${answers.map((x) => `${x.instance}${x.status}`).join(' ')}`);
    // Sent one after another, so the one over the limit is the last: each instance alone had seen only 30 or 31.
    assert.equal(answers.at(-1)!.status, 429);
    assert.deepEqual(answers.slice(0, 60).map((x) => x.status), Array(60).fill(200));
    const [rejection] = refused;
    assert.ok(Number(rejection!.retryAfter) >= 1 && Number(rejection!.retryAfter) <= 60, `Retry-After: ${rejection!.retryAfter}`);
    assert.deepEqual(rejection!.body.errors.map((e: { msg: string }) => e.msg), [RATE_LIMIT_MESSAGE]);
    // The refused request wrote nothing.
    assert.equal(await contactsInStream(store, tenant), 60);
    // The one count both instances kept lives in Redis, under this run's REDIS_KEY_PREFIX.
    assert.equal(await redis.get(`${prefix}rl:${tenant.accountId}`), '61');
  });

  it('counts each account on its own', async () => {
    // The first test spent its account's minute; a new account starts with a full allowance on either instance.
    const other = await createTenant(store.store);
    assert.equal((await createContact(a!, other)).status, 200);
    assert.equal((await createContact(b!, other)).status, 200);
  });

  it('refuses on one instance a token whose jti was used on the other (app enforcing jti)', async () => {
    const tenant = await createTenant(store.store, { enforceJti: true });
    assert.equal((await createContact(a!, tenant)).status, 200);
    const replayed = await createContact(b!, tenant);
    assert.equal(replayed.status, 401);
    const body = (await replayed.json()) as { errors: { code: string }[] };
    assert.equal(body.errors[0]!.code, 'TOKEN_REPLAYED');
    // B refuses that token, not the app: a fresh token (new jti) is served.
    const fresh = await signAppToken({ clientId: tenant.clientId, key: tenant.clientSecret });
    assert.equal((await createContact(b!, tenant, { ...tenant.headers, auth: fresh })).status, 200);
    assert.equal(await contactsInStream(store, tenant), 2);
  });
});

// Without REDIS_URL each process keeps its own counters and its own jti memory: behind a load balancer the
// effective limit is the per-instance limit times the number of instances, and a replayed token is refused
// only by the instance that saw it first. That is the documented reason to set REDIS_URL with more than one
// instance; these tests pin the behaviour down so that a change to it is noticed.
describe('two instances without Redis', { skip: await skipReason('postgres') }, () => {
  const LIMIT = 3;
  let store: TestStore;
  let a: ServerProcess | undefined;
  let b: ServerProcess | undefined;

  before(async () => {
    store = await createTestStore('postgres');
    const env = { DATABASE_URL: databaseUrl(store), RATE_LIMIT_PER_MINUTE: String(LIMIT), PG_POOL_SIZE: '4' };
    [a, b] = await Promise.all([startServerProcess(env), startServerProcess(env)]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await store?.destroy();
  });

  it('lets each instance count an account alone, so together they allow twice the limit', async () => {
    const tenant = await createTenant(store.store);
    const statuses: number[] = [];
    for (let i = 0; i < 2 * LIMIT; i += 1) statuses.push((await createContact(i % 2 === 0 ? a! : b!, tenant)).status);
    assert.deepEqual(statuses, Array(2 * LIMIT).fill(200));
    // Each instance has now seen LIMIT requests of this account: both refuse the next one.
    assert.equal((await createContact(a!, tenant)).status, 429);
    assert.equal((await createContact(b!, tenant)).status, 429);
  });

  it('refuses a replayed jti only on the instance that saw it', async () => {
    const tenant = await createTenant(store.store, { enforceJti: true });
    assert.equal((await createContact(a!, tenant)).status, 200);
    assert.equal((await createContact(a!, tenant)).status, 401);
    assert.equal((await createContact(b!, tenant)).status, 200);
  });
});
