import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { contactInput, useApiFixture } from '../helpers/app.js';
import { csvOf, importsApi, injectSender, row } from '../helpers/imports.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';
import { sleep } from './outbox-helpers.js';
import { FAST_WEBHOOKS, startReceiver, type Receiver } from './receiver.js';

for (const dialect of DIALECTS) {
  describe(`webhook events of every write (${dialect})`, { skip: await skipReason(dialect) }, () => {
    const f = useApiFixture(dialect, { ...FAST_WEBHOOKS, IMPORT_POLL_MS: '20' });
    let receiver: Receiver;
    before(async () => {
      receiver = await startReceiver();
    });
    after(async () => receiver.close());
    const call = (method: string, url: string, payload?: unknown) =>
      f.api.app.inject({ method: method as 'GET', url: `${f.tenant.base}${url}`, headers: f.tenant.headers, ...(payload !== undefined && { payload: payload as object }) });

    test('a scripted sequence arrives whole, signed, in order per contact; an import sends one event; a refused write none', async () => {
      const ep = (await call('POST', '/webhooks', { url: receiver.url })).json();
      receiver.verifyWith(ep.secret);
      // Some first tries fail, so that order must survive retries.
      const tried = new Set<string>();
      receiver.answerWith((r) => {
        if (!tried.has(r.id) && tried.size % 3 === 0) {
          tried.add(r.id);
          return { status: 503 };
        }
        tried.add(r.id);
        return { status: 204 };
      });

      const created = (await call('POST', '/contacts', [contactInput({ firstName: 'A' }), contactInput({ firstName: 'B' })])).json() as { id: string; cellPhone: { phoneNumber: string } }[];
      const [a, b] = created as [(typeof created)[0], (typeof created)[0]];
      await call('PUT', `/contacts/${a.id}`, { firstName: 'A2' });
      await call('DELETE', `/contacts/${a.id}`);
      await call('POST', `/contacts/${a.id}/restore`);
      await call('PUT', '/contacts/bulk-update', [{ id: b.id, lastName: 'Bulk' }]);
      await f.api.app.inject({ method: 'DELETE', url: `${f.tenant.base}/contacts/bulk-delete`, headers: f.tenant.headers, payload: { ids: [b.id] } });
      await call('PUT', `/contacts/${a.id}`, { lastName: 'Last' });
      // All or nothing: one bad element, nothing created, nothing sent.
      const refused = await call('POST', '/contacts', [contactInput({ firstName: 'Never' }), { firstName: '' }]);
      assert.equal(refused.statusCode, 400);
      const jobs = importsApi(injectSender(f.api.app), f.tenant);
      const job = await jobs.submit(csvOf(['9' + String(Date.now()).slice(-9), '8' + String(Date.now()).slice(-9)].map((p) => row(p))));
      await jobs.finished(job.id);

      const expected = 2 + 6 + 1;
      await receiver.until((all) => new Set(all.filter((r) => r.status === 204).map((r) => r.id)).size === expected);
      await sleep(200);
      const delivered = receiver.received.filter((r) => r.status === 204);
      assert.equal(delivered.length, expected, 'each event delivered once');
      assert.ok(receiver.received.every((r) => r.verified), 'every request verifies with standardwebhooks');
      const of = (id: string) => delivered.filter((r) => r.event!.data.contact?.id === id).map((r) => r.event!.type);
      assert.deepEqual(of(a.id), ['contact.created', 'contact.updated', 'contact.deleted', 'contact.restored', 'contact.updated']);
      assert.deepEqual(of(b.id), ['contact.created', 'contact.updated', 'contact.deleted']);
      const aUpdate = delivered.find((r) => r.event!.data.contact?.id === a.id && r.event!.type === 'contact.updated')!;
      assert.deepEqual(aUpdate.event!.data.changes, { firstName: { from: 'A', to: 'A2' } });
      assert.equal(aUpdate.event!.data.contact.firstName, 'A2');
      assert.equal(aUpdate.event!.data.contact.cellPhone.phoneNumber, a.cellPhone.phoneNumber);
      const imports = delivered.filter((r) => r.event!.type.startsWith('import.'));
      assert.equal(imports.length, 1, 'one event for the whole import');
      assert.equal(imports[0]!.event!.type, 'import.completed');
      assert.equal(imports[0]!.event!.data.import.id, job.id);
      assert.equal(imports[0]!.event!.data.import.created, 2);
      assert.ok(!receiver.received.some((r) => r.body.includes('Never')));
    });
  });
}
