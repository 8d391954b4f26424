import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import type { RequestContext } from '../../src/shared/request-context.js';
import { registerErrorHandling } from '../../src/http/error-handler.js';
import { idempotencyHooks } from '../../src/idempotency/idempotency.hooks.js';
import { createIdempotencyService } from '../../src/idempotency/idempotency.service.js';
import { ServiceUnavailableError } from '../../src/shared/errors.js';
import { createTestStore, DIALECTS, skipReason, type TestStore } from '../helpers/stores.js';

const LEASE_MS = 60_000;

/**
 * The hooks on a small app of their own, over a real store: routes that count their effects show what runs and
 * what is replayed, for every method, whatever routes the contacts API has.
 */
async function hookedApp(store: TestStore) {
  const service = createIdempotencyService({ db: store.store.db, ttlSeconds: 86_400, leaseMs: LEASE_MS });
  const hooks = idempotencyHooks(service);
  const app: FastifyInstance = Fastify();
  registerErrorHandling(app);
  app.addHook('onRequest', async (request) => {
    request.ctx = { accountId: String(request.headers['x-account'] ?? 'a1') } as RequestContext;
  });
  app.addHook('preHandler', hooks.preHandler);
  app.addHook('onSend', hooks.onSend);

  const effects = { post: 0, delete: 0, flaky: 0, slow: 0 };
  let openGate: () => void = () => {};
  let entered: () => void = () => {};
  const gate = { opened: Promise.resolve(), entered: Promise.resolve() };
  const arm = () => {
    gate.opened = new Promise((resolve) => (openGate = resolve));
    gate.entered = new Promise((resolve) => (entered = resolve));
  };

  app.post('/things', async (request) => ({ n: ++effects.post, got: request.body }));
  app.delete<{ Params: { id: string } }>('/things/:id', async (request) => ({ deleted: request.params.id, n: ++effects.delete }));
  app.get('/things', async () => ({ n: effects.post }));
  app.post('/flaky', async () => {
    effects.flaky += 1;
    if (effects.flaky === 1) throw new ServiceUnavailableError({ msg: 'down for a moment', code: 'STORE_UNAVAILABLE' });
    return { n: effects.flaky };
  });
  app.post('/slow', async () => {
    effects.slow += 1;
    entered();
    await gate.opened;
    return { n: effects.slow };
  });
  await app.ready();
  return { app, effects, gate, arm, open: () => openGate() };
}

