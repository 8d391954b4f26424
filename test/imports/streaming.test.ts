import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { createImports, type Imports } from '../../src/imports/imports.js';
import { ValidationError } from '../../src/shared/errors.js';
import { createTenant, type Tenant } from '../helpers/app.js';
import { HEADER, phoneBlock } from '../helpers/imports.js';
import { createTestStore, DIALECTS, skipReason, type TestStore } from '../helpers/stores.js';
import type { RequestContext } from '../../src/shared/request-context.js';

// Where a synchronous run keeps its upload while the request runs it (src/imports/imports.ts).
const SCRATCH = path.join(os.tmpdir(), 'dialbook-sync-imports');
const OPTIONS = { onDuplicate: 'reject', atomic: false, dryRun: false } as const;

async function text(pieces: AsyncIterable<string | Buffer>): Promise<{ text: string; pieces: number }> {
  let all = '';
  let count = 0;
  for await (const piece of pieces) {
    all += piece.toString();
    count += 1;
  }
  return { text: all, pieces: count };
}

/** The upload's .part files in the scratch folder and their sizes. */
function partFiles(): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const name of fs.existsSync(SCRATCH) ? fs.readdirSync(SCRATCH) : []) {
    if (!name.endsWith('.part')) continue;
    const stat = fs.statSync(path.join(SCRATCH, name), { throwIfNoEntry: false });
    if (stat) sizes.set(name, stat.size);
  }
  return sizes;
}

