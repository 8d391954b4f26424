import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createTenant, type Tenant } from '../helpers/app.js';
import { activeNumbers, contactsOfImport, csvOf, eventually, fetchSender, importsApi, phoneBlock, row, type JobJson } from '../helpers/imports.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { createTestStore, skipReason, type TestStore } from '../helpers/stores.js';

const LEASE_SECONDS = 2;

describe('import jobs on two instances sharing one PostgreSQL', { skip: await skipReason('postgres') }, () => {
  let store: TestStore;
  let databaseUrl: string;
  const servers = new Set<ServerProcess>();

  before(async () => {
    store = await createTestStore('postgres');
    if (store.url.kind !== 'postgres') throw new Error('these tests need PostgreSQL');
    databaseUrl = store.url.url;
  });
  after(async () => {
    await Promise.all([...servers].map((s) => s.kill()));
    await store?.destroy();
  });

  async function instance(env: Record<string, string> = {}): Promise<ServerProcess> {
    const server = await startServerProcess({
      DATABASE_URL: databaseUrl, RATE_LIMIT_PER_MINUTE: '0', IMPORT_LEASE_SECONDS: String(LEASE_SECONDS), IMPORT_BATCH_ROWS: '200',
      IMPORT_POLL_MS: '50', PG_POOL_SIZE: '4', ...env,
    });
    servers.add(server);
    return server;
  }
  async function stopAll(): Promise<void> {
    await Promise.all([...servers].map((s) => s.kill()));
    servers.clear();
  }

  async function assertEveryRowOnce(tenant: Tenant, numbers: string[]) {
    const held = await activeNumbers(store.store, tenant.streamId);
    assert.equal(held.rows, numbers.length, 'contacts of the stream');
    assert.equal(held.distinct, numbers.length, 'distinct ACTIVE numbers');
    for (const n of numbers) assert.equal(held.byNumber.get(`+91${n}`), 1, `+91${n}`);
  }

  it('lets the other instance finish a job whose instance was killed mid-job, each row applied once, none lost', async () => {
    const tenant = await createTenant(store.store);
    const numbers = phoneBlock(20_000);
    const a = await instance({ IMPORT_BATCH_ROWS: '100' });
    // B only takes uploads for now, so the job is A's.
    const b = await instance({ IMPORT_WORKERS: '0' });
    const onA = importsApi(fetchSender(a.url), tenant);
    const onB = importsApi(fetchSender(b.url), tenant);
    const submitted = await onA.submit(csvOf(numbers.map((n) => row(n))));
    // Watched in the store itself, which is quicker to see than through a server on a loaded machine.
    await eventually('A committed its first batch', async () => {
      const job = await store.store.db.selectFrom('import_jobs').select('processed_rows').where('id', '=', submitted.id).executeTakeFirstOrThrow();
      return Number(job.processed_rows) > 0;
    }, 30_000, 5);
    await a.kill();
    servers.delete(a);
    // Followed from the other instance: the job is the store's, not the process's.
    const atKill = await onB.job(submitted.id);
    assert.ok(atKill.processedRows > 0 && atKill.processedRows < numbers.length, `killed at ${atKill.processedRows}`);
    assert.equal(atKill.state, 'running');

    // B restarted with a worker takes the job over once A's lease runs out.
    await b.kill();
    servers.delete(b);
    const b2 = await instance();
    const done = await importsApi(fetchSender(b2.url), tenant).finished(submitted.id, { timeoutMs: 60_000, intervalMs: 50 });
    assert.deepEqual(
      [done.state, done.totalRows, done.processedRows, done.created, done.updated, done.failed],
      ['completed', numbers.length, numbers.length, numbers.length, 0, 0],
    );
    assert.ok(done.processedRows >= atKill.processedRows);
    await assertEveryRowOnce(tenant, numbers);
    assert.equal(await contactsOfImport(store.store, submitted.id), numbers.length);
    await stopAll();
  });

  it('runs each of several queued jobs exactly once when both instances have workers', async () => {
    const [a, b] = await Promise.all([instance(), instance()]);
    const tenant = await createTenant(store.store);
    const files = Array.from({ length: 6 }, () => phoneBlock(1500));
    const jobs: JobJson[] = [];
    // Submitted to either instance in turn, faster than one worker gets through them.
    for (const [i, numbers] of files.entries()) {
      const api = importsApi(fetchSender((i % 2 === 0 ? a : b).url), tenant);
      jobs.push(await api.submit(csvOf(numbers.map((n) => row(n)))));
    }
    const api = importsApi(fetchSender(a.url), tenant);
    for (const [i, job] of jobs.entries()) {
      const done = await api.finished(job.id, { timeoutMs: 60_000, intervalMs: 50 });
      assert.deepEqual(
        [done.state, done.totalRows, done.processedRows, done.created, done.updated, done.failed],
        ['completed', 1500, 1500, 1500, 0, 0],
        `job ${i}`,
      );
      assert.equal(await contactsOfImport(store.store, job.id), 1500, `contacts of job ${i}`);
    }
    await assertEveryRowOnce(tenant, files.flat());
    const listed = (await importsApi(fetchSender(b.url), tenant).list()).json<{ results: JobJson[] }>();
    assert.deepEqual(listed.results.map((j) => j.id).sort(), jobs.map((j) => j.id).sort());
    await stopAll();
  });

  it('lists the stream’s jobs newest first whichever instance took their uploads', async () => {
    // Upload-only instances: the jobs stay queued, which is all a listing needs.
    const [a, b] = await Promise.all([instance({ IMPORT_WORKERS: '0' }), instance({ IMPORT_WORKERS: '0' })]);
    const tenant = await createTenant(store.store);
    const submitted: JobJson[] = [];
    for (const [i, n] of phoneBlock(6).entries()) {
      submitted.push(await importsApi(fetchSender((i % 2 === 0 ? a : b).url), tenant).submit(csvOf([row(n)])));
    }
    const listed = (await importsApi(fetchSender(a.url), tenant).list()).json<{ results: JobJson[] }>();
    assert.deepEqual(
      listed.results.map((j) => `${j.id} ${j.createdAt}`),
      [...submitted].reverse().map((j) => `${j.id} ${j.createdAt}`),
    );
    await stopAll();
  });
});
