import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { signAppToken } from '../../src/auth/token.js';
import { openStore, type Store } from '../../src/db/database.js';
import { buildTestApp, createTenant, type Tenant, type TestApp } from '../helpers/app.js';
import { createTestStore, DIALECTS, skipReason, type TestStore } from '../helpers/stores.js';

for (const dialect of DIALECTS) {
  describe(`apps kept in memory, on two instances over one ${dialect} store`, { skip: await skipReason(dialect) }, () => {
    let store: TestStore;
    // The second instance has a store handle of its own, as another process would.
    let second: Store;
    let instances: TestApp[];
    let tenant: Tenant;

    before(async () => {
      store = await createTestStore(dialect);
      second = openStore(store.url);
      instances = [await buildTestApp(store.store), await buildTestApp(second)];
      tenant = await createTenant(store.store);
    });
    after(async () => {
      for (const i of instances ?? []) await i.close();
      await second?.close();
      await store?.destroy();
    });

    /** The status of GET /contacts on each instance, sent with this token (the tenant's by default). */
    const statuses = async (token = tenant.token) => {
      const out: number[] = [];
      for (const { app } of instances) {
        const res = await app.inject({ method: 'GET', url: `${tenant.base}/contacts`, headers: { auth: token, accountId: tenant.accountId } });
        out.push(res.statusCode);
      }
      return out;
    };
    // Changes made behind the service's back, with SQL on the store, as the console or an operator would.
    const change = (query: ReturnType<typeof sql>) => query.execute(store.store.db);

    it('serves from memory while nothing changes', async () => {
      assert.deepEqual(await statuses(), [200, 200]);
      assert.deepEqual(await statuses(), [200, 200]);
    });

    it('refuses the old secret and accepts the new one on the next request, on every instance, once the secret is rotated', async () => {
      assert.deepEqual(await statuses(), [200, 200]);
      await change(sql`update apps set client_secret = ${'rotated-secret-0123456789abcdef0123456789'} where id = ${tenant.appId}`);
      assert.deepEqual(await statuses(), [401, 401]);
      const fresh = await signAppToken({ clientId: tenant.clientId, key: 'rotated-secret-0123456789abcdef0123456789' });
      assert.deepEqual(await statuses(fresh), [200, 200]);
      await change(sql`update apps set client_secret = ${tenant.clientSecret} where id = ${tenant.appId}`);
      assert.deepEqual(await statuses(fresh), [401, 401]);
      assert.deepEqual(await statuses(), [200, 200]);
    });

    it('answers 403 on the next request, on every instance, once the app loses its scope, and 200 once it has it back', async () => {
      assert.deepEqual(await statuses(), [200, 200]);
      await change(sql`update apps set scopes = ${'[]'} where id = ${tenant.appId}`);
      assert.deepEqual(await statuses(), [403, 403]);
      await change(sql`update apps set scopes = ${'["Configuration"]'} where id = ${tenant.appId}`);
      assert.deepEqual(await statuses(), [200, 200]);
    });

    it('answers 404 on the next request, on every instance, once the app may no longer reach the stream', async () => {
      assert.deepEqual(await statuses(), [200, 200]);
      await change(sql`delete from app_streams where app_id = ${tenant.appId}`);
      assert.deepEqual(await statuses(), [404, 404]);
      await change(sql`insert into app_streams (app_id, stream_id) values (${tenant.appId}, ${tenant.streamId})`);
      assert.deepEqual(await statuses(), [200, 200]);
    });

    it('answers 401 on the next request, on every instance, once the app is removed', async () => {
      assert.deepEqual(await statuses(), [200, 200]);
      await change(sql`delete from app_streams where app_id = ${tenant.appId}`);
      await change(sql`delete from apps where id = ${tenant.appId}`);
      assert.deepEqual(await statuses(), [401, 401]);
    });
  });
}