for (const dialect of DIALECTS) {
  describe(`synchronous import of a large upload on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    let store: TestStore;
    let imports: Imports;

    before(async () => {
      store = await createTestStore(dialect);
      const config = loadConfig({ IMPORT_BATCH_ROWS: '1000', IMPORT_WORKERS: '0' });
      imports = createImports({ store: store.store, config, log: { warn() {}, info() {} } });
    });
    after(() => store?.destroy());

    async function tenantCtx(): Promise<{ tenant: Tenant; ctx: RequestContext }> {
      const tenant = await createTenant(store.store);
      return { tenant, ctx: { orgId: tenant.orgId, accountId: tenant.accountId, streamId: tenant.streamId, userId: tenant.userId, appId: tenant.appId } };
    }

    /** What the store still holds of a stream's synchronous runs: their records, and the failures kept for them. */
    async function runsLeft(streamId: string) {
      const runs = await store.store.db
        .selectFrom('import_jobs')
        .select(['id', 'kind', 'state', 'processed_rows', 'created_count', 'failed_count'])
        .where('stream_id', '=', streamId)
        .execute();
      const ids = runs.map((r) => r.id);
      const failures = ids.length
        ? Number((await store.store.db.selectFrom('import_failures').select((eb) => eb.fn.countAll<number>().as('n')).where('job_id', 'in', ids).executeTakeFirstOrThrow()).n)
        : 0;
      return {
        ids,
        failures,
        records: runs.map((r) => ({ kind: r.kind, state: r.state, processed: Number(r.processed_rows), created: Number(r.created_count), failed: Number(r.failed_count) })),
      };
    }

    const contactsOf = async (streamId: string) =>
      Number((await store.store.db.selectFrom('contacts').select((eb) => eb.fn.countAll<number>().as('n')).where('stream_id', '=', streamId).executeTakeFirstOrThrow()).n);

    it('reads the upload as it arrives, keeping on disk rather than in memory what came so far', async () => {
      const { ctx, tenant } = await tenantCtx();
      const rows = 30_000;
      const numbers = phoneBlock(rows);
      const before = partFiles();
      let sent = 0;
      let keptBeforeEnd = 0;
      async function* upload(): AsyncGenerator<Buffer> {
        yield Buffer.from(`${HEADER}\n`);
        for (let i = 0; i < rows; i += 500) {
          let chunk = '';
          for (let j = i; j < i + 500; j++) chunk += `First${j},Last${j},Mr,${numbers[j]},+91,+\n`;
          // The last chunk is still unsent: what is on disk now was written while the upload streamed.
          if (i + 500 >= rows) keptBeforeEnd = Math.max(0, ...[...partFiles()].filter(([name]) => !before.has(name)).map(([, size]) => size));
          sent += chunk.length;
          yield Buffer.from(chunk);
        }
      }
      const outcome = await imports.importCsv(ctx, upload(), OPTIONS);
      try {
        // Parser, decoder and stream buffers hold a few chunks at most, whatever the file's size.
        assert.ok(keptBeforeEnd >= sent - 256 * 1024 - 50_000, `only ${keptBeforeEnd} of ${sent} bytes were on disk before the upload ended`);
        assert.deepEqual(outcome.counts, { total: rows, created: rows, updated: 0, failed: 0 });
      } finally {
        await outcome.dispose();
      }
      assert.equal(await contactsOf(tenant.streamId), rows);
    });

    it('answers from files a piece at a time, in file order, and keeps only the run’s record once disposed', async () => {
      const { ctx, tenant } = await tenantCtx();
      const rows = 30_000;
      const numbers = phoneBlock(rows);
      // Every 1000th row has letters in its number.
      const bad = new Set(Array.from({ length: rows / 1000 }, (_, k) => k * 1000 + 999));
      async function* upload(): AsyncGenerator<Buffer> {
        yield Buffer.from(`${HEADER}\n`);
        for (let i = 0; i < rows; i += 500) {
          let chunk = '';
          for (let j = i; j < i + 500; j++) chunk += `First${j},Last${j},Mr,${bad.has(j) ? `98765abc${j}` : numbers[j]},+91,+\n`;
          yield Buffer.from(chunk);
        }
      }
      const outcome = await imports.importCsv(ctx, upload(), OPTIONS);
      const [run] = (await runsLeft(tenant.streamId)).ids;
      assert.ok(run, 'the run is recorded while its answer is being sent');
      try {
        assert.deepEqual(outcome.counts, { total: rows, created: rows - bad.size, updated: 0, failed: bad.size });
        const contacts = await text(outcome.contactsJson());
        assert.ok(contacts.pieces > 1, 'the contacts came as one piece');
        const parsed = JSON.parse(`[${contacts.text}]`) as { firstName: string }[];
        assert.equal(parsed.length, rows - bad.size);
        assert.deepEqual(parsed.slice(0, 3).map((c) => c.firstName), ['First0', 'First1', 'First2']);
        const succeeded = JSON.parse(`[${(await text(outcome.succeededJson())).text}]`) as { row: number; action: string }[];
        assert.deepEqual(succeeded.map((s) => s.row), [...Array(rows).keys()].filter((j) => !bad.has(j)).map((j) => j + 2));
        const failed = JSON.parse(`[${(await text(outcome.failedJson())).text}]`) as { row: number; errors: { field?: string }[] }[];
        assert.deepEqual(failed.map((f) => f.row), [...bad].map((j) => j + 2));
        assert.ok(failed.every((f) => f.errors[0]!.field === 'cellPhoneNumber'));
      } finally {
        await outcome.dispose();
      }
      assert.equal(await contactsOf(tenant.streamId), rows - bad.size);
      // The record of the run stays, with its counts, until IMPORT_RETENTION_DAYS; its failures were the answer.
      const left = await runsLeft(tenant.streamId);
      assert.deepEqual(left.ids, [run]);
      assert.deepEqual(left.records, [{ kind: 'sync', state: 'completed', processed: rows, created: rows - bad.size, failed: bad.size }]);
      assert.equal(left.failures, 0);
      assert.equal(fs.existsSync(path.join(SCRATCH, `${run}.csv`)), false, 'the upload is still in the scratch folder');
      assert.equal(fs.existsSync(path.join(SCRATCH, `${run}.answer`)), false, 'the pieces of the answer are still in the scratch folder');
    });

    it('keeps nothing of an upload refused as a whole, or of one whose connection dropped half way', async () => {
      const { ctx, tenant } = await tenantCtx();
      const before = partFiles();
      async function* missingColumn(): AsyncGenerator<Buffer> {
        yield Buffer.from('firstName,lastName\njohn,doe\n');
      }
      await assert.rejects(imports.importCsv(ctx, missingColumn(), OPTIONS), (error) => error instanceof ValidationError);
      const [n] = phoneBlock(1);
      async function* dropped(): AsyncGenerator<Buffer> {
        yield Buffer.from(`${HEADER}\njohn,doe,Mr,${n},+91,+\n`);
        throw new Error('the connection dropped');
      }
      await assert.rejects(imports.importCsv(ctx, dropped(), OPTIONS), /connection dropped/);
      assert.deepEqual(await runsLeft(tenant.streamId), { ids: [], failures: 0, records: [] });
      assert.equal(await contactsOf(tenant.streamId), 0);
      assert.deepEqual([...partFiles().keys()].filter((name) => !before.has(name)), []);
    });
  });
}
