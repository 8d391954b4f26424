import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import * as m0013 from '../../src/db/migrations/0013_lazy_import_history.js';
import { useApiFixture } from '../helpers/app.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';

for (const dialect of DIALECTS) {
  describe(`migration 0013_lazy_import_history on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    const f = useApiFixture(dialect, { WEBHOOK_WORKERS: '0' });

    test('leaves a contact imported before it with the one creation entry that import wrote, also after a change', async () => {
      const db = f.store.store.db as unknown as Kysely<any>;
      const { tenant } = f;
      await m0013.down(db);
      // As an import wrote them before 0013: the contact, and its `imported` entry beside it.
      const id = 'aaaaaaaaaaaaaaaaaaaa0013';
      const importId = 'bbbbbbbbbbbbbbbbbbbb0013';
      await db.insertInto('contacts').values({
        id, stream_id: tenant.streamId, account_id: tenant.accountId, org_id: tenant.orgId, status: 'ACTIVE', first_name: 'Before',
        last_name: 'Migration', salutation: 'Mx', phone_number: '+919100001300', country_code: '+91', extension: '', created_by: tenant.userId,
        created_by_aid: tenant.appId, import_id: importId, created_at: 1_700_000_000_000, updated_at: 1_700_000_000_000,
        last_name_key: 'migration', full_name_key: 'before migration',
      }).execute();
      await db.insertInto('contact_history').values({
        stream_id: tenant.streamId, account_id: tenant.accountId, contact_id: id, at: 1_700_000_000_000, action: 'imported',
        user_id: tenant.userId, app_id: tenant.appId, import_id: importId, changes: JSON.stringify({ status: { from: null, to: 'ACTIVE' } }),
      }).execute();
      await m0013.up(db);

      const history = async () => {
        const r = await f.api.app.inject({ method: 'GET', url: `${tenant.base}/contacts/${id}/history`, headers: tenant.headers });
        assert.equal(r.statusCode, 200, r.body);
        return r.json().results as { action: string; importId?: string }[];
      };
      assert.deepEqual((await history()).map((e) => [e.action, e.importId]), [['imported', importId]]);
      const put = await f.api.app.inject({ method: 'PUT', url: `${tenant.base}/contacts/${id}`, headers: tenant.headers, payload: { firstName: 'After' } });
      assert.equal(put.statusCode, 200, put.body);
      assert.deepEqual((await history()).map((e) => [e.action, e.importId]), [['updated', undefined], ['imported', importId]]);
    });
  });
}
