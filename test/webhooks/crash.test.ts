import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { contactInput, createTenant, type Tenant } from '../helpers/app.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { createTestStore, DIALECTS, skipReason, type TestStore } from '../helpers/stores.js';
import { startReceiver, type Receiver } from './receiver.js';

for (const dialect of DIALECTS) {
  describe(`webhooks across kill -9 (${dialect})`, { skip: await skipReason(dialect) }, () => {
    let store: TestStore;
    let tenant: Tenant;
    let receiver: Receiver;
    let server: ServerProcess | undefined;
    let env: Record<string, string>;

    before(async () => {
      store = await createTestStore(dialect);
      tenant = await createTenant(store.store);
      receiver = await startReceiver();
      env = {
        DATABASE_URL: store.url.kind === 'sqlite' ? `sqlite:${store.url.file}` : store.url.url,
        RATE_LIMIT_PER_MINUTE: '0',
        WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true',
        WEBHOOK_POLL_MS: '50',
        WEBHOOK_TIMEOUT_MS: '1000',
        WEBHOOK_RETRY_SCHEDULE: '100ms,100ms,100ms',
      };
    });
    after(async () => {
      await server?.kill();
      await receiver.close();
      await store.destroy();
    });

    test('a change committed, its delivery under way when the process is killed, is delivered after restart with the same webhook-id', async () => {
      server = await startServerProcess(env);
      const api = (method: string, path: string, body?: unknown) =>
        fetch(`${server!.url}${tenant.base}${path}`, { method, headers: { ...tenant.headers, 'content-type': 'application/json' }, ...(body !== undefined && { body: JSON.stringify(body) }) });
      const ep = (await (await api('POST', '/webhooks', { url: receiver.url, events: ['contact.created'] })).json()) as { secret: string };
      receiver.verifyWith(ep.secret);
      // The first try is never answered: the process dies while it waits.
      receiver.answerWith((_r, n) => (n === 0 ? { status: 200, hang: true } : { status: 204 }));
      const created = await api('POST', '/contacts', [contactInput({ firstName: 'Crash' })]);
      assert.equal(created.status, 200);
      const [contact] = (await created.json()) as { id: string }[];
      await receiver.until((all) => all.length === 1);
      await server.kill();
      assert.equal(server.alive(), false);

      server = await startServerProcess(env);
      // The dead process's lease runs out (timeout + 5 s), then the new one tries again.
      await receiver.until((all) => all.some((r) => r.status === 204), 30_000);
      const tries = receiver.received;
      assert.equal(new Set(tries.map((t) => t.id)).size, 1, 'the same webhook-id before and after the crash');
      assert.ok(tries.every((t) => t.verified));
      assert.equal(tries[1]!.event!.type, 'contact.created');
      assert.equal(tries[1]!.event!.data.contact.id, contact!.id);
    });
  });
}
