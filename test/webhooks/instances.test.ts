import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTenant, type Tenant } from '../helpers/app.js';
import { eventually } from '../helpers/imports.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { createTestStore, skipReason, type TestStore } from '../helpers/stores.js';
import { contactEvent, publish } from './outbox-helpers.js';
import { startReceiver, type Received, type Receiver } from './receiver.js';

interface LogEntry {
  attempt: number;
  status: number | null;
  instance: string | null;
}
interface DeliveryJson {
  id: string;
  state: string;
  attempts: number;
  log: LogEntry[];
}

/** Tries each instance has in flight at most (WEBHOOK_WORKERS). */
const WORKERS = 2;
const INSTANCES = ['instance-a', 'instance-b'];

describe('two instances on one PostgreSQL', { skip: await skipReason('postgres') }, () => {
  let store: TestStore;
  let tenant: Tenant;
  let receiver: Receiver;
  let servers: ServerProcess[] = [];

  before(async () => {
    store = await createTestStore('postgres');
    if (store.url.kind !== 'postgres') throw new Error('postgres store expected');
    tenant = await createTenant(store.store);
    receiver = await startReceiver();
    const env = {
      DATABASE_URL: store.url.url,
      RATE_LIMIT_PER_MINUTE: '0',
      WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
      WEBHOOK_WORKERS: String(WORKERS),
      WEBHOOK_POLL_MS: '10',
      WEBHOOK_RETRY_SCHEDULE: '50ms,100ms,150ms',
      // Far longer than the receiver holds a request: no try times out, so none is repeated but those answered 500.
      WEBHOOK_TIMEOUT_MS: '20000',
    };
    // Two processes, as two instances behind a load balancer are.
    servers = await Promise.all(INSTANCES.map((id) => startServerProcess({ ...env, INSTANCE_ID: id })));
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await receiver?.close();
    await store?.destroy();
  });

  const api = async (path: string, body?: unknown) => {
    const res = await fetch(`${servers[0]!.url}${tenant.base}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { ...tenant.headers, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };

  async function allDeliveries(endpointId: string): Promise<DeliveryJson[]> {
    const all: DeliveryJson[] = [];
    for (let cursor: string | null = null; ; ) {
      const page = (await api(`/webhooks/${endpointId}/deliveries?limit=100${cursor ? `&cursor=${cursor}` : ''}`)) as {
        results: DeliveryJson[];
        hasMore: boolean;
        nextCursor: string | null;
      };
      all.push(...page.results);
      if (!page.hasMore) return all;
      cursor = page.nextCursor;
    }
  }

  test('both deliver, each event once between them, every try of an event with its one webhook-id', async (t) => {
    const endpoint = (await api('/webhooks', { url: receiver.url })) as { id: string; secret: string };
    receiver.verifyWith(endpoint.secret);

    // The first requests are held, unanswered, until more are in flight at once than one instance may have: the
    // barrier opens only once both instances are sending, whatever the timing. Then every third event's first try
    // fails, so that retries are shared out too.
    const barrier = WORKERS + 1;
    const held: Received[] = [];
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    const failedOnce = new Set<string>();
    receiver.answerWith((r) => {
      if (held.length < barrier) {
        held.push(r);
        if (held.length === barrier) open();
        return { status: 204, hold: opened };
      }
      if ((r.event?.data?.n as number) % 3 === 0 && !failedOnce.has(r.id)) {
        failedOnce.add(r.id);
        return { status: 500 };
      }
      return { status: 204 };
    });

    const count = 120;
    for (let i = 0; i < count; i += 10) {
      // Seven subjects: enough events of different contacts are due at once to fill both instances' workers.
      await publish(store.store, tenant, Array.from({ length: 10 }, (_, j) => contactEvent(`c-${(i + j) % 7}`, i + j)));
    }
    await receiver.until(() => held.length === barrier, 15_000).catch((error: Error) => {
      throw new Error(`never ${barrier} tries in flight at once, so never both instances sending: ${error.message}`);
    });
    await receiver.until((all) => new Set(all.filter((x) => x.status === 204).map((x) => x.id)).size === count, 60_000);
    // Every delivery delivered in the store: no try is under way or due, so the receiver has had every request.
    const deliveries = await eventually('every delivery delivered', async () => {
      const all = await allDeliveries(endpoint.id);
      return all.length === count && all.every((d) => d.state === 'delivered') && all;
    });

    assert.ok(receiver.received.every((x) => x.verified), 'every request verifies with standardwebhooks');
    // One webhook-id per event, on every try, and a different one for each event.
    const idsOf = new Map<number, Set<string>>();
    for (const x of receiver.received) {
      const n = x.event!.data.n as number;
      idsOf.set(n, (idsOf.get(n) ?? new Set()).add(x.id));
    }
    assert.equal(idsOf.size, count);
    assert.ok([...idsOf.values()].every((ids) => ids.size === 1), 'one webhook-id for all tries of an event');
    assert.equal(new Set(receiver.received.map((x) => x.id)).size, count);
    // Each event delivered once; tried again only when its first try was answered 500.
    assert.equal(receiver.received.filter((x) => x.status === 204).length, count, 'each event delivered once');
    assert.ok(failedOnce.size > 0);
    for (const [, ids] of idsOf) {
      const [id] = [...ids];
      const tries = receiver.received.filter((x) => x.id === id).map((x) => x.status);
      assert.deepEqual(tries, failedOnce.has(id!) ? [500, 204] : [204], `the tries of ${id}`);
    }
    assert.equal(receiver.received.length, count + failedOnce.size);

    // The log says which instance made each try, and matches what the receiver got.
    const byId = new Map(deliveries.map((d) => [d.id, d]));
    for (const d of deliveries) {
      assert.deepEqual(d.log.map((a) => a.status), failedOnce.has(d.id) ? [500, 204] : [204], `the log of ${d.id}`);
      assert.equal(d.attempts, d.log.length);
      for (const a of d.log) assert.ok(INSTANCES.includes(a.instance!), `try ${a.attempt} of ${d.id} by ${a.instance}`);
    }
    const deliveredBy = (id: string) => byId.get(id)!.log.find((a) => a.status === 204)!.instance;
    assert.deepEqual(new Set(held.map((r) => deliveredBy(r.id))), new Set(INSTANCES), 'the held requests came from both instances');
    const perInstance = INSTANCES.map((i) => deliveries.filter((d) => deliveredBy(d.id) === i).length);
    t.diagnostic(`events delivered by ${INSTANCES.map((i, k) => `${i}: ${perInstance[k]}`).join(', ')}; ${failedOnce.size} retried`);
    assert.ok(perInstance.every((n) => n >= 1), `events delivered by each instance: ${perInstance.join(', ')}`);
  });
});
