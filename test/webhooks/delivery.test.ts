import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { useApiFixture } from '../helpers/app.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';
import { contactEvent, publish, sleep } from './outbox-helpers.js';
import { FAST_WEBHOOKS, startReceiver, type Receiver } from './receiver.js';

for (const dialect of DIALECTS) {
  describe(`webhook delivery (${dialect})`, { skip: await skipReason(dialect) }, () => {
    const f = useApiFixture(dialect, { ...FAST_WEBHOOKS, WEBHOOK_RETRY_SCHEDULE: '50ms,100ms,150ms' });
    let receiver: Receiver;
    before(async () => {
      receiver = await startReceiver();
    });
    after(async () => receiver.close());

    const call = (method: string, url: string, payload?: unknown) =>
      f.api.app.inject({ method: method as 'GET', url: `${f.tenant.base}${url}`, headers: f.tenant.headers, ...(payload !== undefined && { payload: payload as object }) });
    /** An endpoint at the receiver under a path of its own, so tests tell their requests apart. */
    async function endpoint(name: string, body: Record<string, unknown> = {}) {
      const r = await call('POST', '/webhooks', { url: `${receiver.url}/${name}`, ...body });
      assert.equal(r.statusCode, 201, r.body);
      return r.json() as { id: string; secret: string };
    }
    const mine = (subject: string) => receiver.received.filter((r) => r.event?.data?.contact?.id === subject);

    test('a failed try is retried with the same webhook-id until it is delivered, each try signed and logged', async () => {
      const ep = await endpoint('retry');
      receiver.verifyWith(ep.secret);
      const subject = 'retry-subject';
      let failures = 2;
      receiver.answerWith((r) => (r.event?.data?.contact?.id === subject && failures-- > 0 ? { status: 500 } : { status: 204 }));
      await publish(f.store.store, f.tenant, [contactEvent(subject, 1)]);
      await receiver.until(() => mine(subject).some((r) => r.status === 204));
      const tries = mine(subject);
      assert.equal(tries.length, 3);
      assert.ok(tries.every((t) => t.verified), 'every try verifies with standardwebhooks');
      assert.equal(new Set(tries.map((t) => t.id)).size, 1, 'one webhook-id on every try');
      assert.match(tries[0]!.id, /^msg_[0-9a-f]{24}$/);
      assert.equal(tries[0]!.event!.type, 'contact.updated');
      assert.ok(!Number.isNaN(Date.parse(tries[0]!.event!.timestamp)));
      // The log is written once each try is recorded.
      let delivery: any;
      for (let i = 0; i < 100; i++) {
        delivery = (await call('GET', `/webhooks/${ep.id}/deliveries`)).json().results[0];
        if (delivery?.state === 'delivered') break;
        await sleep(20);
      }
      assert.equal(delivery.id, tries[0]!.id);
      assert.equal(delivery.state, 'delivered');
      assert.equal(delivery.attempts, 3);
      assert.deepEqual(delivery.log.map((a: any) => a.status), [500, 500, 204]);
      assert.ok(delivery.log.every((a: any) => Number.isInteger(a.latencyMs) && a.latencyMs >= 0));
      await call('DELETE', `/webhooks/${ep.id}`);
    });

    test('the events of one subject arrive in order, though tries fail on the way', async () => {
      const ep = await endpoint('order');
      receiver.verifyWith(ep.secret);
      const seen = new Set<string>();
      // Every event fails its first try: without ordering, a later event would overtake the retried one.
      receiver.answerWith((r) => {
        if (!r.event?.data?.contact?.id?.startsWith('order-')) return { status: 204 };
        if (seen.has(r.id)) return { status: 204 };
        seen.add(r.id);
        return { status: 503 };
      });
      const events = [];
      for (let n = 1; n <= 6; n++) for (const s of ['order-a', 'order-b']) events.push(contactEvent(s, n));
      await publish(f.store.store, f.tenant, events.slice(0, 6));
      await publish(f.store.store, f.tenant, events.slice(6));
      await receiver.until(() => ['order-a', 'order-b'].every((s) => mine(s).filter((r) => r.status === 204).length === 6));
      for (const s of ['order-a', 'order-b']) {
        const ns = mine(s).map((r) => r.event!.data.n);
        assert.deepEqual(ns, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6], `${s} in order, each retried once before the next`);
      }
      await call('DELETE', `/webhooks/${ep.id}`);
    });

    test('a receiver down for a while, then up, gets everything', async () => {
      const ep = await endpoint('down', {});
      receiver.verifyWith(ep.secret);
      let down = true;
      receiver.answerWith((r) => (r.event?.data?.contact?.id?.startsWith('down-') && down ? { status: 502 } : { status: 200 }));
      await publish(f.store.store, f.tenant, [1, 2, 3, 4, 5].map((n) => contactEvent(`down-${n}`, n)));
      await receiver.until((all) => all.filter((r) => r.event?.data?.contact?.id?.startsWith('down-')).length >= 5);
      down = false;
      await receiver.until(() => [1, 2, 3, 4, 5].every((n) => mine(`down-${n}`).some((r) => r.status === 200)));
      await call('DELETE', `/webhooks/${ep.id}`);
    });

    test('tries used up fail the delivery; a replay sends it again with the same webhook-id', async () => {
      const ep = await endpoint('exhaust');
      receiver.verifyWith(ep.secret);
      let fail = true;
      receiver.answerWith((r) => (r.event?.data?.contact?.id === 'exhaust' && fail ? { status: 500 } : { status: 204 }));
      await publish(f.store.store, f.tenant, [contactEvent('exhaust', 1)]);
      // The first try and three retries (the schedule has three waits).
      await receiver.until(() => mine('exhaust').length === 4);
      let failed: any;
      for (let i = 0; i < 100 && failed?.state !== 'failed'; i++) {
        failed = (await call('GET', `/webhooks/${ep.id}/deliveries?state=failed`)).json().results[0];
        await sleep(20);
      }
      assert.equal(failed.state, 'failed');
      assert.equal(failed.attempts, 4);
      await sleep(300);
      assert.equal(mine('exhaust').length, 4, 'no try after the schedule is used up');
      fail = false;
      const replayed = await call('POST', `/webhooks/${ep.id}/deliveries/${failed.id}/replay`);
      assert.equal(replayed.statusCode, 200, replayed.body);
      await receiver.until(() => mine('exhaust').some((r) => r.status === 204));
      assert.equal(new Set(mine('exhaust').map((r) => r.id)).size, 1);

      // Every failed one at once.
      fail = true;
      await publish(f.store.store, f.tenant, [contactEvent('exhaust', 2), contactEvent('exhaust', 3)]);
      await receiver.until(() => mine('exhaust').length === 5 + 8);
      for (let i = 0; i < 100; i++) {
        if ((await call('GET', `/webhooks/${ep.id}/deliveries?state=failed`)).json().results.length === 2) break;
        await sleep(20);
      }
      fail = false;
      const all = await call('POST', `/webhooks/${ep.id}/deliveries/replay`);
      assert.deepEqual(all.json(), { replayed: 2 });
      await receiver.until(() => mine('exhaust').filter((r) => r.status === 204).length === 3);
      assert.equal((await call('GET', `/webhooks/${ep.id}/deliveries/nope/replay`)).statusCode, 404);
      assert.equal((await call('POST', `/webhooks/${ep.id}/deliveries/msg_000000000000000000000000/replay`)).json().errors[0].code, 'DELIVERY_NOT_FOUND');
      await call('DELETE', `/webhooks/${ep.id}`);
    });

    test('410 Gone disables the endpoint: nothing more is sent to it', async () => {
      const ep = await endpoint('gone');
      receiver.verifyWith(ep.secret);
      receiver.answerWith((r) => (r.event?.data?.contact?.id === 'gone' ? { status: 410 } : { status: 204 }));
      await publish(f.store.store, f.tenant, [contactEvent('gone', 1)]);
      await receiver.until(() => mine('gone').length === 1);
      let got: any;
      for (let i = 0; i < 100 && !got?.disabled; i++) {
        got = (await call('GET', `/webhooks/${ep.id}`)).json();
        await sleep(20);
      }
      assert.equal(got.disabled, true);
      assert.match(got.disabledReason, /410/);
      await publish(f.store.store, f.tenant, [contactEvent('gone', 2)]);
      await sleep(300);
      assert.equal(mine('gone').length, 1, 'the one try that answered 410, and no retry or later event');
      const [d] = (await call('GET', `/webhooks/${ep.id}/deliveries`)).json().results;
      assert.equal(d.state, 'failed');
      assert.equal(d.lastStatus, 410);
      await call('DELETE', `/webhooks/${ep.id}`);
    });

    test('Retry-After is honoured: the next try waits at least as long as the receiver asks', async () => {
      const ep = await endpoint('later');
      receiver.verifyWith(ep.secret);
      const at: number[] = [];
      receiver.answerWith((r) => {
        if (r.event?.data?.contact?.id !== 'later') return { status: 204 };
        at.push(Date.now());
        return at.length === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 204 };
      });
      await publish(f.store.store, f.tenant, [contactEvent('later', 1)]);
      await receiver.until(() => mine('later').length === 2);
      // The schedule alone would retry after 40–60 ms.
      assert.ok(at[1]! - at[0]! >= 950, `retried after ${at[1]! - at[0]!} ms`);
      await call('DELETE', `/webhooks/${ep.id}`);
    });

    test('after a rotation both secrets verify during the grace period, then only the new one', async () => {
      const ep = await endpoint('rotate');
      const rotated = (await call('POST', `/webhooks/${ep.id}/rotate-secret`)).json();
      receiver.answerWith(() => ({ status: 204 }));
      for (const secret of [ep.secret, rotated.secret]) {
        receiver.verifyWith(secret);
        const subject = `rotate-${secret.slice(6, 12)}`;
        await publish(f.store.store, f.tenant, [contactEvent(subject, 1)]);
        await receiver.until((all) => all.some((r) => r.body.includes(subject)));
        assert.ok(receiver.received.find((r) => r.body.includes(subject))!.verified, 'verifies with this secret alone');
        assert.equal(receiver.received.find((r) => r.body.includes(subject))!.signature.split(' ').length, 2);
      }
      // The grace period over: only the new secret signs.
      await f.store.store.db.updateTable('webhook_endpoints').set({ previous_secret_until: Date.now() - 1 }).where('id', '=', ep.id).execute();
      receiver.verifyWith(ep.secret);
      await publish(f.store.store, f.tenant, [contactEvent('rotate-after', 1)]);
      await receiver.until((all) => all.some((r) => r.body.includes('rotate-after')));
      const last = receiver.received.find((r) => r.body.includes('rotate-after'))!;
      assert.equal(last.verified, false, 'the old secret no longer verifies');
      assert.equal(last.signature.split(' ').length, 1);
      receiver.verifyWith(rotated.secret);
      await call('DELETE', `/webhooks/${ep.id}`);
    });

    test('an event written in a transaction that rolls back is never sent', async () => {
      const ep = await endpoint('rollback');
      receiver.verifyWith(ep.secret);
      receiver.answerWith(() => ({ status: 204 }));
      const { createOutbox } = await import('../../src/webhooks/outbox.js');
      await assert.rejects(
        f.store.store.db.transaction().execute(async (trx) => {
          await createOutbox(trx).publish(f.tenant, [contactEvent('rolled-back', 1)], Date.now());
          throw new Error('the change fails');
        }),
        /the change fails/,
      );
      await publish(f.store.store, f.tenant, [contactEvent('committed', 1)]);
      await receiver.until(() => mine('committed').length === 1);
      await sleep(200);
      assert.equal(mine('rolled-back').length, 0);
      assert.equal((await call('GET', `/webhooks/${ep.id}/deliveries`)).json().results.length, 1);
      await call('DELETE', `/webhooks/${ep.id}`);
    });

    test('the retention sweep removes ended deliveries, their log and their events, and keeps pending ones', async () => {
      const ep = await endpoint('sweep');
      receiver.verifyWith(ep.secret);
      receiver.answerWith((r) => (r.event?.data?.contact?.id === 'sweep-pending' ? { status: 500 } : { status: 204 }));
      await publish(f.store.store, f.tenant, [contactEvent('sweep-done', 1), contactEvent('sweep-pending', 1)]);
      await receiver.until(() => mine('sweep-done').length === 1 && mine('sweep-pending').length >= 1);
      await sleep(100);
      const { createDeliveryRepository } = await import('../../src/webhooks/delivery.repository.js');
      const swept = await createDeliveryRepository(f.store.store.db, f.store.store.dialect).sweep(Date.now() + 1);
      assert.ok(swept >= 1);
      const left = (await call('GET', `/webhooks/${ep.id}/deliveries`)).json().results;
      assert.deepEqual(left.map((d: any) => d.state), ['pending']);
      const doneId = mine('sweep-done')[0]!.id;
      assert.equal(await f.store.store.db.selectFrom('webhook_events').select('id').where('id', '=', doneId).executeTakeFirst(), undefined);
      assert.equal((await f.store.store.db.selectFrom('webhook_attempts').select('attempt').where('endpoint_id', '=', ep.id).execute()).length > 0, true, 'the pending one keeps its log');
      await call('DELETE', `/webhooks/${ep.id}`);
    });

    test('events go only to endpoints subscribed to their type', async () => {
      const ep = await endpoint('filtered', { events: ['contact.deleted'] });
      receiver.verifyWith(ep.secret);
      receiver.answerWith(() => ({ status: 204 }));
      await publish(f.store.store, f.tenant, [contactEvent('filter-1', 1), { type: 'contact.deleted', subject: 'filter-1', data: { contact: { id: 'filter-1' } } }]);
      await receiver.until((all) => all.some((r) => r.body.includes('filter-1')));
      await sleep(200);
      const got = receiver.received.filter((r) => r.body.includes('filter-1'));
      assert.deepEqual(got.map((r) => r.event?.type), ['contact.deleted']);
      await call('DELETE', `/webhooks/${ep.id}`);
    });
  });
}

