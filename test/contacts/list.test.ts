import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DIALECTS, skipReason } from '../helpers/stores.js';
import { blankId, contactsFixture, MISSING_ID, type ContactJson } from './contacts-fixture.js';

const ids = (contacts: { id: string }[]) => contacts.map((c) => c.id);

for (const dialect of DIALECTS) {
  describe(`GET /contacts and GET /contacts/{id} on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    const fx = contactsFixture(dialect);

    it('answers the vendor envelope, ten contacts by default, oldest first', async () => {
      const t = await fx.freshTenant();
      const created = await fx.create(Array.from({ length: 12 }, () => ({})), t);
      const page = await fx.list('', t);
      assert.deepEqual(ids(page.results), ids(created).slice(0, 10));
      assert.equal(page.skip, 0);
      assert.equal(page.limit, 10);
      assert.equal(page.hasMore, true);
      assert.equal(page.totalPages, 2);
      assert.equal(page.totalResults, 12);
      assert.equal(typeof page.nextCursor, 'string');
      assert.deepEqual(page.results[0], created[0]);

      const last = await fx.list('skip=10', t);
      assert.deepEqual(ids(last.results), ids(created).slice(10));
      assert.equal(last.skip, 10);
      assert.equal(last.hasMore, false);
      assert.equal(last.nextCursor, undefined);
      assert.equal(last.totalResults, 12);

      const beyond = await fx.list('skip=50&limit=3', t);
      assert.deepEqual(beyond.results, []);
      assert.equal(beyond.totalPages, 4);
    });

    it('refuses a limit above 100 or under 1, a skip out of range, and unknown status or sort values', async () => {
      for (const query of ['limit=101', 'limit=0', 'skip=-1', 'skip=1e300', 'skip=1000000001', 'limit=ten', 'limit=1.5', 'status=deleted', 'sort=firstName']) {
        const res = await fx.call('GET', `?${query}`);
        assert.equal(res.statusCode, 400, `${query}: ${res.body}`);
        assert.equal(res.json().errors[0].code, 'INVALID_FIELD', query);
      }
      assert.equal((await fx.list('limit=100')).limit, 100);
    });

    it('pages by cursor from first to last, each contact once, without totals after the first page', async () => {
      const t = await fx.freshTenant();
      const created = await fx.create(Array.from({ length: 12 }, () => ({})), t);
      const first = await fx.list('limit=5', t);
      const seen = ids(first.results);
      let cursor = first.nextCursor;
      let pages = 1;
      while (cursor) {
        const page = await fx.list(`limit=5&after=${cursor}`, t);
        assert.equal(page.totalResults, undefined);
        assert.equal(page.totalPages, undefined);
        assert.equal(page.skip, undefined);
        seen.push(...ids(page.results));
        cursor = page.nextCursor;
        pages += 1;
        assert.equal(page.hasMore, cursor !== undefined);
      }
      assert.equal(pages, 3);
      assert.deepEqual(seen, ids(created));
    });

    it('refuses skip with after, a cursor made for another sort or filter, and a cursor it never made', async () => {
      const t = await fx.freshTenant();
      await fx.create([{}, {}, {}], t);
      const { nextCursor } = await fx.list('limit=1', t);
      assert.ok(nextCursor);
      const withSkip = await fx.call('GET', `?limit=1&skip=2&after=${nextCursor}`, undefined, t);
      assert.equal(withSkip.statusCode, 400);
      assert.equal(withSkip.json().errors[0].code, 'SKIP_WITH_CURSOR');
      assert.equal((await fx.list(`limit=1&skip=0&after=${nextCursor}`, t)).results.length, 1);
      for (const query of [`sort=-createdAt&after=${nextCursor}`, `status=all&after=${nextCursor}`, `q=zed&after=${nextCursor}`]) {
        const res = await fx.call('GET', `?${query}`, undefined, t);
        assert.equal(res.statusCode, 400, query);
        assert.equal(res.json().errors[0].code, 'CURSOR_MISMATCH', query);
      }
      const forged = Buffer.from(JSON.stringify({ f: 'x', k: 'DROP TABLE', i: 'nope' })).toString('base64url');
      for (const after of ['not-a-cursor', forged, '%00', '']) {
        const res = await fx.call('GET', `?after=${after}`, undefined, t);
        assert.equal(res.statusCode, 400, after);
        assert.equal(res.json().errors[0].code, 'INVALID_CURSOR', after);
      }
    });

    it('sorts by lastName ignoring case and accents, by -lastName in reverse, ties by id', async () => {
      const t = await fx.freshTenant();
      const [zola, alvarez, brownA, brownB] = await fx.create(
        [{ firstName: 'Émile', lastName: 'Zola' }, { firstName: 'Anna', lastName: 'ÁLVAREZ' }, { firstName: 'Bob', lastName: 'brown' }, { firstName: 'Amy', lastName: 'Brown' }],
        t,
      );
      const ascending = [alvarez!, brownA!, brownB!, zola!];
      assert.deepEqual(ids((await fx.list('sort=lastName', t)).results), ids(ascending));
      assert.deepEqual(ids((await fx.list('sort=-lastName', t)).results), ids(ascending).reverse());
      // Across pages by cursor, too.
      const first = await fx.list('sort=-lastName&limit=3', t);
      const rest = await fx.list(`sort=-lastName&limit=3&after=${first.nextCursor}`, t);
      assert.deepEqual([...ids(first.results), ...ids(rest.results)], ids(ascending).reverse());
    });

    it('sorts by createdAt descending and by updatedAt', async () => {
      const t = await fx.freshTenant();
      const created = await fx.create([{}, {}, {}], t);
      assert.deepEqual(ids((await fx.list('sort=-createdAt', t)).results), ids(created).reverse());
      const res = await fx.call('PUT', `/${created[0]!.id}`, { salutation: 'Dr' }, t);
      assert.equal(res.statusCode, 200, res.body);
      const byUpdate = ids((await fx.list('sort=updatedAt', t)).results);
      assert.equal(byUpdate[2], created[0]!.id);
      assert.equal(ids((await fx.list('sort=-updatedAt', t)).results)[0], created[0]!.id);
    });

    it('lists ACTIVE contacts by default, INACTIVE ones on request, and all of them in one order', async () => {
      const t = await fx.freshTenant();
      const created = await fx.create(Array.from({ length: 7 }, () => ({})), t);
      for (const i of [1, 4]) assert.equal((await fx.call('DELETE', `/${created[i]!.id}`, undefined, t)).statusCode, 200);
      const active = created.filter((_, i) => i !== 1 && i !== 4);
      const inactive = [created[1]!, created[4]!];
      const byDefault = await fx.list('', t);
      assert.deepEqual(ids(byDefault.results), ids(active));
      assert.equal(byDefault.totalResults, 5);
      assert.deepEqual(ids((await fx.list('status=ACTIVE', t)).results), ids(active));
      const onlyInactive = await fx.list('status=INACTIVE', t);
      assert.deepEqual(ids(onlyInactive.results), ids(inactive));
      assert.ok(onlyInactive.results.every((c) => c.status === 'INACTIVE'));
      const all = await fx.list('status=all', t);
      assert.deepEqual(ids(all.results), ids(created));
      assert.equal(all.totalResults, 7);
      // Offset pages and cursor pages over both statuses keep the one order.
      assert.deepEqual(ids((await fx.list('status=all&skip=3&limit=2', t)).results), ids(created).slice(3, 5));
      const walked: string[] = [];
      let page = await fx.list('status=all&limit=2&sort=-createdAt', t);
      for (;;) {
        walked.push(...ids(page.results));
        if (!page.nextCursor) break;
        page = await fx.list(`status=all&limit=2&sort=-createdAt&after=${page.nextCursor}`, t);
      }
      assert.deepEqual(walked, ids(created).reverse());
    });

    it('finds a contact by the number calling, typed nationally with countryCode or internationally with or without +', async () => {
      const t = await fx.freshTenant();
      const [target] = await fx.create([{ cellPhone: { phoneNumber: '98765 43210', countryCode: '+91', extension: '1' } }, {}], t);
      for (const query of [
        'phoneNumber=98765%2043210&countryCode=%2B91',
        'phoneNumber=9876543210&countryCode=91',
        'phoneNumber=%2B919876543210',
        'phoneNumber=919876543210',
        // A + left unencoded in a query string arrives as a space.
        'phoneNumber=+919876543210',
        'phoneNumber=+91%2098765-43210&countryCode=+91',
      ]) {
        const page = await fx.list(query, t);
        assert.deepEqual(ids(page.results), [target!.id], query);
        assert.equal(page.totalResults, 1, query);
      }
      assert.deepEqual((await fx.list('phoneNumber=%2B919876543211', t)).results, []);
    });

    it('answers control characters in q and names with a 2xx or a 400, never a 5xx', async () => {
      for (const query of ['q=%00', 'q=a%00b', 'q=%01', 'q=%ED%A0%80', 'q=%F4%8F%BF%BF']) {
        assert.equal((await fx.call('GET', `?${query}`)).statusCode, 200, query);
        assert.equal((await fx.call('GET', `/export?${query}`)).statusCode, 200, query);
      }
      const nul = await fx.call('POST', '', [{ firstName: 'a\u0000b', lastName: 'L', salutation: 'S', cellPhone: { phoneNumber: '9876512399', countryCode: '+91', extension: '1' } }]);
      assert.equal(nul.statusCode, 400, nul.body);
      assert.equal(nul.json().errors[0].field, 'firstName');
      const [c] = await fx.create([{ firstName: 'Tab\tbed' }]);
      assert.ok((await fx.list('q=tab%20bed')).results.some((r) => r.id === c!.id));
    });

    it('refuses a phone number it cannot read, naming the parameter', async () => {
      for (const [query, field] of [['phoneNumber=abc', 'phoneNumber'], ['phoneNumber=123&countryCode=%2B999', 'countryCode'], ['countryCode=%2B91', 'phoneNumber']] as const) {
        const res = await fx.call('GET', `?${query}`);
        assert.equal(res.statusCode, 400, `${query}: ${res.body}`);
        assert.equal(res.json().errors[0].field, field, query);
      }
    });

    it('finds an INACTIVE holder of a number and the new ACTIVE one', async () => {
      const t = await fx.freshTenant();
      const number = { phoneNumber: '9876501234', countryCode: '+91', extension: '1' };
      const [old] = await fx.create([{ firstName: 'Old', cellPhone: number }], t);
      assert.equal((await fx.call('DELETE', `/${old!.id}`, undefined, t)).statusCode, 200);
      const [fresh] = await fx.create([{ firstName: 'New', cellPhone: number }], t);
      assert.deepEqual(ids((await fx.list('phoneNumber=%2B919876501234', t)).results), [fresh!.id]);
      assert.deepEqual(ids((await fx.list('phoneNumber=%2B919876501234&status=INACTIVE', t)).results), [old!.id]);
      assert.deepEqual(ids((await fx.list('phoneNumber=%2B919876501234&status=all', t)).results), [old!.id, fresh!.id]);
    });

    it('searches names by prefix of the first, last or full name, ignoring case and accents', async () => {
      const t = await fx.freshTenant();
      const [jose, josephine, mary, anna] = await fx.create(
        [
          { firstName: 'José', lastName: 'Álvarez' },
          { firstName: 'JOSEPHINE', lastName: 'Baker' },
          { firstName: 'Mary', lastName: 'Joseph' },
          { firstName: 'Anna', lastName: 'Smith' },
        ],
        t,
      );
      const find = async (q: string) => ids((await fx.list(`q=${encodeURIComponent(q)}&limit=100`, t)).results);
      assert.deepEqual(await find('jose'), ids([jose!, josephine!, mary!]));
      assert.deepEqual(await find('JOSÉ'), ids([jose!, josephine!, mary!]));
      assert.deepEqual(await find('alv'), [jose!.id]);
      assert.deepEqual(await find('ÁLVAREZ'), [jose!.id]);
      assert.deepEqual(await find('jose alv'), [jose!.id]);
      assert.deepEqual(await find('  José   Álvarez '), [jose!.id]);
      assert.deepEqual(await find('mary jo'), [mary!.id]);
      assert.deepEqual(await find('smi'), [anna!.id]);
      // Prefixes only: not the middle of a name, not last name first.
      assert.deepEqual(await find('ose'), []);
      assert.deepEqual(await find('alvarez jose'), []);
      // A blank q filters nothing.
      assert.equal((await find('   ')).length, 4);
      // Combined with the other filters.
      assert.deepEqual(ids((await fx.list(`q=jose&phoneNumber=${encodeURIComponent(mary!.cellPhone.phoneNumber)}`, t)).results), [mary!.id]);
      const page = await fx.list('q=jose&limit=2&sort=lastName', t);
      assert.deepEqual(ids(page.results), [jose!.id, josephine!.id]);
      assert.equal(page.totalResults, 3);
      assert.deepEqual(ids((await fx.list(`q=jose&limit=2&sort=lastName&after=${page.nextCursor}`, t)).results), [mary!.id]);
    });

    it('keeps names searchable after an update and finds them under the new name only', async () => {
      const t = await fx.freshTenant();
      const [c] = await fx.create([{ firstName: 'Zoë', lastName: 'Quinn' }], t);
      assert.equal((await fx.call('PUT', `/${c!.id}`, { lastName: 'Ñúñez' }, t)).statusCode, 200);
      assert.deepEqual(ids((await fx.list('q=nunez', t)).results), [c!.id]);
      assert.deepEqual(ids((await fx.list('q=zoe%20nu', t)).results), [c!.id]);
      assert.deepEqual((await fx.list('q=quinn', t)).results, []);
      assert.deepEqual(ids((await fx.list('sort=lastName', t)).results), [c!.id]);
    });

    it('finds contacts an import created, and under their new names those an import updated', async () => {
      const t = await fx.freshTenant();
      const [held] = await fx.create([{ firstName: 'Old', lastName: 'Name' }], t);
      const held91 = held!.cellPhone.phoneNumber;
      const csv = [
        'firstName,lastName,salutation,cellPhoneNumber,cellPhoneCountryCode,cellPhoneExtension',
        `Renée,Lévesque,Ms,9876512345,+91,1`,
        `Fresh,Ñame,Mx,${held91},+91,2`,
      ].join('\n');
      const res = await fx.api.app.inject({
        method: 'POST',
        url: `${t.base}/contacts/import-contacts?onDuplicate=update`,
        headers: { ...t.headers, 'content-type': 'text/csv' },
        payload: csv,
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual((await fx.list('q=rene', t)).results.map((c) => c.fullName), ['Renée Lévesque']);
      assert.deepEqual(ids((await fx.list('q=levesque', t)).results).length, 1);
      assert.deepEqual(ids((await fx.list('q=fresh%20name', t)).results), [held!.id]);
      assert.deepEqual((await fx.list('q=old', t)).results, []);
      assert.deepEqual((await fx.list('sort=lastName', t)).results.map((c) => c.lastName), ['Lévesque', 'Ñame']);
    });

    it("shows one stream's contacts only, in lists and lookups", async () => {
      const [mine] = await fx.create([{ firstName: 'Isolde' }]);
      const theirs = await fx.list(`q=isolde&status=all&phoneNumber=${encodeURIComponent(mine!.cellPhone.phoneNumber)}`, fx.other);
      assert.deepEqual(theirs.results, []);
      assert.equal(theirs.totalResults, 0);
      assert.ok(!ids((await fx.list('status=all&limit=100', fx.other)).results).includes(mine!.id));
    });

    it('answers GET /contacts/{id} with the contact, ACTIVE or INACTIVE', async () => {
      const [c] = await fx.create();
      const res = await fx.call('GET', `/${c!.id}`);
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json(), c);
      await fx.call('DELETE', `/${c!.id}`);
      const after = await fx.call('GET', `/${c!.id}`);
      assert.equal(after.statusCode, 200);
      assert.equal((after.json() as ContactJson).status, 'INACTIVE');
    });

    it("answers a foreign, unknown or malformed id with the same 404 as a missing one", async () => {
      const [c] = await fx.create();
      const missing = await fx.call('GET', `/${MISSING_ID}`, undefined, fx.other);
      const foreign = await fx.call('GET', `/${c!.id}`, undefined, fx.other);
      assert.equal(missing.statusCode, 404);
      assert.equal(foreign.statusCode, 404);
      assert.equal(missing.json().errors[0].code, 'CONTACT_NOT_FOUND');
      assert.deepEqual(blankId(foreign.body, c!.id), blankId(missing.body, MISSING_ID));
      for (const id of ['abc', c!.id.toUpperCase(), 'bulk-delete', `${c!.id}0`]) {
        const res = await fx.call('GET', `/${id}`);
        assert.equal(res.statusCode, 404, id);
        assert.deepEqual(blankId(res.body, id), blankId(missing.body, MISSING_ID), id);
      }
    });
  });
}
