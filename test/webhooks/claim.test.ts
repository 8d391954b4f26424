import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createDeliveryRepository } from '../../src/webhooks/delivery.repository.js';
import { createWebhookEndpointRepository, storedEvents } from '../../src/webhooks/webhook-endpoint.repository.js';
import { createTenant, type Tenant } from '../helpers/app.js';
import { createTestStore, DIALECTS, skipReason, type TestStore } from '../helpers/stores.js';
import { contactEvent, publish } from './outbox-helpers.js';

for (const dialect of DIALECTS) {
  describe(`leasing webhook deliveries (${dialect})`, { skip: await skipReason(dialect) }, () => {
    let store: TestStore;
    let tenant: Tenant;
    before(async () => {
      store = await createTestStore(dialect);
      tenant = await createTenant(store.store);
      const t = Date.now();
      await createWebhookEndpointRepository(store.store.db).insert({
        id: 'a'.repeat(24), stream_id: tenant.streamId, account_id: tenant.accountId, url: 'http://127.0.0.1:9/hook', events: storedEvents(undefined), description: '',
        secret: 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0', previous_secret: null, previous_secret_until: null, disabled: 0, disabled_reason: null,
        created_at: t, updated_at: t,
      });
    });
    after(() => store?.destroy());

    test('a claim leases no more deliveries than it asks for (a worker with room for two holds two), and the next takes others', async () => {
      // Ten subjects, three events each: the first event of each subject is due (the next wait for it).
      await publish(store.store, tenant, Array.from({ length: 30 }, (_, n) => contactEvent(`c-${n % 10}`, n)));
      const deliveries = createDeliveryRepository(store.store.db, store.store.dialect);
      const now = Date.now();
      const claims = [];
      for (const [token, limit] of [['one', 2], ['two', 3], ['three', 100], ['four', 100]] as const) claims.push(await deliveries.claim(token, now, 60_000, limit));
      const n = (body: string) => (JSON.parse(body) as { data: { n: number } }).data.n;
      // In order of the events (RETURNING promises no order of its own).
      assert.deepEqual(claims.map((c) => c.map((d) => n(d.body)).sort((a, b) => a - b)), [[0, 1], [2, 3, 4], [5, 6, 7, 8, 9], []]);
    });
  });
}