describe('webhook delivery without WEBHOOK_ALLOW_PRIVATE_TARGETS', () => {
  const f = useApiFixture('sqlite', { WEBHOOK_POLL_MS: '20', WEBHOOK_RETRY_SCHEDULE: '50ms' });
  let receiver: Receiver;
  before(async () => {
    receiver = await startReceiver();
  });
  after(async () => receiver.close());

  test('refuses at delivery time an endpoint that reaches a loopback address: the try is logged, nothing is sent', async () => {
    // Saved as if it had passed the check when it was made (a name that resolved outward then).
    const id = '0123456789abcdef01234567';
    await f.store.store.db
      .insertInto('webhook_endpoints')
      .values({ id, stream_id: f.tenant.streamId, account_id: f.tenant.accountId, url: receiver.url, events: '*', description: '', secret: 'whsec_' + Buffer.alloc(32).toString('base64'), previous_secret: null, previous_secret_until: null, disabled: 0, disabled_reason: null, created_at: Date.now(), updated_at: Date.now() })
      .execute();
    await publish(f.store.store, f.tenant, [contactEvent('inward', 1)]);
    let delivery: any;
    for (let i = 0; i < 200 && delivery?.state !== 'failed'; i++) {
      delivery = (await f.api.app.inject({ method: 'GET', url: `${f.tenant.base}/webhooks/${id}/deliveries`, headers: f.tenant.headers })).json().results[0];
      await sleep(20);
    }
    assert.equal(delivery.state, 'failed');
    assert.equal(delivery.log.length, 2);
    assert.ok(delivery.log.every((a: any) => a.status === null && /private or loopback/.test(a.error)), JSON.stringify(delivery.log));
    assert.equal(receiver.received.length, 0);
  });
});
