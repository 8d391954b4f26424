import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Migrator, sql, type Kysely, type Migration } from 'kysely';
import * as m0001 from '../../src/db/migrations/0001_initial.js';
import * as m0002 from '../../src/db/migrations/0002_contact_search.js';
import * as m0003 from '../../src/db/migrations/0003_idempotency.js';
import * as m0004 from '../../src/db/migrations/0004_import_jobs.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { openStore, type Store } from '../../src/db/database.js';
import { newObjectId } from '../../src/shared/ids.js';
import { createTenant, uniquePhone, type Tenant } from '../helpers/app.js';
import { BOUNDARY, csvOf, multipart, phoneBlock, row } from '../helpers/imports.js';
import { createEmptyStoreUrl, DIALECTS, skipReason } from '../helpers/stores.js';
import { contactsFixture, MISSING_ID } from './contacts-fixture.js';

/** What `count(*)` says, per status, for the tenant's stream. */
async function counted(store: Store, tenant: Tenant): Promise<{ ACTIVE: number; INACTIVE: number }> {
  const rows = await store.db
    .selectFrom('contacts')
    .select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('stream_id', '=', tenant.streamId)
    .groupBy('status')
    .execute();
  const of = (status: string) => Number(rows.find((r) => r.status === status)?.n ?? 0);
  return { ACTIVE: of('ACTIVE'), INACTIVE: of('INACTIVE') };
}

