import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createTenant, useApiFixture } from '../helpers/app.js';
import { csvOf, importsApi, injectSender, phoneBlock, row, type JobJson } from '../helpers/imports.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';

for (const dialect of DIALECTS) {
  describe(`import progress as server-sent events on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    const f = useApiFixture(dialect, { IMPORT_BATCH_ROWS: '1000' });

    it('sends the job each time it changes, in order, and ends the stream with the finished job', async () => {
      const imports = importsApi(injectSender(f.api.app), f.tenant);
      const job = await imports.submit(csvOf(phoneBlock(5000).map((p) => row(p))));
      const res = await f.api.app.inject({ method: 'GET', url: `${f.tenant.base}/contacts/imports/${job.id}/events`, headers: f.tenant.headers });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^text\/event-stream/);
      const events = res.body.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => JSON.parse(e.slice(6)) as JobJson);
      assert.ok(events.length >= 1);
      const last = events[events.length - 1]!;
      assert.equal(last.state, 'completed');
      assert.equal(last.processedRows, 5000);
      assert.equal(last.created, 5000);
      for (let i = 1; i < events.length; i++) assert.ok(events[i]!.processedRows >= events[i - 1]!.processedRows, 'rows only grow');
      assert.deepEqual(last, await imports.job(job.id));
    });

    it("answers 404 in the error shape for another tenant's job and for an unknown one", async () => {
      const imports = importsApi(injectSender(f.api.app), f.tenant);
      const job = await imports.submit(csvOf(phoneBlock(3).map((p) => row(p))));
      const other = await createTenant(f.store.store);
      const foreign = await f.api.app.inject({ method: 'GET', url: `${other.base}/contacts/imports/${job.id}/events`, headers: other.headers });
      assert.equal(foreign.statusCode, 404);
      assert.ok(Array.isArray(foreign.json().errors));
      const unknown = await f.api.app.inject({ method: 'GET', url: `${f.tenant.base}/contacts/imports/${'0'.repeat(24)}/events`, headers: f.tenant.headers });
      assert.equal(unknown.statusCode, 404);
      assert.equal(unknown.json().errors[0].code, 'IMPORT_NOT_FOUND');
    });
  });
}
