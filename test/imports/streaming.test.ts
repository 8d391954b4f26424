import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createImportService } from '../../src/imports/import.service.js';
import { createTenant, type Tenant } from '../helpers/app.js';
import { createTestStore, DIALECTS, skipReason, type TestStore } from '../helpers/stores.js';
import type { RequestContext } from '../../src/auth/authenticator.js';

const HEADER = 'firstName,lastName,salutation,cellPhoneNumber,cellPhoneCountryCode,cellPhoneExtension\n';

for (const dialect of DIALECTS) {
  describe(`import pipeline on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    let store: TestStore;
    let tenant: Tenant;
    let ctx: RequestContext;

    before(async () => {
      store = await createTestStore(dialect);
      tenant = await createTenant(store.store);
      ctx = { orgId: tenant.orgId, accountId: tenant.accountId, streamId: tenant.streamId, userId: tenant.userId, appId: tenant.appId };
    });
    after(() => store?.destroy());

    const stagedRows = async () =>
      Number((await store.store.db.selectFrom('import_rows').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

    it('writes rows to the store while the upload is still arriving, and keeps none of them once answered', async () => {
      const rows = 30_000;
      // Rows between the socket and the store: parser queue, one batch, stream buffers. Bounded, whatever the file size.
      const inFlight = 10_000;
      let stagedBeforeEnd = 0;
      async function* upload(): AsyncGenerator<Buffer> {
        yield Buffer.from(HEADER);
        for (let i = 0; i < rows; i += 500) {
          let chunk = '';
          for (let j = i; j < i + 500; j++) chunk += `First${j},Last${j},Mr,9${String(100_000_000 + j)},+91,+\n`;
          yield Buffer.from(chunk);
        }
        // The last chunk is still unsent: whatever is staged now was written while streaming.
        stagedBeforeEnd = await stagedRows();
      }
      const service = createImportService({ store: store.store, limits: { maxBytes: 10 * 1024 * 1024, maxRows: 100_000 } });
      const outcome = await service.importCsv(ctx, upload(), { onDuplicate: 'reject', atomic: false, dryRun: false });
      assert.ok(stagedBeforeEnd >= rows - inFlight, `only ${stagedBeforeEnd} of ${rows} rows were staged before the upload ended`);
      assert.deepEqual(outcome.counts, { total: rows, created: rows, updated: 0, failed: 0 });
      let seen = 0;
      for await (const _ of outcome.succeeded()) seen++;
      assert.equal(seen, rows);
      await outcome.dispose();
      assert.equal(await stagedRows(), 0);
      const contacts = await store.store.db.selectFrom('contacts').select((eb) => eb.fn.countAll().as('n')).where('stream_id', '=', tenant.streamId).executeTakeFirstOrThrow();
      assert.equal(Number(contacts.n), rows);
    });
  });
}