for (const dialect of DIALECTS) {
  describe(`totalResults from the stream's counts on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    const fx = contactsFixture(dialect, { MAX_CONTACTS_PER_REQUEST: '100' });

    /** Asserts that the list's totals for each status equal count(*), and that count(*) is what the test expects. */
    async function assertExact(tenant: Tenant, expected?: { ACTIVE: number; INACTIVE: number }) {
      const truth = await counted(fx.store.store, tenant);
      if (expected) assert.deepEqual(truth, expected);
      for (const status of ['ACTIVE', 'INACTIVE', 'all'] as const) {
        const page = await fx.list(`status=${status}&limit=1`, tenant);
        const want = status === 'all' ? truth.ACTIVE + truth.INACTIVE : truth[status];
        assert.equal(page.totalResults, want, `status=${status}`);
        assert.equal(page.totalPages, want);
        assert.equal(page.totalResultsExact, undefined);
      }
    }

    const upload = (tenant: Tenant, csv: string, query = '') =>
      fx.api.app.inject({
        method: 'POST',
        url: `${tenant.base}/contacts/import-contacts${query ? `?${query}` : ''}`,
        headers: { ...tenant.headers, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
        payload: multipart(csv),
      });

    it('stay exact through creates, deletes, restores, bulk deletes, bulk updates and imports', async () => {
      const tenant = await fx.freshTenant();
      await assertExact(tenant, { ACTIVE: 0, INACTIVE: 0 });
      const made = await fx.create([{}, {}, {}, {}, {}, {}], tenant);
      await assertExact(tenant, { ACTIVE: 6, INACTIVE: 0 });
      // A refused create (a taken number) changes nothing.
      assert.equal((await fx.call('POST', '', [{ ...contactOf(made[0]!) }], tenant)).statusCode, 409);
      await assertExact(tenant, { ACTIVE: 6, INACTIVE: 0 });

      assert.equal((await fx.call('DELETE', `/${made[0]!.id}`, undefined, tenant)).statusCode, 200);
      // Deleting again is idempotent and must not count twice.
      assert.equal((await fx.call('DELETE', `/${made[0]!.id}`, undefined, tenant)).statusCode, 200);
      await assertExact(tenant, { ACTIVE: 5, INACTIVE: 1 });
      assert.equal((await fx.call('POST', `/${made[0]!.id}/restore`, undefined, tenant)).statusCode, 200);
      assert.equal((await fx.call('POST', `/${made[0]!.id}/restore`, undefined, tenant)).statusCode, 200);
      await assertExact(tenant, { ACTIVE: 6, INACTIVE: 0 });

      // Bulk delete: two deleted, one already INACTIVE, one unknown.
      await fx.call('DELETE', `/${made[1]!.id}`, undefined, tenant);
      const bulk = await fx.call('DELETE', '/bulk-delete', { ids: [made[1]!.id, made[2]!.id, made[3]!.id, MISSING_ID] }, tenant);
      assert.equal(bulk.statusCode, 200, bulk.body);
      await assertExact(tenant, { ACTIVE: 3, INACTIVE: 3 });
      // A restore refused because the number was taken meanwhile changes nothing.
      assert.equal((await fx.call('POST', '', [contactOf(made[2]!)], tenant)).statusCode, 200);
      assert.equal((await fx.call('POST', `/${made[2]!.id}/restore`, undefined, tenant)).statusCode, 409);
      await assertExact(tenant, { ACTIVE: 4, INACTIVE: 3 });

      // Bulk update changes no status.
      const updated = await fx.call('PUT', '/bulk-update', [{ id: made[4]!.id, firstName: 'Renamed' }, { id: made[1]!.id, lastName: 'Gone' }], tenant);
      assert.equal(updated.statusCode, 200, updated.body);
      await assertExact(tenant, { ACTIVE: 4, INACTIVE: 3 });

      // An import: three new rows, one repeated in the file, one held by an ACTIVE contact.
      const phones = phoneBlock(3);
      const held = made[5]!.cellPhone.phoneNumber.slice(3);
      const imported = await upload(tenant, csvOf([row(phones[0]!), row(phones[1]!), row(phones[0]!), row(held), row(phones[2]!)]));
      assert.equal(imported.statusCode, 207, imported.body);
      await assertExact(tenant, { ACTIVE: 7, INACTIVE: 3 });
      // onDuplicate=update updates holders and creates nothing for them.
      const again = await upload(tenant, csvOf([row(phones[0]!, { first: 'again' }), row(phoneBlock(1)[0]!)]), 'onDuplicate=update');
      assert.ok(again.statusCode < 300, again.body);
      await assertExact(tenant, { ACTIVE: 8, INACTIVE: 3 });
      // A dry run writes nothing; an atomic import with a bad row writes nothing.
      await upload(tenant, csvOf([row(phoneBlock(1)[0]!)]), 'dryRun=true');
      await upload(tenant, csvOf([row(phoneBlock(1)[0]!), row('12')]), 'atomic=true');
      await assertExact(tenant, { ACTIVE: 8, INACTIVE: 3 });
    });

    it('stay exact through a concurrent mix of creates on shared numbers, deletes, restores, bulk changes and imports', async () => {
      const tenant = await fx.freshTenant();
      const made = await fx.create(Array.from({ length: 30 }, () => ({})), tenant);
      const shared = Array.from({ length: 5 }, () => uniquePhone());
      const work: Promise<unknown>[] = [];
      for (let i = 0; i < 20; i++) {
        work.push(fx.call('POST', '', [{ firstName: 'C', lastName: `N${i}`, salutation: 'Mx', cellPhone: { phoneNumber: shared[i % 5], countryCode: '+91', extension: '' } }], tenant));
      }
      for (let i = 0; i < 10; i++) work.push(fx.call('DELETE', `/${made[i]!.id}`, undefined, tenant));
      // Restores race the deletes of the same contacts.
      for (let i = 0; i < 5; i++) work.push(fx.call('POST', `/${made[i]!.id}/restore`, undefined, tenant));
      work.push(fx.call('DELETE', '/bulk-delete', { ids: made.slice(10, 20).map((c) => c.id) }, tenant));
      work.push(fx.call('PUT', '/bulk-update', made.slice(20, 25).map((c) => ({ id: c.id, firstName: 'Bulk' })), tenant));
      // Two imports, each of 150 rows, overlapping in 50 numbers and in some of the numbers created above.
      const block = phoneBlock(250);
      work.push(upload(tenant, csvOf(block.slice(0, 150).map((p) => row(p)))));
      work.push(upload(tenant, csvOf([...block.slice(100, 250), ...shared.slice(0, 2)].map((p) => row(p)))));
      const answers = (await Promise.all(work)) as { statusCode: number; body: string }[];
      for (const a of answers) assert.ok(a.statusCode < 500, `${a.statusCode} ${a.body}`);
      const truth = await counted(fx.store.store, tenant);
      // Every shared number and every imported number is held once: the uniqueness rule held too.
      assert.ok(truth.ACTIVE >= 30 - 20 + 250, JSON.stringify(truth));
      await assertExact(tenant);
      // The other tenant's stream counts none of it.
      await assertExact(fx.other);
    });
  });

  describe(`migration 0005_stream_counts on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    it('counts the contacts stored before it, per stream and status', async () => {
      const { url, drop } = await createEmptyStoreUrl(dialect);
      const store = openStore(url);
      try {
        const before: Record<string, Migration> = { '0001_initial': m0001, '0002_contact_search': m0002, '0003_idempotency': m0003, '0004_import_jobs': m0004 };
        const result = await new Migrator({ db: store.db, provider: { getMigrations: async () => before } }).migrateToLatest();
        assert.equal(result.error, undefined);
        const a = await createTenant(store);
        const b = await createTenant(store);
        const rows = (tenant: Tenant, active: number, inactive: number) =>
          Array.from({ length: active + inactive }, (_, i) => ({
            id: newObjectId(), stream_id: tenant.streamId, account_id: tenant.accountId, org_id: tenant.orgId,
            status: i < active ? 'ACTIVE' : 'INACTIVE', first_name: 'F', last_name: 'L', salutation: 'S',
            phone_number: `+91${uniquePhone()}`, country_code: '+91', extension: '', created_by: tenant.userId,
            created_by_aid: tenant.appId, created_at: 1, updated_at: 1,
          }));
        await (store.db as unknown as Kysely<any>).insertInto('contacts').values([...rows(a, 7, 2), ...rows(b, 3, 0)]).execute();
        await migrateToLatest(store.db);
        for (const [tenant, want] of [[a, { ACTIVE: 7, INACTIVE: 2 }], [b, { ACTIVE: 3, INACTIVE: 0 }]] as const) {
          const sums = await store.db
            .selectFrom('stream_counts')
            .select((eb) => [eb.fn.sum<number | string>('active').as('a'), eb.fn.sum<number | string>('inactive').as('i')])
            .where('stream_id', '=', tenant.streamId)
            .executeTakeFirstOrThrow();
          assert.deepEqual({ ACTIVE: Number(sums.a), INACTIVE: Number(sums.i) }, want);
        }
        // And it left planner statistics for what it filled (PostgreSQL; SQLite keeps none, see the migration).
        if (dialect === 'postgres') {
          const { rows: stats } = await sql<{ n: number }>`select count(*)::int as n from pg_stats where tablename = 'stream_counts'`.execute(store.db);
          assert.ok(stats[0]!.n > 0);
        }
      } finally {
        await store.close();
        await drop();
      }
    });
  });
}

/** A contact's fields as input again: same number, so the create is refused while it is held. */
function contactOf(c: { firstName: string; lastName: string; salutation: string; cellPhone: { phoneNumber: string; countryCode: string; extension: string } }) {
  return { firstName: c.firstName, lastName: c.lastName, salutation: c.salutation, cellPhone: c.cellPhone };
}
