import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contactInput, uniquePhone, useApiFixture } from '../helpers/app.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';

for (const dialect of DIALECTS) {
  describe(`concurrent writes of one number on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    const fx = useApiFixture(dialect);

    const activeHolders = (phoneNumber: string) =>
      fx.store.store.db
        .selectFrom('contacts')
        .select('id')
        .where('stream_id', '=', fx.tenant.streamId)
        .where('phone_number', '=', phoneNumber)
        .where('status', '=', 'ACTIVE')
        .execute();

    it('lets exactly one of 50 concurrent creates of one number succeed; the other 49 get 409 naming it', async () => {
      const number = uniquePhone();
      const responses = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          fx.api.app.inject({
            method: 'POST',
            url: `${fx.tenant.base}/contacts`,
            headers: fx.tenant.headers,
            payload: [contactInput({ firstName: `Caller${i}`, cellPhone: { phoneNumber: number, countryCode: '+91', extension: '+' } })],
          }),
        ),
      );
      const statuses = responses.map((r) => r.statusCode);
      const won = responses.filter((r) => r.statusCode >= 200 && r.statusCode < 300);
      assert.equal(won.length, 1, `statuses: ${statuses.join(',')}`);
      assert.equal(statuses.filter((s) => s === 409).length, 49, `statuses: ${statuses.join(',')}`);
      const winner = won[0]!.json()[0];
      for (const res of responses.filter((r) => r.statusCode === 409)) {
        assert.deepEqual(res.json().errors.map((e: { code: string; id: string }) => [e.code, e.id]), [['PHONE_TAKEN', winner.id]]);
      }
      assert.deepEqual(await activeHolders(`+91${number}`), [{ id: winner.id }]);
    });

    it('lets exactly one of 20 concurrent updates moving different contacts onto one number succeed', async () => {
      const created = await fx.api.app.inject({
        method: 'POST',
        url: `${fx.tenant.base}/contacts`,
        headers: fx.tenant.headers,
        payload: Array.from({ length: 20 }, () => contactInput()),
      });
      assert.equal(created.statusCode, 200, created.body);
      const contacts = created.json() as { id: string; cellPhone: { phoneNumber: string } }[];
      const target = uniquePhone();
      const responses = await Promise.all(
        contacts.map((c) =>
          fx.api.app.inject({
            method: 'PUT',
            url: `${fx.tenant.base}/contacts/${c.id}`,
            headers: fx.tenant.headers,
            payload: { cellPhone: { phoneNumber: target, countryCode: '+91' } },
          }),
        ),
      );
      const statuses = responses.map((r) => r.statusCode);
      assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses.join(',')}`);
      assert.equal(statuses.filter((s) => s === 409).length, 19, `statuses: ${statuses.join(',')}`);
      const winner = responses.find((r) => r.statusCode === 200)!.json();
      for (const res of responses.filter((r) => r.statusCode === 409)) {
        assert.equal(res.json().errors[0].id, winner.id);
      }
      assert.deepEqual(await activeHolders(`+91${target}`), [{ id: winner.id }]);
      // The losers kept their own numbers.
      for (const c of contacts.filter((c) => c.id !== winner.id)) {
        assert.deepEqual(await activeHolders(c.cellPhone.phoneNumber), [{ id: c.id }]);
      }
    });

    it('gives exactly one contact a number that creates and updates race for at once', async () => {
      const movers = (await fx.api.app.inject({
        method: 'POST',
        url: `${fx.tenant.base}/contacts`,
        headers: fx.tenant.headers,
        payload: Array.from({ length: 10 }, () => contactInput()),
      })).json() as { id: string }[];
      const target = uniquePhone();
      const cellPhone = { phoneNumber: target, countryCode: '+91', extension: '+' };
      const responses = await Promise.all([
        ...movers.map((c) => fx.api.app.inject({ method: 'PUT', url: `${fx.tenant.base}/contacts/${c.id}`, headers: fx.tenant.headers, payload: { cellPhone } })),
        ...movers.map(() => fx.api.app.inject({ method: 'POST', url: `${fx.tenant.base}/contacts`, headers: fx.tenant.headers, payload: [contactInput({ cellPhone })] })),
      ]);
      const statuses = responses.map((r) => r.statusCode);
      assert.equal(statuses.filter((s) => s === 200).length, 1, `statuses: ${statuses.join(',')}`);
      assert.equal(statuses.filter((s) => s === 409).length, 19, `statuses: ${statuses.join(',')}`);
      assert.equal((await activeHolders(`+91${target}`)).length, 1);
    });
  });
}
