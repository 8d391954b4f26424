import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { openStore } from '../../src/db/database.js';
import { buildTestApp, contactInput, createTenant, type Tenant, type TestApp } from '../helpers/app.js';
import { createTestStore, DIALECTS, skipReason, type TestStore } from '../helpers/stores.js';

interface ErrorEntry {
  msg: string;
  code: string;
  field?: string;
  index?: number;
}

/** The contract's failure body: `{"errors":[{msg, code, …}]}` and nothing else, never a 5xx. */
function errorsOf(res: LightMyRequestResponse, status: number): ErrorEntry[] {
  assert.equal(res.statusCode, status, res.body);
  assert.match(String(res.headers['content-type']), /^application\/json/);
  const body = res.json();
  assert.deepEqual(Object.keys(body), ['errors']);
  assert.ok(Array.isArray(body.errors) && body.errors.length > 0, res.body);
  for (const e of body.errors as ErrorEntry[]) {
    assert.equal(typeof e.msg, 'string');
    assert.equal(typeof e.code, 'string');
  }
  return body.errors;
}

/** What a 5xx must never show: a stack, a file of the service, or the SQL it ran. */
function assertNothingInternal(body: string): void {
  assert.doesNotMatch(body, /\n\s+at |\.ts:\d+|\.js:\d+|node_modules|stack/i, body);
  assert.doesNotMatch(body, /\b(select|insert|update|delete)\b.*\b(from|into|set)\b|"contacts"|no such table|relation|sqlite|postgres|pool|driver|kysely/i, body);
}

