import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signAppToken } from '../../src/auth/token.js';
import { createTenancyService } from '../../src/tenancy/tenancy.service.js';
import { buildTestApp, contactInput, createTenant, type Tenant, type TestApp } from '../helpers/app.js';
import { createTestStore, DIALECTS, skipReason, type TestStore } from '../helpers/stores.js';

for (const dialect of DIALECTS) {
  describe(`tenant isolation on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    let store: TestStore;
    let api: TestApp;
    let first: Tenant;
    let second: Tenant;
    let contact: { id: string; firstName: string; cellPhone: { phoneNumber: string } };

    before(async () => {
      store = await createTestStore(dialect);
      api = await buildTestApp(store.store);
      first = await createTenant(store.store);
      second = await createTenant(store.store);
      const res = await api.app.inject({ method: 'POST', url: `${first.base}/contacts`, headers: first.headers, payload: [contactInput({ firstName: 'Original' })] });
      assert.equal(res.statusCode, 200, res.body);
      contact = res.json()[0];
    });
    after(async () => {
      await api?.close();
      await store?.destroy();
    });

    const storedRow = () => store.store.db.selectFrom('contacts').selectAll().where('id', '=', contact.id).executeTakeFirstOrThrow();
    const countIn = async (streamId: string) =>
      Number((await store.store.db.selectFrom('contacts').select((eb) => eb.fn.countAll().as('n')).where('stream_id', '=', streamId).executeTakeFirstOrThrow()).n);

    it("answers 404 when a second tenant's token is used on the first tenant's stream, and writes nothing there", async () => {
      const before = await storedRow();
      const put = await api.app.inject({ method: 'PUT', url: `${first.base}/contacts/${contact.id}`, headers: second.headers, payload: { firstName: 'Hijacked' } });
      assert.equal(put.statusCode, 404);
      assert.equal(put.json().errors[0].code, 'STREAM_NOT_FOUND');
      const post = await api.app.inject({ method: 'POST', url: `${first.base}/contacts`, headers: second.headers, payload: [contactInput()] });
      assert.equal(post.statusCode, 404);
      assert.deepEqual(await storedRow(), before);
      assert.equal(await countIn(first.streamId), 1);
    });

    it("answers 404 to a PUT of the first tenant's contact on the second's own stream, exactly as for an unknown id", async () => {
      const before = await storedRow();
      const foreign = await api.app.inject({ method: 'PUT', url: `${second.base}/contacts/${contact.id}`, headers: second.headers, payload: { firstName: 'Hijacked' } });
      const unknownId = '0123456789abcdef01234567';
      const unknown = await api.app.inject({ method: 'PUT', url: `${second.base}/contacts/${unknownId}`, headers: second.headers, payload: { firstName: 'Hijacked' } });
      assert.equal(foreign.statusCode, 404);
      assert.equal(unknown.statusCode, 404);
      // Same answer but for the id itself: nothing tells the caller that the contact exists elsewhere.
      assert.deepEqual(JSON.parse(foreign.body.replaceAll(contact.id, '<id>')), JSON.parse(unknown.body.replaceAll(unknownId, '<id>')));
      assert.deepEqual(await storedRow(), before);
      assert.equal((await storedRow()).first_name, 'Original');
    });

    it('answers 404 to an app of the same account that was not given the stream', async () => {
      const tenancy = createTenancyService({ db: store.store.db });
      const { streamId } = await tenancy.createStream(first.accountId, 'Other stream');
      const app = await tenancy.createApp({ accountId: first.accountId, streamIds: [streamId] });
      const headers = { auth: await signAppToken({ clientId: app.clientId, key: app.clientSecret }), accountId: first.accountId };
      const before = await storedRow();
      const put = await api.app.inject({ method: 'PUT', url: `${first.base}/contacts/${contact.id}`, headers, payload: { firstName: 'Hijacked' } });
      assert.equal(put.statusCode, 404);
      assert.equal(put.json().errors[0].code, 'STREAM_NOT_FOUND');
      assert.deepEqual(await storedRow(), before);
      // Its own stream it reaches, and the contact is not there either.
      const own = await api.app.inject({ method: 'PUT', url: `/agentassist/api/v1/public/${streamId}/contacts/${contact.id}`, headers, payload: { firstName: 'Hijacked' } });
      assert.equal(own.statusCode, 404);
      assert.equal(own.json().errors[0].code, 'CONTACT_NOT_FOUND');
    });

    it("refuses to give an app a stream of another account", async () => {
      const tenancy = createTenancyService({ db: store.store.db });
      await assert.rejects(
        tenancy.createApp({ accountId: second.accountId, streamIds: [first.streamId] }),
        (error: Error & { details?: { code: string }[] }) => error.details?.[0]?.code === 'STREAM_NOT_FOUND',
      );
      await assert.rejects(tenancy.createStream('0123456789abcdef01234567'), (error: Error & { details?: { code: string }[] }) => error.details?.[0]?.code === 'ACCOUNT_NOT_FOUND');
      const apps = await store.store.db.selectFrom('app_streams').select('app_id').where('stream_id', '=', first.streamId).execute();
      assert.equal(apps.length, 1);
    });

    it('lets the same phone number exist in two streams', async () => {
      const same = contactInput({ cellPhone: { phoneNumber: contact.cellPhone.phoneNumber.slice(3), countryCode: '+91', extension: '+' } });
      const res = await api.app.inject({ method: 'POST', url: `${second.base}/contacts`, headers: second.headers, payload: [same] });
      assert.equal(res.statusCode, 200, res.body);
      const created = res.json()[0];
      assert.equal(created.cellPhone.phoneNumber, contact.cellPhone.phoneNumber);
      assert.equal(created.instanceBotId, second.streamId);
      assert.notEqual(created.id, contact.id);
    });

    it("lets a contact move onto a number that only another stream's contact holds", async () => {
      const third = await createTenant(store.store);
      const mover = (await api.app.inject({ method: 'POST', url: `${third.base}/contacts`, headers: third.headers, payload: [contactInput()] })).json()[0];
      const moved = await api.app.inject({
        method: 'PUT',
        url: `${third.base}/contacts/${mover.id}`,
        headers: third.headers,
        payload: { cellPhone: { phoneNumber: contact.cellPhone.phoneNumber, countryCode: '+91' } },
      });
      assert.equal(moved.statusCode, 200, moved.body);
      assert.equal(moved.json().cellPhone.phoneNumber, contact.cellPhone.phoneNumber);
    });

    it("names only the caller's own contact in a conflict, never another stream's", async () => {
      const fourth = await createTenant(store.store);
      const input = contactInput({ cellPhone: { phoneNumber: contact.cellPhone.phoneNumber, countryCode: '+91', extension: '+' } });
      const post = () => api.app.inject({ method: 'POST', url: `${fourth.base}/contacts`, headers: fourth.headers, payload: [input] });
      const holder = (await post()).json()[0];
      const res = await post();
      assert.equal(res.statusCode, 409);
      assert.equal(res.json().errors[0].id, holder.id);
      assert.ok(!res.body.includes(contact.id), res.body);
    });
  });
}
