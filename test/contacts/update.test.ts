import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contactInput, uniquePhone, useApiFixture } from '../helpers/app.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';

interface ErrorEntry {
  msg: string;
  code: string;
  field?: string;
  id?: string;
}

for (const dialect of DIALECTS) {
  describe(`PUT /contacts/{id} on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    const fx = useApiFixture(dialect);

    const create = async (overrides: Record<string, unknown> = {}) => {
      const res = await fx.api.app.inject({ method: 'POST', url: `${fx.tenant.base}/contacts`, headers: fx.tenant.headers, payload: [contactInput(overrides)] });
      assert.equal(res.statusCode, 200, res.body);
      return res.json()[0];
    };
    const put = (id: string, body: unknown) =>
      fx.api.app.inject({ method: 'PUT', url: `${fx.tenant.base}/contacts/${id}`, headers: fx.tenant.headers, payload: body as object });
    const stored = (id: string) => fx.store.store.db.selectFrom('contacts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

    it('updates with the seed 004 body and records who updated it and when', async () => {
      const created = await create();
      const number = uniquePhone();
      const res = await put(created.id, {
        firstName: 'john',
        lastName: 'doe',
        salutation: 'mr',
        cellPhone: { phoneNumber: number, countryCode: '+91', extension: '+' },
      });
      assert.equal(res.statusCode, 200, res.body);
      const updated = res.json();
      assert.deepEqual(Object.keys(updated).sort(), [
        'accountId', 'address', 'cellPhone', 'createdAt', 'createdBy', 'createdByAId', 'firstName', 'fullName', 'id',
        'instanceBotId', 'lastName', 'orgId', 'salutation', 'status', 'twitterDetails', 'updatedAt', 'updatedBy', 'updatedByAId',
      ]);
      assert.equal(updated.id, created.id);
      assert.equal(updated.fullName, 'john doe');
      assert.equal(updated.salutation, 'mr');
      assert.deepEqual(updated.cellPhone, { phoneNumber: `+91${number}`, countryCode: '+91', extension: '+' });
      assert.equal(updated.updatedBy, fx.tenant.userId);
      assert.equal(updated.updatedByAId, fx.tenant.appId);
      assert.equal(updated.createdAt, created.createdAt);
      assert.ok(Date.parse(updated.updatedAt) > Date.parse(updated.createdAt), `${updated.updatedAt} is not after ${updated.createdAt}`);
      assert.equal(updated.status, 'ACTIVE');
    });

    it('replaces only the fields sent and keeps the rest, recomputing fullName', async () => {
      const created = await create({ firstName: 'John', lastName: 'Doe', salutation: 'Mr' });
      const res = await put(created.id, { firstName: 'Jonathan' });
      assert.equal(res.statusCode, 200, res.body);
      const updated = res.json();
      assert.equal(updated.firstName, 'Jonathan');
      assert.equal(updated.lastName, 'Doe');
      assert.equal(updated.salutation, 'Mr');
      assert.equal(updated.fullName, 'Jonathan Doe');
      assert.deepEqual(updated.cellPhone, created.cellPhone);
      const row = await stored(created.id);
      assert.equal(row.first_name, 'Jonathan');
      assert.equal(row.last_name, 'Doe');
    });

    it('changes only the extension when only cellPhone.extension is sent', async () => {
      const created = await create();
      const res = await put(created.id, { cellPhone: { extension: '22' } });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json().cellPhone, { ...created.cellPhone, extension: '22' });
      assert.equal(res.json().firstName, created.firstName);
    });

    it('normalises a new phone number the way create does', async () => {
      const created = await create();
      const digits = uniquePhone();
      const typed = `(${digits.slice(0, 3)}) ${digits.slice(3, 6)}-${digits.slice(6)}`;
      const res = await put(created.id, { cellPhone: { phoneNumber: typed, countryCode: '91' } });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json().cellPhone, { phoneNumber: `+91${digits}`, countryCode: '+91', extension: created.cellPhone.extension });
      assert.equal((await stored(created.id)).phone_number, `+91${digits}`);
    });

    it('refuses a new phone number with letters in it, naming the field', async () => {
      const created = await create();
      const res = await put(created.id, { cellPhone: { phoneNumber: '98765abcde', countryCode: '+91' } });
      assert.equal(res.statusCode, 400);
      assert.ok(res.json().errors.some((e: ErrorEntry) => e.field === 'cellPhone.phoneNumber'));
      assert.equal((await stored(created.id)).phone_number, created.cellPhone.phoneNumber);
    });

    it('refuses to move a contact onto a number held by another ACTIVE contact, naming that contact', async () => {
      const holder = await create();
      const mover = await create();
      const res = await put(mover.id, { cellPhone: { phoneNumber: holder.cellPhone.phoneNumber.slice(3), countryCode: '+91' } });
      assert.equal(res.statusCode, 409);
      const errors = res.json().errors as ErrorEntry[];
      assert.deepEqual(errors.map((e) => [e.code, e.id, e.field]), [['PHONE_TAKEN', holder.id, 'cellPhone.phoneNumber']]);
      assert.equal((await stored(mover.id)).phone_number, mover.cellPhone.phoneNumber);
    });

    it("accepts the contact's own number sent again, also in the +91… form it is read back in", async () => {
      const created = await create();
      const national = await put(created.id, { cellPhone: { phoneNumber: created.cellPhone.phoneNumber.slice(3), countryCode: '+91' }, lastName: 'Roe' });
      assert.equal(national.statusCode, 200, national.body);
      const readBack = await put(created.id, { cellPhone: created.cellPhone });
      assert.equal(readBack.statusCode, 200, readBack.body);
      assert.equal(readBack.json().cellPhone.phoneNumber, created.cellPhone.phoneNumber);
      assert.equal(readBack.json().lastName, 'Roe');
    });

    for (const [body, field] of [
      [{ firstName: '' }, 'firstName'],
      [{ lastName: '   ' }, 'lastName'],
      [{ salutation: '' }, 'salutation'],
      [{ cellPhone: { phoneNumber: '' } }, 'cellPhone.phoneNumber'],
      [{ cellPhone: { countryCode: '' } }, 'cellPhone.countryCode'],
      [{ cellPhone: { extension: '' } }, 'cellPhone.extension'],
    ] as const) {
      it(`refuses an empty ${field} with a 400 naming it, and changes nothing`, async () => {
        const created = await create();
        const res = await put(created.id, { ...body, firstName: (body as { firstName?: string }).firstName ?? 'Changed' });
        assert.equal(res.statusCode, 400);
        assert.ok(res.json().errors.some((e: ErrorEntry) => e.field === field), res.body);
        assert.equal((await stored(created.id)).first_name, created.firstName);
      });
    }

    it('refuses an empty body', async () => {
      const created = await create();
      const res = await put(created.id, {});
      assert.equal(res.statusCode, 400);
      assert.equal(typeof res.json().errors[0].msg, 'string');
    });

    it('refuses a body that is not an object', async () => {
      const created = await create();
      for (const body of [[{ firstName: 'X' }], 'John', 42]) {
        const res = await fx.api.app.inject({
          method: 'PUT',
          url: `${fx.tenant.base}/contacts/${created.id}`,
          headers: { ...fx.tenant.headers, 'content-type': 'application/json' },
          payload: JSON.stringify(body),
        });
        assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`);
        assert.ok(Array.isArray(res.json().errors));
      }
    });

    it('refuses a request without a body', async () => {
      const created = await create();
      const res = await fx.api.app.inject({ method: 'PUT', url: `${fx.tenant.base}/contacts/${created.id}`, headers: fx.tenant.headers });
      assert.equal(res.statusCode, 400, res.body);
      assert.ok(Array.isArray(res.json().errors));
    });

    // `bulk-update` is a route of its own now (test/contacts/bulk.test.ts); `import-contacts` has no PUT.
    for (const id of ['0123456789abcdef01234567', 'abc', 'import-contacts', '0123456789ABCDEF01234567']) {
      it(`answers 404 in the error shape for the contact id "${id}"`, async () => {
        const res = await put(id, { firstName: 'X' });
        assert.equal(res.statusCode, 404, res.body);
        const [error] = res.json().errors as ErrorEntry[];
        assert.equal(error?.code, 'CONTACT_NOT_FOUND');
        assert.equal(typeof error?.msg, 'string');
      });
    }

    it('ignores unknown fields and never returns or stores them', async () => {
      const created = await create();
      const res = await put(created.id, {
        firstName: 'Ann',
        nickname: 'Annie',
        id: '0123456789abcdef01234567',
        status: 'INACTIVE',
        createdBy: 'u-evil',
        accountId: '0123456789abcdef01234567',
        cellPhone: { extension: '7', carrier: 'x' },
      });
      assert.equal(res.statusCode, 200, res.body);
      const updated = res.json();
      assert.equal(updated.firstName, 'Ann');
      assert.equal('nickname' in updated, false);
      assert.equal('carrier' in updated.cellPhone, false);
      assert.equal(updated.id, created.id);
      assert.equal(updated.status, 'ACTIVE');
      assert.equal(updated.createdBy, fx.tenant.userId);
      assert.equal(updated.accountId, fx.tenant.accountId);
      const row = await stored(created.id);
      assert.equal(row.status, 'ACTIVE');
      assert.equal(row.account_id, fx.tenant.accountId);
    });
  });
}
