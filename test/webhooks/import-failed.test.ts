import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildTestApp, createTenant, type Tenant, type TestApp } from '../helpers/app.js';
import { csvOf, eventually, importsApi, injectSender, phoneBlock, row } from '../helpers/imports.js';
import { createTestStore, DIALECTS, skipReason, type TestStore } from '../helpers/stores.js';
import { FAST_WEBHOOKS, startReceiver, type Receiver } from './receiver.js';

interface DeliveryJson {
  id: string;
  type: string;
  state: string;
  attempts: number;
}

for (const dialect of DIALECTS) {
  describe(`import.failed (${dialect})`, { skip: await skipReason(dialect) }, () => {
    let store: TestStore;
    let tenant: Tenant;
    let receiver: Receiver;
    // One instance takes uploads only (IMPORT_WORKERS=0); the job runs on the other, once its upload is gone.
    let front: TestApp;
    let worker: TestApp | undefined;

    before(async () => {
      store = await createTestStore(dialect);
      front = await buildTestApp(store.store, { ...FAST_WEBHOOKS, IMPORT_WORKERS: '0' });
      await front.app.ready();
      tenant = await createTenant(store.store);
      receiver = await startReceiver();
    });
    after(async () => {
      await worker?.close();
      await front?.close();
      await receiver?.close();
      await store?.destroy();
    });

    test('a job whose kept upload is lost before it runs ends failed and sends one signed import.failed naming it and its error', async () => {
      const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
        front.app.inject({ method, url: `${tenant.base}${url}`, headers: tenant.headers, ...(payload && { payload }) });
      // Every event type: an event per row, or an import.completed, would arrive here too.
      const endpoint = (await call('POST', '/webhooks', { url: receiver.url })).json<{ id: string; secret: string }>();
      receiver.verifyWith(endpoint.secret);
      const jobs = importsApi(injectSender(front.app), tenant);
      const job = await jobs.submit(csvOf(phoneBlock(20).map((n) => row(n))));
      assert.equal((await jobs.job(job.id)).state, 'queued');

      // Lost outside the service while the job waits: a volume not restored, a folder or table cleared by hand.
      if (store.url.kind === 'sqlite') {
        const dir = `${path.resolve(store.url.file)}-uploads`;
        const kept = fs.readdirSync(dir).filter((name) => name.startsWith(job.id));
        assert.equal(kept.length, 1, `the upload kept in ${dir}`);
        for (const name of kept) fs.rmSync(path.join(dir, name));
      } else {
        const removed = await store.store.db.deleteFrom('import_files').where('job_id', '=', job.id).executeTakeFirst();
        assert.ok(Number(removed.numDeletedRows) > 0, 'the upload kept in import_files');
      }
      worker = await buildTestApp(store.store, { ...FAST_WEBHOOKS, IMPORT_POLL_MS: '20' });
      await worker.app.ready();

      const done = await jobs.finished(job.id);
      assert.equal(done.state, 'failed', JSON.stringify(done));
      assert.deepEqual(done.error, { msg: `The upload of import ${job.id} is no longer kept; upload the file again`, code: 'UPLOAD_MISSING' });
      assert.deepEqual([done.totalRows, done.processedRows, done.created], [20, 0, 0]);

      // The job's event and its delivery are written in the transaction that ended the job: listed as soon as it is failed.
      const listed = async () => (await call('GET', `/webhooks/${endpoint.id}/deliveries`)).json<{ results: DeliveryJson[] }>().results;
      assert.deepEqual((await listed()).map((d) => d.type), ['import.failed'], 'one event for the whole import');
      const deliveries = await eventually('the delivery is delivered', async () => {
        const page = await listed();
        return page[0]?.state === 'delivered' && page;
      });
      assert.deepEqual(deliveries.map((d) => [d.type, d.state, d.attempts]), [['import.failed', 'delivered', 1]]);
      // Delivered once, and nothing else is due: the receiver has had all it will get.
      assert.equal(receiver.received.length, 1, JSON.stringify(receiver.received.map((r) => r.event?.type)));
      const [got] = receiver.received;
      assert.ok(got!.verified, 'signed: verifies with standardwebhooks');
      assert.equal(got!.id, deliveries[0]!.id);
      assert.equal(got!.event!.type, 'import.failed');
      // The job as GET /contacts/imports/{id} answers it, its error an entry as in {"errors": [...]}.
      assert.deepEqual(got!.event!.data, { import: done });
      assert.ok(!receiver.received.some((r) => r.event?.type === 'import.completed'));
    });
  });
}
