import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { consoleAppId } from '../../src/users/console-app.js';
import { contactInput, createTenant, useApiFixture } from '../helpers/app.js';
import { csvOf, importsApi, injectSender, row } from '../helpers/imports.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';
import { createConsoleUser, signIn } from '../console/console-users.js';

interface Entry {
  at: string;
  action: string;
  userId: string;
  appId: string;
  importId?: string;
  changes: Record<string, { from: string | null; to: string | null }>;
}

for (const dialect of DIALECTS) {
  describe(`contact history (${dialect})`, { skip: await skipReason(dialect) }, () => {
    const f = useApiFixture(dialect, { WEBHOOK_WORKERS: '0', IMPORT_POLL_MS: '20' });
    const call = (method: string, url: string, payload?: unknown, headers: Record<string, string> = f.tenant.headers) =>
      f.api.app.inject({ method: method as 'GET', url: `${f.tenant.base}${url}`, headers, ...(payload !== undefined && { payload: payload as object }) });
    async function history(id: string, query = ''): Promise<Entry[]> {
      const r = await call('GET', `/contacts/${id}/history${query}`);
      assert.equal(r.statusCode, 200, r.body);
      return r.json().results;
    }
    async function create(overrides: Record<string, unknown> = {}) {
      const r = await call('POST', '/contacts', [contactInput(overrides)]);
      assert.equal(r.statusCode, 200, r.body);
      return r.json()[0] as { id: string; cellPhone: { phoneNumber: string } };
    }

    test('records a creation with every field, then only the fields an update changed, newest first', async () => {
      const c = await create({ firstName: 'Asha', lastName: 'Rao' });
      assert.equal((await call('PUT', `/contacts/${c.id}`, { firstName: 'Asha', lastName: 'Iyer', cellPhone: { extension: '42' } })).statusCode, 200);
      const [updated, created] = await history(c.id);
      assert.equal(created!.action, 'created');
      assert.equal(created!.userId, f.tenant.userId);
      assert.equal(created!.appId, f.tenant.appId);
      assert.deepEqual(created!.changes.firstName, { from: null, to: 'Asha' });
      assert.deepEqual(created!.changes['cellPhone.phoneNumber'], { from: null, to: c.cellPhone.phoneNumber });
      assert.deepEqual(created!.changes.status, { from: null, to: 'ACTIVE' });
      assert.equal(updated!.action, 'updated');
      assert.deepEqual(updated!.changes, { lastName: { from: 'Rao', to: 'Iyer' }, 'cellPhone.extension': { from: '+', to: '42' } });
      assert.ok(Date.parse(updated!.at) >= Date.parse(created!.at));
      assert.equal(created!.importId, undefined);
    });

    test('records delete and restore as status changes', async () => {
      const c = await create();
      await call('DELETE', `/contacts/${c.id}`);
      await call('POST', `/contacts/${c.id}/restore`);
      // Deleting an INACTIVE contact changes nothing, and records nothing.
      const entries = await history(c.id);
      assert.deepEqual(entries.map((e) => e.action), ['restored', 'deleted', 'created']);
      assert.deepEqual(entries[0]!.changes, { status: { from: 'INACTIVE', to: 'ACTIVE' } });
      assert.deepEqual(entries[1]!.changes, { status: { from: 'ACTIVE', to: 'INACTIVE' } });
      await call('DELETE', `/contacts/${c.id}`);
      await call('DELETE', `/contacts/${c.id}`);
      assert.equal((await history(c.id)).length, 4);
    });

    test('records the bulk routes, one entry per contact changed', async () => {
      const a = await create();
      const b = await create();
      const upd = await call('PUT', '/contacts/bulk-update', [{ id: a.id, firstName: 'Bulk' }, { id: b.id, salutation: 'Dr' }]);
      assert.equal(upd.json().successful, 2);
      const del = await f.api.app.inject({ method: 'DELETE', url: `${f.tenant.base}/contacts/bulk-delete`, headers: f.tenant.headers, payload: { ids: [a.id, b.id] } });
      assert.equal(del.json().successful, 2);
      assert.deepEqual((await history(a.id)).map((e) => [e.action, Object.keys(e.changes)]), [['deleted', ['status']], ['updated', ['firstName']], ['created', ['status', 'firstName', 'lastName', 'salutation', 'cellPhone.phoneNumber', 'cellPhone.countryCode', 'cellPhone.extension']]]);
      assert.deepEqual((await history(b.id))[1]!.changes, { salutation: { from: 'Mr', to: 'Dr' } });
    });

    test('records what an import created and updated as `imported`, with the import', async () => {
      const held = await create({ firstName: 'Held', lastName: 'Before' });
      const fresh = '9' + String(Date.now()).slice(-9);
      const jobs = importsApi(injectSender(f.api.app), f.tenant);
      const job = await jobs.submit(csvOf([row(held.cellPhone.phoneNumber.slice(3), { first: 'Held', last: 'After' }), row(fresh, { first: 'Nëw "Q" \\ x' })]), { query: 'onDuplicate=update' });
      const done = await jobs.finished(job.id);
      assert.equal(done.state, 'completed');
      assert.equal(done.created, 1);
      assert.equal(done.updated, 1);
      const [imported] = await history(held.id);
      assert.equal(imported!.action, 'imported');
      assert.equal(imported!.importId, job.id);
      assert.deepEqual(imported!.changes, { lastName: { from: 'Before', to: 'After' } });
      const listed = (await call('GET', `/contacts?phoneNumber=%2B91${fresh}`)).json();
      const newId = listed.results[0].id as string;
      const [createdByImport] = await history(newId);
      assert.equal(createdByImport!.action, 'imported');
      assert.equal(createdByImport!.importId, job.id);
      const c = listed.results[0];
      assert.equal(c.firstName, 'Nëw "Q" \\ x');
      // Every field, from null, in the order the history lists them.
      assert.deepEqual(Object.entries(createdByImport!.changes), [
        ['status', { from: null, to: 'ACTIVE' }],
        ['firstName', { from: null, to: c.firstName }],
        ['lastName', { from: null, to: c.lastName }],
        ['salutation', { from: null, to: c.salutation }],
        ['cellPhone.phoneNumber', { from: null, to: c.cellPhone.phoneNumber }],
        ['cellPhone.countryCode', { from: null, to: c.cellPhone.countryCode }],
        ['cellPhone.extension', { from: null, to: c.cellPhone.extension }],
      ]);
    });

    test('records the synchronous import too', async () => {
      const phone = '8' + String(Date.now()).slice(-9);
      const r = await f.api.app.inject({ method: 'POST', url: `${f.tenant.base}/contacts/import-contacts`, headers: { ...f.tenant.headers, 'content-type': 'text/csv' }, payload: csvOf([row(phone, { first: 'Sync' })]) });
      assert.equal(r.statusCode, 200, r.body);
      const [entry] = await history(r.json()[0].id);
      assert.equal(entry!.action, 'imported');
      assert.match(entry!.importId!, /^[0-9a-f]{24}$/);
    });

    describe('an imported contact, whose entry is written at its first change', () => {
      const jobs = () => importsApi(injectSender(f.api.app), f.tenant);
      async function imported(first: string, options: { query?: string } = {}, phone = `5${String(Date.now()).slice(-8)}${Math.floor(Math.random() * 10)}`) {
        const job = await jobs().submit(csvOf([row(phone, { first, last: 'Imported', salutation: 'Ms', ext: '7' })]), options);
        assert.equal((await jobs().finished(job.id)).state, 'completed');
        const c = (await call('GET', `/contacts?phoneNumber=%2B91${phone}`)).json().results[0];
        return { job, c, phone };
      }
      const creation = (c: { firstName: string; lastName: string; salutation: string; cellPhone: { phoneNumber: string; countryCode: string; extension: string } }) => ({
        status: { from: null, to: 'ACTIVE' },
        firstName: { from: null, to: c.firstName },
        lastName: { from: null, to: c.lastName },
        salutation: { from: null, to: c.salutation },
        'cellPhone.phoneNumber': { from: null, to: c.cellPhone.phoneNumber },
        'cellPhone.countryCode': { from: null, to: c.cellPhone.countryCode },
        'cellPhone.extension': { from: null, to: c.cellPhone.extension },
      });

      test('an import writes no history rows, and its contacts still show their creation', async () => {
        const count = async () => Number((await f.store.store.db.selectFrom('contact_history').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
        const rows = await count();
        const { job, c } = await imported('Lazy');
        assert.equal(await count(), rows);
        const [entry, ...rest] = await history(c.id);
        assert.equal(rest.length, 0);
        assert.deepEqual(entry, { at: c.createdAt, action: 'imported', userId: f.tenant.userId, appId: f.tenant.appId, importId: job.id, changes: creation(c) });
      });

      test('its first update writes the creation as the import made it, then the update', async () => {
        const { job, c } = await imported('Orig');
        assert.equal((await call('PUT', `/contacts/${c.id}`, { firstName: 'Changed' })).statusCode, 200);
        assert.equal((await call('PUT', `/contacts/${c.id}`, { lastName: 'Again' })).statusCode, 200);
        const entries = await history(c.id);
        assert.deepEqual(entries.map((e) => [e.action, e.importId]), [['updated', undefined], ['updated', undefined], ['imported', job.id]]);
        assert.deepEqual(entries[2]!.changes, creation(c));
        assert.equal(entries[2]!.at, c.createdAt);
        assert.deepEqual(entries[1]!.changes, { firstName: { from: 'Orig', to: 'Changed' } });
      });

      test('a delete, a bulk delete and another import do the same', async () => {
        const a = await imported('DeleteMe');
        await call('DELETE', `/contacts/${a.c.id}`);
        assert.deepEqual((await history(a.c.id)).map((e) => [e.action, e.importId]), [['deleted', undefined], ['imported', a.job.id]]);
        assert.deepEqual((await history(a.c.id))[1]!.changes, creation(a.c));

        const b = await imported('BulkMe');
        const del = await f.api.app.inject({ method: 'DELETE', url: `${f.tenant.base}/contacts/bulk-delete`, headers: f.tenant.headers, payload: { ids: [b.c.id] } });
        assert.equal(del.json().successful, 1);
        assert.deepEqual((await history(b.c.id)).map((e) => e.action), ['deleted', 'imported']);

        const first = await imported('First');
        const second = await imported('Second', { query: 'onDuplicate=update' }, first.phone);
        const entries = await history(first.c.id);
        assert.deepEqual(entries.map((e) => [e.action, e.importId]), [['imported', second.job.id], ['imported', first.job.id]]);
        assert.deepEqual(entries[0]!.changes, { firstName: { from: 'First', to: 'Second' } });
        assert.deepEqual(entries[1]!.changes, creation(first.c));
      });

      test('concurrent first changes write the creation once', async () => {
        const { c } = await imported('Race');
        const puts = await Promise.all(Array.from({ length: 8 }, (_, i) => call('PUT', `/contacts/${c.id}`, { firstName: `Racer${i}` })));
        for (const r of puts) assert.equal(r.statusCode, 200, r.body);
        const entries = await history(c.id, '?limit=100');
        assert.equal(entries.length, 9);
        assert.deepEqual(entries.map((e) => e.action), [...Array(8).fill('updated'), 'imported']);
        assert.deepEqual(entries[8]!.changes, creation(c));
      });
    });

    test('records a console user as the one who changed the contact', async () => {
      const user = await createConsoleUser(f.store.store, f.tenant.accountId);
      const s = await signIn(f.api.app, user.email, user.password);
      const c = await create();
      const put = await call('PUT', `/contacts/${c.id}`, { firstName: 'Console' }, { cookie: s.cookie, 'x-csrf-token': s.csrfToken });
      assert.equal(put.statusCode, 200, put.body);
      const [entry] = await history(c.id);
      assert.equal(entry!.userId, user.userId);
      assert.equal(entry!.appId, consoleAppId(f.tenant.accountId));
    });

    test('pages newest first with a cursor', async () => {
      const c = await create({ firstName: 'P0' });
      for (let i = 1; i <= 4; i++) await call('PUT', `/contacts/${c.id}`, { firstName: `P${i}` });
      const first = (await call('GET', `/contacts/${c.id}/history?limit=2`)).json();
      assert.equal(first.hasMore, true);
      assert.deepEqual(first.results.map((e: Entry) => e.changes.firstName!.to), ['P4', 'P3']);
      const second = (await call('GET', `/contacts/${c.id}/history?limit=2&cursor=${first.nextCursor}`)).json();
      assert.deepEqual(second.results.map((e: Entry) => e.changes.firstName!.to), ['P2', 'P1']);
      const third = (await call('GET', `/contacts/${c.id}/history?limit=2&cursor=${second.nextCursor}`)).json();
      assert.deepEqual(third.results.map((e: Entry) => e.action), ['created']);
      assert.equal(third.hasMore, false);
      assert.equal(third.nextCursor, null);
      assert.equal((await call('GET', `/contacts/${c.id}/history?cursor=bogus`)).json().errors[0].code, 'INVALID_CURSOR');
    });

    test("another tenant's contact has no history to show: 404", async () => {
      const c = await create();
      const other = await createTenant(f.store.store);
      const r = await f.api.app.inject({ method: 'GET', url: `${other.base}/contacts/${c.id}/history`, headers: other.headers });
      assert.equal(r.statusCode, 404);
      assert.equal(r.json().errors[0].code, 'CONTACT_NOT_FOUND');
      assert.equal((await call('GET', '/contacts/not-an-id/history')).statusCode, 404);
    });

    test('a write that fails records nothing', async () => {
      const a = await create();
      const b = await create();
      // b takes a's number: 409, and no entry.
      const r = await call('PUT', `/contacts/${b.id}`, { cellPhone: { phoneNumber: a.cellPhone.phoneNumber, countryCode: '+91' } });
      assert.equal(r.statusCode, 409);
      assert.equal((await history(b.id)).length, 1);
    });
  });
}
