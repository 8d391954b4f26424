import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { before, describe, test } from 'node:test';
import { createDialbookClient, type DialbookClient } from '../../clients/typescript/src/index.js';
import { contactInput, useApiFixture } from '../helpers/app.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';

// The client against a real server: the app listening on a port of loopback, called over HTTP.
for (const dialect of DIALECTS) {
  describe(`the typed client (${dialect})`, { skip: await skipReason(dialect) }, () => {
    const f = useApiFixture(dialect, { WEBHOOK_ALLOW_PRIVATE_TARGETS: 'true', WEBHOOK_WORKERS: '0' });
    let client: DialbookClient;
    let path: { streamId: string };
    before(async () => {
      await f.api.app.listen({ host: '127.0.0.1', port: 0 });
      const { port } = f.api.app.server.address() as AddressInfo;
      client = createDialbookClient({ baseUrl: `http://127.0.0.1:${port}`, token: f.tenant.token, accountId: f.tenant.accountId });
      path = { streamId: f.tenant.streamId };
    });

    test('creates, reads, updates and lists contacts, typed end to end', async () => {
      const input = contactInput({ firstName: 'Typed' });
      const created = await client.POST('/agentassist/api/v1/public/{streamId}/contacts', { params: { path }, body: [input] });
      assert.equal(created.response.status, 200, JSON.stringify(created.error));
      const id = created.data![0]!.id!;
      const got = await client.GET('/agentassist/api/v1/public/{streamId}/contacts/{id}', { params: { path: { ...path, id } } });
      assert.equal(got.data!.firstName, 'Typed');
      const updated = await client.PUT('/agentassist/api/v1/public/{streamId}/contacts/{id}', { params: { path: { ...path, id } }, body: { lastName: 'Client' } });
      assert.equal(updated.data!.lastName, 'Client');
      const listed = await client.GET('/agentassist/api/v1/public/{streamId}/contacts', { params: { path, query: { limit: 5 } } });
      assert.ok(listed.data!.results!.some((c) => c.id === id));
    });

    test("answers the contract's error body as `error`", async () => {
      const missing = await client.GET('/agentassist/api/v1/public/{streamId}/contacts/{id}', { params: { path: { ...path, id: '0123456789abcdef01234567' } } });
      assert.equal(missing.response.status, 404);
      assert.equal(missing.error!.errors[0]!.code, 'CONTACT_NOT_FOUND');
      const bad = createDialbookClient({ baseUrl: `http://127.0.0.1:${(f.api.app.server.address() as AddressInfo).port}`, token: 'nope', accountId: f.tenant.accountId });
      const refused = await bad.GET('/agentassist/api/v1/public/{streamId}/contacts', { params: { path } });
      assert.equal(refused.response.status, 401);
    });

    test('manages a webhook endpoint and reads a contact’s history', async () => {
      const hook = await client.POST('/agentassist/api/v1/public/{streamId}/webhooks', { params: { path }, body: { url: 'http://127.0.0.1:9/hook', events: ['contact.created'] } });
      assert.equal(hook.response.status, 201);
      assert.match(hook.data!.secret!, /^whsec_/);
      const listed = await client.GET('/agentassist/api/v1/public/{streamId}/webhooks', { params: { path } });
      assert.ok(listed.data!.results.some((e) => e.id === hook.data!.id));
      const created = await client.POST('/agentassist/api/v1/public/{streamId}/contacts', { params: { path }, body: [contactInput()] });
      const id = created.data![0]!.id!;
      const history = await client.GET('/agentassist/api/v1/public/{streamId}/contacts/{id}/history', { params: { path: { ...path, id } } });
      assert.equal(history.response.status, 200);
      assert.equal(history.data!.results[0]!.action, 'created');
      const deliveries = await client.GET('/agentassist/api/v1/public/{streamId}/webhooks/{id}/deliveries', { params: { path: { ...path, id: hook.data!.id } } });
      assert.equal(deliveries.data!.results[0]!.type, 'contact.created');
    });
  });
}
