import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contactInput, useApiFixture } from '../helpers/app.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';

for (const dialect of DIALECTS) {
  describe(`POST /contacts on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    const fx = useApiFixture(dialect);

    const post = (body: unknown, headers: Record<string, string> = fx.tenant.headers) =>
      fx.api.app.inject({ method: 'POST', url: `${fx.tenant.base}/contacts`, headers, payload: body as object });

    it('creates the seed sample contact and answers with every field of the sample response', async () => {
      const input = contactInput();
      const res = await post([input]);
      assert.equal(res.statusCode, 200);
      const [contact] = res.json();
      assert.deepEqual(Object.keys(contact).sort(), [
        'accountId', 'address', 'cellPhone', 'createdAt', 'createdBy', 'createdByAId', 'firstName', 'fullName', 'id',
        'instanceBotId', 'lastName', 'orgId', 'salutation', 'status', 'twitterDetails', 'updatedAt',
      ]);
      assert.equal(contact.status, 'ACTIVE');
      assert.equal(contact.fullName, 'John Doe');
      assert.deepEqual(contact.cellPhone, { phoneNumber: `+91${input.cellPhone.phoneNumber}`, countryCode: '+91', extension: '+' });
      assert.equal(contact.instanceBotId, fx.tenant.streamId);
      assert.equal(contact.accountId, fx.tenant.accountId);
      assert.equal(contact.orgId, fx.tenant.orgId);
      assert.equal(contact.createdBy, fx.tenant.userId);
      assert.equal(contact.createdByAId, fx.tenant.appId);
      assert.match(contact.id, /^[0-9a-f]{24}$/);
      assert.match(contact.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    });

    it('takes a single object as an array of one', async () => {
      const res = await post(contactInput());
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().length, 1);
    });

    it('refuses a phone number held by another contact, naming that contact', async () => {
      const first = contactInput();
      const created = (await post([first])).json()[0];
      const res = await post([contactInput({ firstName: 'Jane', cellPhone: first.cellPhone })]);
      assert.equal(res.statusCode, 409);
      assert.deepEqual(res.json().errors.map((e: { code: string; id: string; index: number }) => [e.code, e.id, e.index]), [['PHONE_TAKEN', created.id, 0]]);
    });

    it('creates nothing when one element of the array is invalid, listing each failure by index', async () => {
      const good = contactInput();
      const res = await post([good, contactInput({ lastName: '' }), { firstName: 'X' }]);
      assert.equal(res.statusCode, 400);
      const errors = res.json().errors as { index: number; field: string }[];
      assert.ok(errors.some((e) => e.index === 1 && e.field === 'lastName'));
      assert.ok(errors.some((e) => e.index === 2 && e.field === 'cellPhone.phoneNumber'));
      // The good element was not written: sending it alone now succeeds.
      assert.equal((await post([good])).statusCode, 200);
    });
  });
}
