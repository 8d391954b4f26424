import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DIALECTS, skipReason } from '../helpers/stores.js';
import { blankId, contactsFixture, MISSING_ID, type ContactJson } from './contacts-fixture.js';

for (const dialect of DIALECTS) {
  describe(`DELETE /contacts/{id} and POST /contacts/{id}/restore on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    const fx = contactsFixture(dialect);
    const stored = (id: string) => fx.store.store.db.selectFrom('contacts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    it('marks the contact INACTIVE, records who did it and when, and answers the contact', async () => {
      const [c] = await fx.create();
      const res = await fx.call('DELETE', `/${c!.id}`);
      assert.equal(res.statusCode, 200, res.body);
      const deleted = res.json() as ContactJson;
      assert.equal(deleted.status, 'INACTIVE');
      assert.equal(deleted.id, c!.id);
      assert.equal(deleted.firstName, c!.firstName);
      assert.deepEqual(deleted.cellPhone, c!.cellPhone);
      assert.equal(deleted.updatedBy, fx.tenant.userId);
      assert.equal(deleted.updatedByAId, fx.tenant.appId);
      assert.equal(deleted.createdAt, c!.createdAt);
      assert.ok(Date.parse(deleted.updatedAt) > Date.parse(c!.updatedAt), `${deleted.updatedAt} is not after ${c!.updatedAt}`);
      assert.equal((await stored(c!.id)).status, 'INACTIVE');
    });

    it('frees the number: a new contact may take it', async () => {
      const [c] = await fx.create();
      const again = await fx.call('POST', '', [{ firstName: 'Next', lastName: 'Holder', salutation: 'Ms', cellPhone: c!.cellPhone }]);
      assert.equal(again.statusCode, 409);
      await fx.call('DELETE', `/${c!.id}`);
      const taken = await fx.call('POST', '', [{ firstName: 'Next', lastName: 'Holder', salutation: 'Ms', cellPhone: c!.cellPhone }]);
      assert.equal(taken.statusCode, 200, taken.body);
    });

    it('answers a second delete with 200 and the contact unchanged', async () => {
      const [c] = await fx.create();
      const first = (await fx.call('DELETE', `/${c!.id}`)).json() as ContactJson;
      const second = await fx.call('DELETE', `/${c!.id}`);
      assert.equal(second.statusCode, 200);
      assert.deepEqual(second.json(), first);
    });

    it('accepts a JSON content type with no body', async () => {
      const [c] = await fx.create();
      const res = await fx.api.app.inject({
        method: 'DELETE',
        url: `${fx.tenant.base}/contacts/${c!.id}`,
        headers: { ...fx.tenant.headers, 'content-type': 'application/json' },
      });
      assert.equal(res.statusCode, 200, res.body);
      const restored = await fx.api.app.inject({
        method: 'POST',
        url: `${fx.tenant.base}/contacts/${c!.id}/restore`,
        headers: { ...fx.tenant.headers, 'content-type': 'application/json' },
      });
      assert.equal(restored.statusCode, 200, restored.body);
    });

    it('restores a deleted contact to ACTIVE with its number', async () => {
      const [c] = await fx.create();
      await fx.call('DELETE', `/${c!.id}`);
      const res = await fx.call('POST', `/${c!.id}/restore`);
      assert.equal(res.statusCode, 200, res.body);
      const restored = res.json() as ContactJson;
      assert.equal(restored.status, 'ACTIVE');
      assert.deepEqual(restored.cellPhone, c!.cellPhone);
      assert.equal(restored.updatedBy, fx.tenant.userId);
      // It holds the number again.
      const clash = await fx.call('POST', '', [{ firstName: 'X', lastName: 'Y', salutation: 'Z', cellPhone: c!.cellPhone }]);
      assert.equal(clash.statusCode, 409);
      assert.equal(clash.json().errors[0].id, c!.id);
    });

    it('refuses to restore a contact whose number was taken meanwhile, naming the holder', async () => {
      const [c] = await fx.create();
      await fx.call('DELETE', `/${c!.id}`);
      const [holder] = await fx.create([{ firstName: 'Newcomer', cellPhone: c!.cellPhone }]);
      const res = await fx.call('POST', `/${c!.id}/restore`);
      assert.equal(res.statusCode, 409, res.body);
      const [error] = res.json().errors;
      assert.equal(error.code, 'PHONE_TAKEN');
      assert.equal(error.id, holder!.id);
      assert.match(error.msg, new RegExp(holder!.id));
      assert.equal((await stored(c!.id)).status, 'INACTIVE');
      // Once the holder lets go, the restore goes through.
      await fx.call('DELETE', `/${holder!.id}`);
      assert.equal((await fx.call('POST', `/${c!.id}/restore`)).statusCode, 200);
    });

    it('answers a restore of an ACTIVE contact with 200 and the contact unchanged', async () => {
      const [c] = await fx.create();
      const res = await fx.call('POST', `/${c!.id}/restore`);
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), c);
    });

    it('lets one of two concurrent restores of one number win', async () => {
      const [a] = await fx.create();
      await fx.call('DELETE', `/${a!.id}`);
      const [b] = await fx.create([{ cellPhone: a!.cellPhone }]);
      await fx.call('DELETE', `/${b!.id}`);
      const answers = await Promise.all([fx.call('POST', `/${a!.id}/restore`), fx.call('POST', `/${b!.id}/restore`)]);
      assert.deepEqual(answers.map((r) => r.statusCode).sort(), [200, 409]);
      const active = await fx.list(`phoneNumber=${encodeURIComponent(a!.cellPhone.phoneNumber)}`);
      assert.equal(active.results.length, 1);
    });

    for (const [method, suffix] of [['DELETE', ''], ['POST', '/restore']] as const) {
      it(`answers ${method} /contacts/{id}${suffix} for a foreign, unknown or malformed id exactly as for a missing one`, async () => {
        const [c] = await fx.create();
        const missing = await fx.call(method, `/${MISSING_ID}${suffix}`, undefined, fx.other);
        assert.equal(missing.statusCode, 404);
        assert.equal(missing.json().errors[0].code, 'CONTACT_NOT_FOUND');
        const foreign = await fx.call(method, `/${c!.id}${suffix}`, undefined, fx.other);
        assert.equal(foreign.statusCode, 404);
        assert.deepEqual(blankId(foreign.body, c!.id), blankId(missing.body, MISSING_ID));
        for (const id of ['abc', c!.id.toUpperCase()]) {
          const res = await fx.call(method, `/${id}${suffix}`, undefined, fx.other);
          assert.deepEqual(blankId(res.body, id), blankId(missing.body, MISSING_ID), id);
        }
        assert.equal((await stored(c!.id)).status, 'ACTIVE');
      });
    }
  });
}
