import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uniquePhone } from '../helpers/app.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';
import { contactsFixture, MISSING_ID, type ContactJson } from './contacts-fixture.js';

interface Report<S> {
  totalRequested: number;
  successful: number;
  failed: number;
  successfulRecords: S[];
  failedRecords: { id?: string; index: number; errors: { code: string; msg: string; id?: string; field?: string }[] }[];
}

for (const dialect of DIALECTS) {
  describe(`DELETE /contacts/bulk-delete and PUT /contacts/bulk-update on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    const fx = contactsFixture(dialect, { MAX_CONTACTS_PER_REQUEST: '8' });
    const stored = (id: string) => fx.store.store.db.selectFrom('contacts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const bulkDelete = (ids: unknown[], as = fx.tenant) => fx.call('DELETE', '/bulk-delete', { ids }, as);
    const bulkUpdate = (items: unknown, as = fx.tenant) => fx.call('PUT', '/bulk-update', items, as);

    it('deletes every listed contact and reports each id', async () => {
      const [a, b] = await fx.create([{}, {}]);
      const res = await bulkDelete([a!.id, b!.id]);
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json(), { totalRequested: 2, successful: 2, failed: 0, successfulRecords: [{ id: a!.id }, { id: b!.id }], failedRecords: [] });
      for (const c of [a!, b!]) {
        const row = await stored(c.id);
        assert.equal(row.status, 'INACTIVE');
        assert.equal(row.updated_by, fx.tenant.userId);
        assert.equal(row.updated_by_aid, fx.tenant.appId);
      }
      // Their numbers are free.
      assert.equal((await fx.call('POST', '', [{ firstName: 'N', lastName: 'N', salutation: 'N', cellPhone: a!.cellPhone }])).statusCode, 200);
    });

    it('reports unknown, foreign, malformed and repeated ids by index and deletes the rest', async () => {
      const [mine, kept] = await fx.create([{}, {}]);
      const [theirs] = await fx.create([{}], fx.other);
      const res = await bulkDelete([MISSING_ID, mine!.id, theirs!.id, 'abc', mine!.id]);
      assert.equal(res.statusCode, 200, res.body);
      const report = res.json() as Report<{ id: string }>;
      assert.equal(report.totalRequested, 5);
      assert.equal(report.successful, 1);
      assert.equal(report.failed, 4);
      assert.deepEqual(report.successfulRecords, [{ id: mine!.id }]);
      assert.deepEqual(report.failedRecords.map((f) => [f.id, f.index, f.errors[0]!.code]), [
        [MISSING_ID, 0, 'CONTACT_NOT_FOUND'],
        [theirs!.id, 2, 'CONTACT_NOT_FOUND'],
        ['abc', 3, 'CONTACT_NOT_FOUND'],
        [mine!.id, 4, 'DUPLICATE_IN_REQUEST'],
      ]);
      // The foreign contact is reported exactly as the missing one, and left alone.
      const [missing, foreign] = report.failedRecords;
      assert.deepEqual(
        JSON.parse(JSON.stringify(foreign!.errors).replaceAll(theirs!.id, '<id>')),
        JSON.parse(JSON.stringify(missing!.errors).replaceAll(MISSING_ID, '<id>')),
      );
      assert.equal((await stored(theirs!.id)).status, 'ACTIVE');
      assert.equal((await stored(kept!.id)).status, 'ACTIVE');
    });

    it('counts an already deleted contact as deleted, unchanged', async () => {
      const [c] = await fx.create();
      await fx.call('DELETE', `/${c!.id}`);
      const before = await stored(c!.id);
      const report = (await bulkDelete([c!.id])).json() as Report<{ id: string }>;
      assert.deepEqual(report.successfulRecords, [{ id: c!.id }]);
      assert.deepEqual(await stored(c!.id), before);
    });

    it('refuses an empty list, a body without ids and more ids than MAX_CONTACTS_PER_REQUEST', async () => {
      assert.equal((await bulkDelete([])).statusCode, 400);
      assert.equal((await fx.call('DELETE', '/bulk-delete', { id: MISSING_ID })).statusCode, 400);
      const tooMany = await bulkDelete(Array.from({ length: 9 }, () => MISSING_ID));
      assert.equal(tooMany.statusCode, 413);
      assert.equal(tooMany.json().errors[0].code, 'TOO_MANY_CONTACTS');
      assert.equal((await bulkUpdate(Array.from({ length: 9 }, () => ({ id: MISSING_ID, firstName: 'X' })))).statusCode, 413);
      assert.equal((await bulkUpdate([])).statusCode, 400);
    });

    it('updates each element as PUT /contacts/{id} would and answers each contact with _id', async () => {
      const [a, b] = await fx.create([{}, {}]);
      const number = uniquePhone();
      const res = await bulkUpdate([
        { id: a!.id, firstName: 'Ada', cellPhone: { phoneNumber: number, countryCode: '+91' } },
        { id: b!.id, lastName: 'Lovelace', salutation: 'Lady' },
      ]);
      assert.equal(res.statusCode, 200, res.body);
      const report = res.json() as Report<{ id: string; contact: ContactJson & { _id: string } }>;
      assert.equal(report.totalRequested, 2);
      assert.equal(report.successful, 2);
      assert.deepEqual(report.failedRecords, []);
      const [first, second] = report.successfulRecords;
      assert.equal(first!.id, a!.id);
      assert.equal(first!.contact._id, a!.id);
      assert.equal(first!.contact.id, a!.id);
      assert.equal(first!.contact.firstName, 'Ada');
      assert.equal(first!.contact.lastName, a!.lastName);
      assert.equal(first!.contact.cellPhone.phoneNumber, `+91${number}`);
      assert.equal(first!.contact.updatedBy, fx.tenant.userId);
      assert.equal(second!.contact._id, b!.id);
      assert.equal(second!.contact.fullName, `${b!.firstName} Lovelace`);
      assert.equal(second!.contact.salutation, 'Lady');
      // Stored, and searchable under the new name.
      assert.equal((await stored(b!.id)).last_name, 'Lovelace');
      assert.ok((await fx.list('q=lovel&limit=100')).results.some((c) => c.id === b!.id));
    });

    it('applies the good elements and reports the bad ones by index (partial success)', async () => {
      const [a, b, holder] = await fx.create([{}, {}, {}]);
      const [theirs] = await fx.create([{}], fx.other);
      const res = await bulkUpdate([
        { id: a!.id, firstName: 'Kept' },
        { id: MISSING_ID, firstName: 'X' },
        { id: b!.id, cellPhone: { phoneNumber: holder!.cellPhone.phoneNumber, countryCode: '+91' } },
        { firstName: 'No id' },
        { id: b!.id, firstName: '' },
        { id: theirs!.id, firstName: 'Hijack' },
        { id: a!.id, firstName: 'Twice' },
      ]);
      assert.equal(res.statusCode, 200, res.body);
      const report = res.json() as Report<{ id: string; contact: ContactJson }>;
      assert.equal(report.totalRequested, 7);
      assert.equal(report.successful, 1);
      assert.equal(report.failed, 6);
      assert.deepEqual(report.successfulRecords.map((r) => [r.id, r.contact.firstName]), [[a!.id, 'Kept']]);
      assert.deepEqual(report.failedRecords.map((f) => [f.id, f.index, f.errors[0]!.code]), [
        [MISSING_ID, 1, 'CONTACT_NOT_FOUND'],
        [b!.id, 2, 'PHONE_TAKEN'],
        [undefined, 3, 'FIELD_REQUIRED'],
        [b!.id, 4, 'DUPLICATE_IN_REQUEST'],
        [theirs!.id, 5, 'CONTACT_NOT_FOUND'],
        [a!.id, 6, 'DUPLICATE_IN_REQUEST'],
      ]);
      assert.equal(report.failedRecords[1]!.errors[0]!.id, holder!.id);
      // The other stream's contact fails exactly as the missing one does.
      assert.deepEqual(
        JSON.parse(JSON.stringify(report.failedRecords[4]!.errors).replaceAll(theirs!.id, '<id>')),
        JSON.parse(JSON.stringify(report.failedRecords[0]!.errors).replaceAll(MISSING_ID, '<id>')),
      );
      assert.equal((await stored(a!.id)).first_name, 'Kept');
      assert.equal((await stored(b!.id)).phone_number, b!.cellPhone.phoneNumber);
      assert.equal((await stored(theirs!.id)).first_name, theirs!.firstName);
    });

    it('takes a single object as an array of one', async () => {
      const [c] = await fx.create();
      const report = (await bulkUpdate({ id: c!.id, salutation: 'Prof' })).json() as Report<{ id: string; contact: ContactJson }>;
      assert.equal(report.successful, 1);
      assert.equal(report.successfulRecords[0]!.contact.salutation, 'Prof');
    });

    it('routes bulk-delete, bulk-update, import-contacts and export as routes, never as contact ids', async () => {
      const [c] = await fx.create();
      assert.equal((await bulkDelete([c!.id])).json().successful, 1);
      assert.equal((await bulkUpdate([{ id: c!.id, firstName: 'Routed' }])).json().successful, 1);
      const exported = await fx.call('GET', '/export');
      assert.equal(exported.statusCode, 200);
      assert.match(exported.headers['content-type'] as string, /^text\/csv/);
      // Other methods on those paths do not reach a contact either.
      for (const [method, path] of [['GET', '/bulk-delete'], ['GET', '/bulk-update'], ['DELETE', '/import-contacts'], ['DELETE', '/export']] as const) {
        const res = await fx.call(method, path);
        assert.equal(res.statusCode, 404, `${method} ${path}`);
      }
    });
  });
}