for (const dialect of DIALECTS) {
  describe(`Idempotency-Key hooks on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    let store: TestStore;
    let t: Awaited<ReturnType<typeof hookedApp>>;
    let serial = 0;
    const newKey = () => `hooks-${dialect}-${++serial}`;

    before(async () => {
      store = await createTestStore(dialect);
      t = await hookedApp(store);
    });
    after(async () => {
      await t?.app.close();
      await store?.destroy();
    });

    const send = (method: 'POST' | 'DELETE' | 'GET', url: string, key: string | undefined, payload?: object, account = 'a1') =>
      t.app.inject({
        method,
        url,
        headers: { 'x-account': account, ...(key === undefined ? {} : { 'idempotency-key': key }) },
        ...(payload ? { payload } : {}),
      });

    it('runs a DELETE once and replays its answer to a retry with the same key', async () => {
      const key = newKey();
      const first = await send('DELETE', '/things/abc', key);
      const again = await send('DELETE', '/things/abc', key);
      assert.equal(first.statusCode, 200);
      assert.equal(again.statusCode, 200);
      assert.equal(again.body, first.body);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal(first.headers['idempotent-replayed'], undefined);
      assert.equal(t.effects.delete, 1);
    });

    it('refuses the key of a DELETE on another path with 422', async () => {
      const key = newKey();
      await send('DELETE', '/things/abc', key);
      const other = await send('DELETE', '/things/xyz', key);
      assert.equal(other.statusCode, 422);
      assert.deepEqual(other.json().errors.map((e: { code: string }) => e.code), ['IDEMPOTENCY_KEY_REUSED']);
    });

    it('takes a body with its keys in another order as the same request', async () => {
      const key = newKey();
      const before = t.effects.post;
      const first = await send('POST', '/things', key, { a: 1, b: { c: 2, d: [3, { e: 4, f: 5 }] } });
      const again = await send('POST', '/things', key, { b: { d: [3, { f: 5, e: 4 }], c: 2 }, a: 1 });
      assert.equal(again.statusCode, 200);
      assert.equal(again.body, first.body);
      assert.equal(t.effects.post, before + 1);
    });

    it('does not store a 5xx: the key is released and a retry runs again, and that answer is kept', async () => {
      const key = newKey();
      const failed = await send('POST', '/flaky', key);
      assert.equal(failed.statusCode, 503);
      const retried = await send('POST', '/flaky', key);
      assert.equal(retried.statusCode, 200);
      assert.equal(retried.headers['idempotent-replayed'], undefined);
      const replayed = await send('POST', '/flaky', key);
      assert.equal(replayed.headers['idempotent-replayed'], 'true');
      assert.equal(replayed.body, retried.body);
      assert.equal(t.effects.flaky, 2);
    });

    it('answers 409 to a retry while the first request still runs, then replays once it has finished', async () => {
      const key = newKey();
      t.arm();
      const first = send('POST', '/slow', key);
      await t.gate.entered;
      const during = await send('POST', '/slow', key);
      assert.equal(during.statusCode, 409);
      assert.deepEqual(during.json().errors.map((e: { code: string }) => e.code), ['IDEMPOTENCY_KEY_IN_USE']);
      t.open();
      const done = await first;
      assert.equal(done.statusCode, 200);
      const afterwards = await send('POST', '/slow', key);
      assert.equal(afterwards.headers['idempotent-replayed'], 'true');
      assert.equal(afterwards.body, done.body);
      assert.equal(t.effects.slow, 1);
    });

    it('takes over a running key whose holder stopped renewing it (the process died)', async () => {
      const key = newKey();
      const longAgo = Date.now() - LEASE_MS - 1000;
      await store.store.db
        .insertInto('idempotency_keys')
        .values({
          account_id: 'a1', idempotency_key: key, claim_token: 'dead-process', status: 'running', fingerprint: null,
          response_status: null, response_type: null, created_at: longAgo, locked_at: longAgo,
        })
        .execute();
      const before = t.effects.post;
      const res = await send('POST', '/things', key, { x: 1 });
      assert.equal(res.statusCode, 200);
      assert.equal(t.effects.post, before + 1);
      const row = await store.store.db.selectFrom('idempotency_keys').selectAll().where('idempotency_key', '=', key).executeTakeFirstOrThrow();
      assert.equal(row.status, 'done');
      assert.notEqual(row.claim_token, 'dead-process');
    });

    it('keeps a key for a day: replayed after 23 hours, run again after 25', async () => {
      const key = newKey();
      const age = (hours: number) =>
        store.store.db.updateTable('idempotency_keys').set({ created_at: Date.now() - hours * 3600_000 }).where('idempotency_key', '=', key).execute();
      const before = t.effects.post;
      await send('POST', '/things', key, { y: 1 });
      await age(23);
      assert.equal((await send('POST', '/things', key, { y: 1 })).headers['idempotent-replayed'], 'true');
      assert.equal(t.effects.post, before + 1);
      await age(25);
      const rerun = await send('POST', '/things', key, { y: 1 });
      assert.equal(rerun.headers['idempotent-replayed'], undefined);
      assert.equal(t.effects.post, before + 2);
    });

    it('keeps keys per account: another account may use the same key for another request', async () => {
      const key = newKey();
      const mine = await send('POST', '/things', key, { who: 'a1' }, 'a1');
      const theirs = await send('POST', '/things', key, { who: 'a2' }, 'a2');
      assert.equal(mine.statusCode, 200);
      assert.equal(theirs.statusCode, 200);
      assert.equal(theirs.headers['idempotent-replayed'], undefined);
      assert.deepEqual(theirs.json().got, { who: 'a2' });
    });

    it('ignores the header on a GET', async () => {
      const key = newKey();
      const res = await send('GET', '/things', key);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['idempotent-replayed'], undefined);
      const stored = await store.store.db.selectFrom('idempotency_keys').select('status').where('idempotency_key', '=', key).executeTakeFirst();
      assert.equal(stored, undefined);
    });
  });
}
