import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contactInput, createTenant, useApiFixture, type Tenant } from '../helpers/app.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';

const codes = (body: { errors: { code: string }[] }) => body.errors.map((e) => e.code);

for (const dialect of DIALECTS) {
  describe(`Idempotency-Key on the contacts routes on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    const fx = useApiFixture(dialect);
    let serial = 0;
    const newKey = () => `contacts-${dialect}-${process.pid}-${++serial}`;

    const post = (body: unknown, key?: string, who: Tenant = fx.tenant) =>
      fx.api.app.inject({
        method: 'POST',
        url: `${who.base}/contacts`,
        headers: { ...who.headers, ...(key === undefined ? {} : { 'idempotency-key': key }) },
        payload: body as object,
      });
    const put = (id: string, body: unknown, key?: string) =>
      fx.api.app.inject({
        method: 'PUT',
        url: `${fx.tenant.base}/contacts/${id}`,
        headers: { ...fx.tenant.headers, ...(key === undefined ? {} : { 'idempotency-key': key }) },
        payload: body as object,
      });
    const holders = (phone: string, who: Tenant = fx.tenant) =>
      fx.store.store.db.selectFrom('contacts').select('id').where('stream_id', '=', who.streamId).where('phone_number', '=', `+91${phone}`).execute();

    it('creates once and replays the first answer byte for byte, marked Idempotent-Replayed', async () => {
      const key = newKey();
      const input = contactInput();
      const first = await post([input], key);
      const retry = await post([input], key);
      assert.equal(first.statusCode, 200);
      assert.equal(retry.statusCode, 200);
      assert.ok(retry.rawPayload.equals(first.rawPayload));
      assert.equal(retry.headers['content-type'], first.headers['content-type']);
      assert.equal(retry.headers['idempotent-replayed'], 'true');
      assert.equal(first.headers['idempotent-replayed'], undefined);
      assert.equal((await holders(input.cellPhone.phoneNumber)).length, 1);
    });

    it('replays a refusal too: a 409 stays the answer to its key after the number is freed', async () => {
      const taken = contactInput();
      const holder = (await post([taken])).json()[0];
      const key = newKey();
      const refused = await post([contactInput({ firstName: 'Jane', cellPhone: taken.cellPhone })], key);
      assert.equal(refused.statusCode, 409);
      // The holder moves to another number; without the key, the same request would now succeed.
      assert.equal((await put(holder.id, { cellPhone: contactInput().cellPhone })).statusCode, 200);
      const retry = await post([contactInput({ firstName: 'Jane', cellPhone: taken.cellPhone })], key);
      assert.equal(retry.statusCode, 409);
      assert.equal(retry.headers['idempotent-replayed'], 'true');
      assert.equal(retry.body, refused.body);
      // Not run again: nobody holds the freed number.
      assert.equal((await holders(taken.cellPhone.phoneNumber)).length, 0);
    });

    it('refuses the same key with a different body with 422 in the error shape, creating nothing', async () => {
      const key = newKey();
      await post([contactInput()], key);
      const other = contactInput();
      const res = await post([other], key);
      assert.equal(res.statusCode, 422);
      assert.deepEqual(codes(res.json()), ['IDEMPOTENCY_KEY_REUSED']);
      assert.equal((await holders(other.cellPhone.phoneNumber)).length, 0);
    });

    it('refuses the key of a create on an update with 422', async () => {
      const key = newKey();
      const created = (await post([contactInput()], key)).json()[0];
      const res = await put(created.id, { firstName: 'Changed' }, key);
      assert.equal(res.statusCode, 422);
      assert.deepEqual(codes(res.json()), ['IDEMPOTENCY_KEY_REUSED']);
    });

    it('takes a single object and the same object in an array as one request, as the route does', async () => {
      const key = newKey();
      const input = contactInput();
      const first = await post(input, key);
      const retry = await post([input], key);
      assert.equal(retry.headers['idempotent-replayed'], 'true');
      assert.ok(retry.rawPayload.equals(first.rawPayload));
    });

    it('replays an update without changing the contact again', async () => {
      const created = (await post([contactInput()])).json()[0];
      const key = newKey();
      const first = await put(created.id, { lastName: 'Once' }, key);
      assert.equal(first.statusCode, 200);
      // A change made meanwhile by someone else is not undone by the retry.
      assert.equal((await put(created.id, { lastName: 'Later' })).statusCode, 200);
      const retry = await put(created.id, { lastName: 'Once' }, key);
      assert.equal(retry.headers['idempotent-replayed'], 'true');
      assert.ok(retry.rawPayload.equals(first.rawPayload));
      const row = await fx.store.store.db.selectFrom('contacts').select('last_name').where('id', '=', created.id).executeTakeFirstOrThrow();
      assert.equal(row.last_name, 'Later');
    });

    it('keeps keys per account: another tenant with the same key creates its own contact', async () => {
      const other = await createTenant(fx.store.store);
      const key = newKey();
      const input = contactInput();
      const mine = await post([input], key);
      const theirs = await post([input], key, other);
      assert.equal(mine.statusCode, 200);
      assert.equal(theirs.statusCode, 200);
      assert.equal(theirs.headers['idempotent-replayed'], undefined);
      assert.notEqual(theirs.json()[0].id, mine.json()[0].id);
      assert.equal((await holders(input.cellPhone.phoneNumber, other)).length, 1);
    });

    it('refuses a key that is empty, too long or not printable ASCII with 400, creating nothing', async () => {
      for (const key of ['', 'k'.repeat(256), 'clé']) {
        const input = contactInput();
        const res = await post([input], key);
        assert.equal(res.statusCode, 400, JSON.stringify(key));
        assert.deepEqual(codes(res.json()), ['INVALID_IDEMPOTENCY_KEY']);
        assert.equal((await holders(input.cellPhone.phoneNumber)).length, 0);
      }
      const longest = await post([contactInput()], 'k'.repeat(255));
      assert.equal(longest.statusCode, 200);
    });

    it('does not claim a key for a body refused by parsing or the schema, before the route runs', async () => {
      const key = newKey();
      const unparsable = await fx.api.app.inject({
        method: 'POST',
        url: `${fx.tenant.base}/contacts`,
        headers: { ...fx.tenant.headers, 'idempotency-key': key, 'content-type': 'application/json' },
        payload: '[{"firstName":',
      });
      assert.equal(unparsable.statusCode, 400);
      assert.equal((await post(['not an object'], key)).statusCode, 400);
      const valid = await post([contactInput()], key);
      assert.equal(valid.statusCode, 200);
      assert.equal(valid.headers['idempotent-replayed'], undefined);
    });

    it('stores a refusal of the route itself (a missing field) and replays it', async () => {
      const key = newKey();
      const refused = await post([{ firstName: 'Only' }], key);
      assert.equal(refused.statusCode, 400);
      const retry = await post([{ firstName: 'Only' }], key);
      assert.equal(retry.statusCode, 400);
      assert.equal(retry.headers['idempotent-replayed'], 'true');
      assert.equal(retry.body, refused.body);
    });

    it('creates exactly one contact from 20 concurrent retries with one key; the rest wait (409) or get the replay', async () => {
      const key = newKey();
      const input = contactInput();
      const responses = await Promise.all(Array.from({ length: 20 }, () => post([input], key)));
      const statuses = responses.map((r) => `${r.statusCode}${r.headers['idempotent-replayed'] ? 'r' : ''}`);
      const fresh = responses.filter((r) => r.statusCode === 200 && !r.headers['idempotent-replayed']);
      assert.equal(fresh.length, 1, statuses.join(','));
      for (const res of responses) {
        if (res.statusCode === 409) assert.deepEqual(codes(res.json()), ['IDEMPOTENCY_KEY_IN_USE']);
        else {
          assert.equal(res.statusCode, 200, statuses.join(','));
          assert.ok(res.rawPayload.equals(fresh[0]!.rawPayload));
        }
      }
      assert.equal((await holders(input.cellPhone.phoneNumber)).length, 1);
      // Once it has finished, every retry gets the replay.
      assert.equal((await post([input], key)).headers['idempotent-replayed'], 'true');
    });
  });
}
