import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import * as m0002 from '../../src/db/migrations/0002_contact_search.js';
import * as m0004 from '../../src/db/migrations/0004_import_jobs.js';
import { createTenant } from '../helpers/app.js';
import { createTestStore, DIALECTS, skipReason } from '../helpers/stores.js';

for (const dialect of DIALECTS) {
  describe(`migration 0002_contact_search on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    it('gives contacts that existed before it their name keys', async () => {
      const { store, destroy } = await createTestStore(dialect);
      try {
        const db = store.db as unknown as Kysely<any>;
        const tenant = await createTenant(store);
        // Back to the schema before 0002 (through 0004, which replaced the staging table 0002 extends), with contacts
        // written then.
        await m0004.down(db);
        await m0002.down(db);
        const rows = Array.from({ length: 2500 }, (_, i) => ({
          id: (0x10000000 + i).toString(16).padStart(24, '0'), stream_id: tenant.streamId, account_id: tenant.accountId, org_id: tenant.orgId,
          status: 'ACTIVE', first_name: i === 0 ? 'José' : `First${i}`, last_name: i === 0 ? 'ÁLVAREZ' : `Last${i}`, salutation: 'Mx',
          phone_number: `+91${9_100_000_000 + i}`, country_code: '+91', extension: '', created_by: tenant.userId, created_by_aid: tenant.appId,
          created_at: 1, updated_at: 1,
        }));
        for (let i = 0; i < rows.length; i += 500) await db.insertInto('contacts').values(rows.slice(i, i + 500)).execute();

        await m0002.up(db);

        const keyed = await db.selectFrom('contacts').select(['id', 'last_name_key', 'full_name_key']).orderBy('id').execute();
        assert.equal(keyed.length, 2500);
        assert.deepEqual(keyed[0], { id: rows[0]!.id, last_name_key: 'alvarez', full_name_key: 'jose alvarez' });
        assert.deepEqual(keyed[2499], { id: rows[2499]!.id, last_name_key: 'last2499', full_name_key: 'first2499 last2499' });
        assert.ok(keyed.every((r) => r.last_name_key !== '' && r.full_name_key !== ''));
        if (dialect === 'postgres') {
          // Code-point order, as SQLite's BINARY collation compares: what the prefix ranges and cursors assume.
          const columns = await db
            .selectFrom('information_schema.columns')
            .select(['column_name', 'collation_name'])
            .where('table_name', '=', 'contacts')
            .where('column_name', 'in', ['last_name_key', 'full_name_key'])
            .orderBy('column_name')
            .execute();
          assert.deepEqual(columns, [{ column_name: 'full_name_key', collation_name: 'C' }, { column_name: 'last_name_key', collation_name: 'C' }]);
        }
      } finally {
        await destroy();
      }
    });
  });
}
