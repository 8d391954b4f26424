import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { contactInput, createTenant, useApiFixture } from '../helpers/app.js';
import { csvOf, importsApi, injectSender, phoneBlock, row } from '../helpers/imports.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';

for (const dialect of DIALECTS) {
  describe(`reverting an import (${dialect})`, { skip: await skipReason(dialect) }, () => {
    const f = useApiFixture(dialect, { WEBHOOK_WORKERS: '0', IMPORT_POLL_MS: '20' });
    const call = (method: string, url: string, payload?: unknown) =>
      f.api.app.inject({ method: method as 'GET', url: `${f.tenant.base}${url}`, headers: f.tenant.headers, ...(payload !== undefined && { payload: payload as object }) });
    const contact = async (id: string) => (await call('GET', `/contacts/${id}`)).json();

    test('after a mixed create/update import with one contact edited since: created ones INACTIVE, updated ones back, the edited one left alone and named', async () => {
      const before = [];
      for (let i = 0; i < 3; i++) before.push((await call('POST', '/contacts', [contactInput({ firstName: `Old${i}`, lastName: 'Before', salutation: 'Mr' })])).json()[0]);
      const national = (c: { cellPhone: { phoneNumber: string } }) => c.cellPhone.phoneNumber.slice(3);
      const fresh = [0, 1, 2].map((i) => `7${String(Date.now()).slice(-7)}${i}${i}`);
      const jobs = importsApi(injectSender(f.api.app), f.tenant);
      const job = await jobs.submit(
        csvOf([
          ...before.map((c, i) => row(national(c), { first: `New${i}`, last: 'After', salutation: 'Dr', ext: '9' })),
          ...fresh.map((p, i) => row(p, { first: `Created${i}` })),
        ]),
        { query: 'onDuplicate=update' },
      );
      const done = await jobs.finished(job.id);
      assert.equal(done.state, 'completed');
      assert.equal(done.created, 3);
      assert.equal(done.updated, 3);
      const createdIds: string[] = [];
      for (const p of fresh) createdIds.push((await call('GET', `/contacts?phoneNumber=%2B91${p}`)).json().results[0].id);
      // Edited since the import: an updated one and a created one.
      await call('PUT', `/contacts/${before[2].id}`, { firstName: 'Mine' });
      await call('PUT', `/contacts/${createdIds[2]}`, { lastName: 'Kept' });

      const reverted = await call('POST', `/contacts/imports/${job.id}/revert`);
      assert.equal(reverted.statusCode, 200, reverted.body);
      const body = reverted.json();
      assert.equal(body.state, 'reverted');
      assert.equal(body.revert.deactivated, 2);
      assert.equal(body.revert.restored, 2);
      assert.equal(body.revert.skipped, 2);
      assert.deepEqual([...body.revert.skippedIds].sort(), [before[2].id, createdIds[2]].sort());

      for (const i of [0, 1]) {
        const c = await contact(before[i].id);
        assert.equal(c.firstName, `Old${i}`);
        assert.equal(c.lastName, 'Before');
        assert.equal(c.salutation, 'Mr');
        assert.equal(c.cellPhone.extension, '+');
        assert.equal(c.status, 'ACTIVE');
        assert.equal((await contact(createdIds[i]!)).status, 'INACTIVE');
      }
      assert.equal((await contact(before[2].id)).firstName, 'Mine');
      assert.equal((await contact(before[2].id)).lastName, 'After');
      assert.equal((await contact(createdIds[2]!)).status, 'ACTIVE');

      // History shows the revert, with the import, as the caller's change.
      const [entry] = (await call('GET', `/contacts/${before[0].id}/history`)).json().results;
      assert.equal(entry.action, 'reverted');
      assert.equal(entry.importId, job.id);
      assert.equal(entry.userId, f.tenant.userId);
      assert.deepEqual(entry.changes.firstName, { from: 'New0', to: 'Old0' });
      const [gone] = (await call('GET', `/contacts/${createdIds[0]}/history`)).json().results;
      assert.equal(gone.action, 'reverted');
      assert.deepEqual(gone.changes, { status: { from: 'ACTIVE', to: 'INACTIVE' } });

      // Twice: nothing more changes.
      const again = await call('POST', `/contacts/imports/${job.id}/revert`);
      assert.equal(again.statusCode, 200);
      assert.deepEqual(again.json().revert, body.revert);
      assert.equal((await call('GET', `/contacts/${before[0].id}/history`)).json().results.length, 3);
      assert.equal((await jobs.job(job.id)).state, 'reverted');
    });

    test('of two imports of the same numbers: the first is left alone where the second changed it, the second gives the first its values back', async () => {
      const jobs = importsApi(injectSender(f.api.app), f.tenant);
      const phones = [0, 1, 2, 3].map((i) => `6${String(Date.now()).slice(-7)}${i}${i}`);
      const first = await jobs.submit(csvOf(phones.map((p, i) => row(p, { first: `First${i}` }))));
      assert.equal((await jobs.finished(first.id)).created, 4);
      const ids: string[] = [];
      for (const p of phones) ids.push((await call('GET', `/contacts?phoneNumber=%2B91${p}`)).json().results[0].id);
      // The second import updates contact 0; contact 1 is deleted by hand; 2 and 3 stay as the first import made them.
      const second = await jobs.submit(csvOf([row(phones[0]!, { first: 'Second0' })]), { query: 'onDuplicate=update' });
      assert.equal((await jobs.finished(second.id)).updated, 1);
      assert.equal((await call('DELETE', `/contacts/${ids[1]}`)).statusCode, 200);

      const undoSecond = (await call('POST', `/contacts/imports/${second.id}/revert`)).json();
      assert.deepEqual([undoSecond.revert.deactivated, undoSecond.revert.restored, undoSecond.revert.skipped], [0, 1, 0]);
      assert.equal((await contact(ids[0]!)).firstName, 'First0');

      const undoFirst = (await call('POST', `/contacts/imports/${first.id}/revert`)).json();
      assert.equal(undoFirst.state, 'reverted');
      assert.equal(undoFirst.revert.deactivated, 2);
      assert.equal(undoFirst.revert.restored, 0);
      assert.deepEqual([...undoFirst.revert.skippedIds].sort(), [ids[0], ids[1]].sort());
      assert.deepEqual(await Promise.all(ids.map(async (id) => (await contact(id)).status)), ['ACTIVE', 'INACTIVE', 'INACTIVE', 'INACTIVE']);
      const history = (await call('GET', `/contacts/${ids[2]}/history`)).json().results;
      assert.deepEqual(history.map((e: { action: string; importId?: string }) => [e.action, e.importId]), [['reverted', first.id], ['imported', first.id]]);
      assert.deepEqual(history[1].changes.firstName, { from: null, to: 'First2' });
    });

    test('of an import among more contacts than one step of the revert looks at: exactly its contacts become INACTIVE', async () => {
      const jobs = importsApi(injectSender(f.api.app), f.tenant);
      // 1,400 contacts in the stream, the reverted import's in the middle: its contacts fall into two of the revert's
      // 500-contact steps, and the steps before and after hold other imports' untouched contacts.
      const [a, b, c] = [700, 400, 300].map((n) => phoneBlock(n));
      const ids: string[] = [];
      for (const phones of [a!, b!, c!]) {
        const job = await jobs.submit(csvOf(phones.map((p) => row(p))));
        assert.equal((await jobs.finished(job.id)).created, phones.length);
        ids.push(job.id);
      }
      const active = await jobs.contactCount();
      const reverted = await call('POST', `/contacts/imports/${ids[1]}/revert`);
      assert.equal(reverted.statusCode, 200, reverted.body);
      assert.equal(reverted.json().revert.deactivated, 400);
      assert.equal(await jobs.contactCount(), active - 400);
      const statusOf = async (phone: string) => (await call('GET', `/contacts?status=all&phoneNumber=%2B91${phone}`)).json().results.map((r: { status: string }) => r.status);
      for (const phone of [b![0]!, b![199]!, b![399]!]) assert.deepEqual(await statusOf(phone), ['INACTIVE']);
      for (const phone of [a![699]!, c![0]!, c![299]!]) assert.deepEqual(await statusOf(phone), ['ACTIVE']);
    });

    test("another tenant's import is 404; an unknown one too", async () => {
      const jobs = importsApi(injectSender(f.api.app), f.tenant);
      const job = await jobs.submit(csvOf([row(`6${String(Date.now()).slice(-9)}`)]));
      await jobs.finished(job.id);
      const other = await createTenant(f.store.store);
      const r = await f.api.app.inject({ method: 'POST', url: `${other.base}/contacts/imports/${job.id}/revert`, headers: other.headers });
      assert.equal(r.statusCode, 404);
      assert.equal(r.json().errors[0].code, 'IMPORT_NOT_FOUND');
      assert.equal((await call('POST', '/contacts/imports/0123456789abcdef01234567/revert')).statusCode, 404);
    });
  });
}
