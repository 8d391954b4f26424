import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createTenant, useApiFixture } from '../helpers/app.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';

for (const dialect of DIALECTS) {
  describe(`webhook endpoints (${dialect})`, { skip: await skipReason(dialect) }, () => {
    const f = useApiFixture(dialect, { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_WORKERS: '0' });
    const call = (method: string, url: string, payload?: unknown, headers = f.tenant.headers) =>
      f.api.app.inject({ method: method as 'GET', url: `${f.tenant.base}${url}`, headers, ...(payload !== undefined && { payload: payload as object }) });

    test('creates an endpoint for every event by default, showing its whsec_ secret only then', async () => {
      const created = await call('POST', '/webhooks', { url: 'http://127.0.0.1:9/hook', description: 'dialer' });
      assert.equal(created.statusCode, 201, created.body);
      const body = created.json();
      assert.match(body.secret, /^whsec_[A-Za-z0-9+/=]{40,}$/);
      assert.deepEqual(body.events, ['contact.created', 'contact.updated', 'contact.deleted', 'contact.restored', 'import.completed', 'import.failed']);
      assert.equal(body.disabled, false);
      assert.equal(body.description, 'dialer');
      const got = await call('GET', `/webhooks/${body.id}`);
      assert.equal(got.statusCode, 200);
      assert.equal(got.json().secret, undefined);
      assert.equal(got.json().url, 'http://127.0.0.1:9/hook');
      const listed = (await call('GET', '/webhooks')).json();
      assert.ok(listed.results.some((e: { id: string; secret?: string }) => e.id === body.id && e.secret === undefined));
    });

    test('changes events, url and description, disables and enables, and removes', async () => {
      const { id } = (await call('POST', '/webhooks', { url: 'http://127.0.0.1:9/a', events: ['contact.created'] })).json();
      const patched = await call('PATCH', `/webhooks/${id}`, { events: ['contact.deleted', 'import.completed'], url: 'http://127.0.0.1:9/b', description: 'crm', disabled: true });
      assert.equal(patched.statusCode, 200, patched.body);
      assert.deepEqual(patched.json().events, ['contact.deleted', 'import.completed']);
      assert.equal(patched.json().url, 'http://127.0.0.1:9/b');
      assert.equal(patched.json().disabled, true);
      const all = await call('PATCH', `/webhooks/${id}`, { events: null, disabled: false });
      assert.equal(all.json().events.length, 6);
      assert.equal(all.json().disabled, false);
      assert.equal((await call('DELETE', `/webhooks/${id}`)).statusCode, 200);
      assert.equal((await call('GET', `/webhooks/${id}`)).statusCode, 404);
    });

    test('refuses an unknown event type, a non-http URL and an empty one with 400 naming the field', async () => {
      const unknown = await call('POST', '/webhooks', { url: 'http://127.0.0.1:9/a', events: ['contact.exploded'] });
      assert.equal(unknown.statusCode, 400);
      const ftp = await call('POST', '/webhooks', { url: 'ftp://127.0.0.1/a' });
      assert.equal(ftp.statusCode, 400);
      assert.equal(ftp.json().errors[0].code, 'INVALID_WEBHOOK_URL');
      assert.equal(ftp.json().errors[0].field, 'url');
      assert.equal((await call('POST', '/webhooks', { url: 'not a url' })).json().errors[0].code, 'INVALID_WEBHOOK_URL');
    });

    test('rotating the secret answers a new one and when the old one stops signing', async () => {
      const created = (await call('POST', '/webhooks', { url: 'http://127.0.0.1:9/a' })).json();
      const rotated = await call('POST', `/webhooks/${created.id}/rotate-secret`);
      assert.equal(rotated.statusCode, 200, rotated.body);
      assert.match(rotated.json().secret, /^whsec_/);
      assert.notEqual(rotated.json().secret, created.secret);
      assert.ok(Date.parse(rotated.json().previousSecretExpiresAt) > Date.now() + 3600_000);
    });

    test("another tenant's endpoint, and its deliveries, are 404", async () => {
      const { id } = (await call('POST', '/webhooks', { url: 'http://127.0.0.1:9/a' })).json();
      const other = await createTenant(f.store.store);
      for (const [method, path] of [['GET', `/webhooks/${id}`], ['PATCH', `/webhooks/${id}`], ['DELETE', `/webhooks/${id}`], ['POST', `/webhooks/${id}/rotate-secret`], ['GET', `/webhooks/${id}/deliveries`], ['POST', `/webhooks/${id}/deliveries/replay`]] as const) {
        const r = await f.api.app.inject({ method, url: `${other.base}${path}`, headers: other.headers, ...(method === 'PATCH' && { payload: { description: 'x' } }) });
        assert.equal(r.statusCode, 404, `${method} ${path}: ${r.body}`);
        assert.equal(r.json().errors[0].code, 'WEBHOOK_NOT_FOUND');
      }
      const listed = (await f.api.app.inject({ method: 'GET', url: `${other.base}/webhooks`, headers: other.headers })).json();
      assert.deepEqual(listed.results, []);
    });
  });
}

describe('webhook targets without WEBHOOK_ALLOW_PRIVATE_TARGETS', () => {
  const f = useApiFixture('sqlite', { WEBHOOK_WORKERS: '0' });
  for (const url of ['http://127.0.0.1:8080/hook', 'http://localhost/hook', 'http://10.1.2.3/hook', 'http://192.168.0.1/', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/hook', 'http://[::ffff:127.0.0.1]/hook', 'http://0.0.0.0/']) {
    test(`refuses ${url} with 400`, async () => {
      const r = await f.api.app.inject({ method: 'POST', url: `${f.tenant.base}/webhooks`, headers: f.tenant.headers, payload: { url } });
      assert.equal(r.statusCode, 400, r.body);
      assert.equal(r.json().errors[0].code, 'INVALID_WEBHOOK_URL');
    });
  }
  test('refuses a private URL set by PATCH too', async () => {
    // A public address literal: accepted without a lookup (nothing is sent, the worker is off).
    const { id } = (await f.api.app.inject({ method: 'POST', url: `${f.tenant.base}/webhooks`, headers: f.tenant.headers, payload: { url: 'https://93.184.215.14/hook' } })).json();
    const r = await f.api.app.inject({ method: 'PATCH', url: `${f.tenant.base}/webhooks/${id}`, headers: f.tenant.headers, payload: { url: 'http://127.0.0.1/x' } });
    assert.equal(r.statusCode, 400);
  });
});