for (const dialect of DIALECTS) {
  describe(`error answers on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    let store: TestStore;
    let api: TestApp;
    let tenant: Tenant;
    const MAX_CONTACTS = 5;
    const BODY_LIMIT = 4096;

    before(async () => {
      store = await createTestStore(dialect);
      api = await buildTestApp(store.store, { MAX_CONTACTS_PER_REQUEST: String(MAX_CONTACTS), BODY_LIMIT_BYTES: String(BODY_LIMIT) });
      tenant = await createTenant(store.store);
    });
    after(async () => {
      await api?.close();
      await store?.destroy();
    });

    const raw = (payload: string, contentType: string, method: 'POST' | 'PUT' = 'POST', path = '/contacts') =>
      api.app.inject({ method, url: `${tenant.base}${path}`, headers: { ...tenant.headers, 'content-type': contentType }, payload });

    it('answers malformed JSON with 400', async () => {
      for (const body of ['{"firstName": ', '[{]', 'not json', '[{"firstName": "x",}]']) {
        const [error] = errorsOf(await raw(body, 'application/json'), 400);
        assert.equal(error?.code, 'INVALID_JSON', body);
      }
      errorsOf(await raw('{"firstName": ', 'application/json', 'PUT', '/contacts/0123456789abcdef01234567'), 400);
    });

    it('answers an empty JSON body with 400', async () => {
      errorsOf(await raw('', 'application/json'), 400);
    });

    it('answers a body that is not JSON with 415', async () => {
      const json = JSON.stringify([contactInput()]);
      for (const type of ['text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'application/xml', 'text/csv']) {
        const [error] = errorsOf(await raw(json, type), 415);
        assert.equal(error?.code, 'UNSUPPORTED_MEDIA_TYPE', type);
      }
      errorsOf(await raw(JSON.stringify({ firstName: 'X' }), 'text/plain', 'PUT', '/contacts/0123456789abcdef01234567'), 415);
      // Nothing was created by any of them.
      const n = await store.store.db.selectFrom('contacts').select((eb) => eb.fn.countAll().as('n')).where('stream_id', '=', tenant.streamId).executeTakeFirstOrThrow();
      assert.equal(Number(n.n), 0);
    });

    it('accepts JSON with a charset parameter', async () => {
      const res = await raw(JSON.stringify([contactInput()]), 'application/json;charset=UTF-8');
      assert.equal(res.statusCode, 200, res.body);
    });

    it('answers a body over BODY_LIMIT_BYTES with 413', async () => {
      const big = [contactInput({ firstName: 'x'.repeat(BODY_LIMIT) })];
      const [error] = errorsOf(await raw(JSON.stringify(big), 'application/json'), 413);
      assert.equal(error?.code, 'BODY_TOO_LARGE');
    });

    it('answers more than MAX_CONTACTS_PER_REQUEST contacts with 413', async () => {
      const body = Array.from({ length: MAX_CONTACTS + 1 }, () => contactInput());
      const [error] = errorsOf(await raw(JSON.stringify(body), 'application/json'), 413);
      assert.equal(error?.code, 'TOO_MANY_CONTACTS');
      const atLimit = await raw(JSON.stringify(Array.from({ length: MAX_CONTACTS }, () => contactInput())), 'application/json');
      assert.equal(atLimit.statusCode, 200, atLimit.body);
    });

    it('answers an empty array with 400', async () => {
      errorsOf(await raw('[]', 'application/json'), 400);
    });

    it('answers null and scalars with 400', async () => {
      for (const body of ['null', '"John"', '42', 'true', '[null]', '[42]']) errorsOf(await raw(body, 'application/json'), 400);
    });

    it('names the field and index of a value of the wrong type', async () => {
      const body = [contactInput(), contactInput({ firstName: { first: 'John' } })];
      const errors = errorsOf(await raw(JSON.stringify(body), 'application/json'), 400);
      assert.ok(errors.some((e) => e.field === 'firstName' && e.index === 1), JSON.stringify(errors));
      const nested = [contactInput({ cellPhone: { phoneNumber: ['98'], countryCode: '+91', extension: {} } })];
      const nestedErrors = errorsOf(await raw(JSON.stringify(nested), 'application/json'), 400);
      assert.ok(nestedErrors.some((e) => e.field === 'cellPhone.extension' && e.index === 0), JSON.stringify(nestedErrors));
      const notObject = [contactInput({ cellPhone: 'nine eight' })];
      const notObjectErrors = errorsOf(await raw(JSON.stringify(notObject), 'application/json'), 400);
      assert.ok(notObjectErrors.some((e) => e.field === 'cellPhone' && e.index === 0), JSON.stringify(notObjectErrors));
    });

    it('answers an unknown route with 404 in the error shape', async () => {
      const [error] = errorsOf(await api.app.inject({ method: 'GET', url: '/nowhere' }), 404);
      assert.equal(error?.code, 'ROUTE_NOT_FOUND');
      errorsOf(await api.app.inject({ method: 'POST', url: `${tenant.base}/nowhere`, headers: tenant.headers, payload: {} }), 404);
      errorsOf(await api.app.inject({ method: 'DELETE', url: `${tenant.base}/contacts`, headers: tenant.headers }), 404);
    });

    it('answers /healthz and /readyz with 200', async () => {
      assert.equal((await api.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
      const ready = await api.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 200);
      assert.deepEqual(ready.json(), { status: 'ready' });
    });

    it('answers odd requests with a 4xx, never a 5xx', async () => {
      const cases = [
        api.app.inject({ method: 'POST', url: `${tenant.base}/contacts`, headers: { ...tenant.headers, 'content-type': 'application/json' }, payload: '\u0000\u0001' }),
        api.app.inject({ method: 'POST', url: `${tenant.base}/contacts`, headers: { ...tenant.headers, 'content-type': 'application/json' }, payload: '{"__proto__": {"x": 1}}' }),
        api.app.inject({ method: 'POST', url: `${tenant.base}/contacts`, headers: { ...tenant.headers, 'content-type': 'application/json' }, payload: JSON.stringify([{ constructor: { prototype: {} } }]) }),
        api.app.inject({ method: 'PUT', url: `${tenant.base}/contacts/${'f'.repeat(24)}`, headers: { ...tenant.headers, 'content-type': 'application/json' }, payload: '{"cellPhone": null}' }),
        api.app.inject({ method: 'PUT', url: `${tenant.base}/contacts/%E0%A4%A`, headers: tenant.headers, payload: { firstName: 'X' } }),
        api.app.inject({ method: 'GET', url: '/%E0%A4%A' }),
        api.app.inject({ method: 'PUT', url: `${tenant.base}/contacts/${'a'.repeat(500)}`, headers: tenant.headers, payload: { firstName: 'X' } }),
        api.app.inject({ method: 'POST', url: `${tenant.base}/contacts`, headers: tenant.headers }),
        api.app.inject({ method: 'PUT', url: `${tenant.base}/contacts/${'f'.repeat(24)}`, headers: tenant.headers }),
        api.app.inject({ method: 'POST', url: `/agentassist/api/v1/public/${'s'.repeat(5000)}/contacts`, headers: tenant.headers, payload: [contactInput()] }),
        api.app.inject({ method: 'POST', url: `${tenant.base}/contacts`, headers: { ...tenant.headers, 'content-type': 'application/json', 'content-length': 'abc' }, payload: '[]' }),
        api.app.inject({ method: 'POST', url: `${tenant.base}/contacts`, headers: { ...tenant.headers, 'content-type': 'application/json' }, payload: JSON.stringify([contactInput({ firstName: 'x'.repeat(300) })]) }),
      ];
      for (const res of await Promise.all(cases)) {
        assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${res.statusCode}: ${res.body}`);
        errorsOf(res, res.statusCode);
      }
    });
  });

  describe(`internal failures on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    let store: TestStore;

    before(async () => {
      store = await createTestStore(dialect);
    });
    after(async () => {
      await store?.destroy();
    });

    it('answers 5xx without a stack trace or SQL when the store is closed under the app', async (t) => {
      // A second handle on the same database, so that closing it leaves the test store's own handle intact.
      const handle = openStore(store.url);
      const api = await buildTestApp(handle);
      t.after(() => api.close());
      const tenant = await createTenant(store.store);
      assert.equal((await api.app.inject({ method: 'POST', url: `${tenant.base}/contacts`, headers: tenant.headers, payload: [contactInput()] })).statusCode, 200);
      await handle.close();

      const res = await api.app.inject({ method: 'POST', url: `${tenant.base}/contacts`, headers: tenant.headers, payload: [contactInput()] });
      assert.ok(res.statusCode >= 500 && res.statusCode < 600, `${res.statusCode}: ${res.body}`);
      errorsOf(res, res.statusCode);
      assertNothingInternal(res.body);

      const ready = await api.app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 503);
      assertNothingInternal(ready.body);
    });

    it('answers 500 without a stack trace or SQL when a query fails', async (t) => {
      const api = await buildTestApp(store.store);
      t.after(() => api.close());
      const tenant = await createTenant(store.store);
      await sql`drop table contacts`.execute(store.store.db);

      const res = await api.app.inject({ method: 'POST', url: `${tenant.base}/contacts`, headers: tenant.headers, payload: [contactInput()] });
      const [error] = errorsOf(res, 500);
      assert.equal(error?.code, 'INTERNAL');
      assertNothingInternal(res.body);
      const put = await api.app.inject({ method: 'PUT', url: `${tenant.base}/contacts/${'a'.repeat(24)}`, headers: tenant.headers, payload: { firstName: 'X' } });
      errorsOf(put, 500);
      assertNothingInternal(put.body);
    });
  });
}
