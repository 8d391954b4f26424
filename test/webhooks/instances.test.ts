import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openStore, type Store } from '../../src/db/database.js';
import { buildTestApp, createTenant, type Tenant, type TestApp } from '../helpers/app.js';
import { createTestStore, skipReason, type TestStore } from '../helpers/stores.js';
import { contactEvent, publish } from './outbox-helpers.js';
import { FAST_WEBHOOKS, startReceiver, type Receiver } from './receiver.js';

describe('two instances on one PostgreSQL', { skip: await skipReason('postgres') }, () => {
  let base: TestStore;
  let second: Store;
  let apps: TestApp[];
  let tenant: Tenant;
  let receiver: Receiver;

  before(async () => {
    base = await createTestStore('postgres');
    if (base.url.kind !== 'postgres') throw new Error('postgres store expected');
    second = openStore(base.url, { poolSize: 10 });
    const env = { ...FAST_WEBHOOKS, WEBHOOK_WORKERS: '4', WEBHOOK_POLL_MS: '10' };
    apps = [await buildTestApp(base.store, env), await buildTestApp(second, env)];
    await Promise.all(apps.map((a) => a.app.ready()));
    tenant = await createTenant(base.store);
    receiver = await startReceiver();
  });
  after(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await receiver.close();
    await second.close();
    await base.destroy();
  });

  test("deliver each event once between them, every try of an event with its one webhook-id", async () => {
    const r = await apps[0]!.app.inject({ method: 'POST', url: `${tenant.base}/webhooks`, headers: tenant.headers, payload: { url: receiver.url } });
    const { secret } = r.json();
    receiver.verifyWith(secret);
    const firstTry = new Set<string>();
    // A first try of every third event fails, so retries are shared out too.
    receiver.answerWith((rec) => {
      const n = rec.event?.data?.n as number;
      if (n % 3 === 0 && !firstTry.has(rec.id)) {
        firstTry.add(rec.id);
        return { status: 500 };
      }
      return { status: 204 };
    });
    const count = 120;
    for (let i = 0; i < count; i += 10) {
      await publish(base.store, tenant, Array.from({ length: 10 }, (_, j) => contactEvent(`c-${(i + j) % 7}`, i + j)));
    }
    await receiver.until((all) => new Set(all.filter((x) => x.status === 204).map((x) => x.id)).size === count, 60_000);
    // Settle: any duplicate would arrive now.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const delivered = receiver.received.filter((x) => x.status === 204);
    assert.equal(delivered.length, count, 'each event delivered once');
    assert.ok(receiver.received.every((x) => x.verified));
    const byN = new Map<number, Set<string>>();
    for (const x of receiver.received) {
      const n = x.event!.data.n as number;
      byN.set(n, (byN.get(n) ?? new Set()).add(x.id));
    }
    assert.equal(byN.size, count);
    assert.ok([...byN.values()].every((ids) => ids.size === 1), 'one webhook-id for all tries of an event');
    assert.equal(receiver.received.length, count + count / 3);
    // Both instances took part: each logged tries (the log does not say which; the claim tokens differ per batch).
    const attempts = await base.store.db.selectFrom('webhook_attempts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    assert.equal(Number(attempts!.n), count + count / 3);
  });
});
