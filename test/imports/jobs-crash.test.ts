import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createTenant } from '../helpers/app.js';
import { cliJson } from '../cli/run-cli.js';
import {
  activeNumbers, contactsOfImport, csvOf, eventually, fetchSender, importsApi, phoneBlock, row, sleep, type ImportsApi, type JobJson, type TenantLike,
} from '../helpers/imports.js';
import { startServerProcess, type ServerProcess } from '../helpers/server-process.js';
import { createTestStore, DIALECTS, skipReason, type TestStore } from '../helpers/stores.js';
import { loadConfig } from '../../src/config/config.js';
import { createImports } from '../../src/imports/imports.js';
import { createImportJobRepository } from '../../src/imports/import-job.repository.js';
import { createImportRunner } from '../../src/imports/import-runner.js';
import { createPostgresImportStore } from '../../src/imports/import-store.postgres.js';
import { createSqliteImportStore } from '../../src/imports/import-store.sqlite.js';

const LEASE_SECONDS = 2;
const BATCH_ROWS = 200;

/** What `dialbook setup --json` prints, as a tenant the helpers can use. */
async function setupTenant(databaseUrl: string): Promise<TenantLike & { streamId: string }> {
  const ids = await cliJson<{ accountId: string; streamId: string; token: string }>(['setup', '--json'], databaseUrl);
  return { streamId: ids.streamId, headers: { auth: ids.token, accountId: ids.accountId }, base: `/agentassist/api/v1/public/${ids.streamId}` };
}

/**
 * A file of `count` rows: fresh numbers, every 500th row invalid, and the last `repeats` rows repeating the numbers
 * of the first ones, so that a job resumed after a crash must still know which numbers the file had before it.
 */
function fileOf(count: number, repeats = 0) {
  const numbers = phoneBlock(count - repeats);
  const rows: string[] = [];
  let invalid = 0;
  numbers.forEach((n, i) => {
    if ((i + 1) % 500 === 0) {
      invalid += 1;
      rows.push(row(`98765abc${i}`));
    } else rows.push(row(n, { first: `First${i}`, last: `Last${i}` }));
  });
  const repeated: { line: number; first: number }[] = [];
  for (let i = 0; i < repeats; i++) {
    rows.push(row(numbers[i]!, { first: 'Again' }));
    repeated.push({ line: rows.length + 1, first: i + 2 });
  }
  const good = numbers.filter((_, i) => (i + 1) % 500 !== 0);
  return { csv: csvOf(rows), total: count, good, invalid, repeated };
}

for (const dialect of DIALECTS) {
  describe(`import jobs across kill -9 on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    let store: TestStore;
    let databaseUrl: string;
    let server: ServerProcess | undefined;

    before(async () => {
      store = await createTestStore(dialect);
      databaseUrl = store.url.kind === 'sqlite' ? `sqlite:${store.url.file}` : store.url.url;
    });
    after(async () => {
      await server?.kill();
      await store?.destroy();
    });

    /** A server process on the test's store: leases of two seconds, batches of 200 rows, small polls. */
    async function start(env: Record<string, string> = {}): Promise<ServerProcess> {
      // One server at a time: a test's restarted server must not take the next test's jobs.
      await server?.kill();
      server = await startServerProcess({
        DATABASE_URL: databaseUrl, RATE_LIMIT_PER_MINUTE: '0', IMPORT_LEASE_SECONDS: String(LEASE_SECONDS), IMPORT_BATCH_ROWS: String(BATCH_ROWS),
        IMPORT_POLL_MS: '50', PG_POOL_SIZE: '4', ...env,
      });
      return server;
    }
    const apiOn = (s: ServerProcess, tenant: TenantLike) => importsApi(fetchSender(s.url), tenant);

    const jobInStore = (id: string) =>
      store.store.db.selectFrom('import_jobs').select(['state', 'processed_rows', 'created_count', 'failed_count']).where('id', '=', id).executeTakeFirstOrThrow();
    const stateInStore = async (id: string) => (await jobInStore(id)).state;
    /** Watches the job's row in the store itself, which is quicker to see than through the server under load. */
    const untilInStore = (id: string, what: string, done: (job: Awaited<ReturnType<typeof jobInStore>>) => boolean) =>
      eventually(what, async () => done(await jobInStore(id)), 30_000, 5);

    async function newTenant(): Promise<TenantLike & { streamId: string }> {
      return createTenant(store.store);
    }

    /** After the restart: the job ran to its end exactly once, every good row a contact, every number once. */
    async function assertAppliedOnce(api: ImportsApi, id: string, file: ReturnType<typeof fileOf>, streamId: string): Promise<JobJson> {
      const done = await api.finished(id, { timeoutMs: 60_000, intervalMs: 50 });
      const failed = file.invalid + file.repeated.length;
      assert.deepEqual(
        { state: done.state, totalRows: done.totalRows, processedRows: done.processedRows, created: done.created, updated: done.updated, failed: done.failed },
        { state: 'completed', totalRows: file.total, processedRows: file.total, created: file.good.length, updated: 0, failed },
      );
      const held = await activeNumbers(store.store, streamId);
      assert.equal(held.rows, held.distinct, 'two ACTIVE contacts share a number');
      assert.equal(held.rows, file.good.length);
      for (const n of file.good) assert.equal(held.byNumber.get(`+91${n}`), 1, `+91${n}`);
      assert.equal(await contactsOfImport(store.store, id), done.created);
      return done;
    }

    it('finishes after a restart a job whose server was killed right after its 202', async () => {
      const tenant = await setupTenant(databaseUrl);
      const file = fileOf(3000);
      const first = await start();
      const res = await apiOn(first, tenant).upload(file.csv, { form: 'multipart' });
      assert.equal(res.status, 202, res.body);
      await first.kill();
      const api = apiOn(await start(), tenant);
      await assertAppliedOnce(api, res.json<JobJson>().id, file, tenant.streamId);
    });

    it('resumes a job killed while it applies its rows, applying each row once and still naming repeats of earlier rows', async () => {
      const tenant = await newTenant();
      const file = fileOf(20_000, 40);
      const first = await start({ IMPORT_BATCH_ROWS: '100' });
      const submitted = await apiOn(first, tenant).submit(file.csv);
      await untilInStore(submitted.id, 'the first batch committed', (job) => Number(job.processed_rows) > 0);
      await first.kill();
      const atKill = await jobInStore(submitted.id);
      const processed = Number(atKill.processed_rows);
      assert.equal(atKill.state, 'running', 'the job ended before the kill: make the file larger');
      assert.ok(processed > 0 && processed < file.total, `killed at ${processed} of ${file.total}`);
      assert.equal(Number(atKill.created_count) + Number(atKill.failed_count), processed);
      const api = apiOn(await start(), tenant);
      await assertAppliedOnce(api, submitted.id, file, tenant.streamId);
      const repeats = (await api.allFailures(submitted.id)).filter((f) => f.values.firstName === 'Again');
      assert.deepEqual(
        repeats.map((f) => [f.row, f.errors[0]!.code, f.errors[0]!.row]),
        file.repeated.map((r) => [r.line, 'DUPLICATE_IN_FILE', r.first]),
      );
    });

    it('never writes a row of an atomic job with bad rows killed while it runs, and fails every row once after a restart', async () => {
      const tenant = await newTenant();
      const file = fileOf(15_000);
      const counts = new Set<number>();
      const look = async () => {
        const held = await activeNumbers(store.store, tenant.streamId);
        counts.add(held.rows);
        return held.rows;
      };
      const first = await start({ IMPORT_BATCH_ROWS: '100' });
      const submitted = await apiOn(first, tenant).submit(file.csv, { query: 'atomic=true' });
      await untilInStore(submitted.id, 'the job started', (job) => job.state === 'running');
      const until = Date.now() + 300;
      while (Date.now() < until) {
        await look();
        await sleep(20);
      }
      await first.kill();
      await look();
      assert.equal(await stateInStore(submitted.id), 'running', 'the job ended before the kill: make the file larger');
      const api = apiOn(await start(), tenant);
      const done = await api.finished(submitted.id, { timeoutMs: 60_000, intervalMs: 50, each: () => void look() });
      await look();
      // Atomic, and the file has invalid rows: no contact at any moment, and in the end every row failed, once.
      assert.deepEqual([...counts], [0], `contacts seen: ${[...counts].join(', ')}`);
      assert.deepEqual(
        [done.state, done.totalRows, done.processedRows, done.created, done.failed],
        ['completed', file.total, file.total, 0, file.total],
      );
      assert.equal((await activeNumbers(store.store, tenant.streamId)).rows, 0);
    });

    it('completes an atomic job of good rows killed while it runs, creating every row once', async () => {
      const tenant = await newTenant();
      const numbers = phoneBlock(15_000);
      const counts = new Set<number>();
      const look = async () => counts.add((await activeNumbers(store.store, tenant.streamId)).rows);
      const first = await start({ IMPORT_BATCH_ROWS: '100' });
      const submitted = await apiOn(first, tenant).submit(csvOf(numbers.map((n) => row(n))), { query: 'atomic=true' });
      await untilInStore(submitted.id, 'the job started', (job) => job.state === 'running');
      const until = Date.now() + 300;
      while (Date.now() < until) {
        await look();
        await sleep(20);
      }
      await first.kill();
      assert.equal(await stateInStore(submitted.id), 'running', 'the job ended before the kill: make the file larger');
      const api = apiOn(await start(), tenant);
      const done = await api.finished(submitted.id, { timeoutMs: 60_000, intervalMs: 50, each: () => void look() });
      await look();
      assert.deepEqual([...counts].filter((n) => n !== 0 && n !== numbers.length), [], `contacts seen: ${[...counts].join(', ')}`);
      assert.deepEqual([done.state, done.processedRows, done.created, done.failed], ['completed', numbers.length, numbers.length, 0]);
      const held = await activeNumbers(store.store, tenant.streamId);
      assert.equal(held.rows, numbers.length);
      assert.equal(held.distinct, numbers.length);
    });

    it('writes nothing of a synchronous atomic import killed mid-request, and leaves no run stuck after the restart', async () => {
      const tenant = await newTenant();
      const numbers = phoneBlock(15_000);
      const first = await start();
      const abort = new AbortController();
      let answered = false;
      const request = apiOn(first, tenant)
        .upload(csvOf(numbers.map((n) => row(n))), { path: '/contacts/import-contacts', query: 'atomic=true', signal: abort.signal })
        .then(() => (answered = true), () => {});
      const syncRuns = () =>
        store.store.db.selectFrom('import_jobs').select(['id', 'state', 'lease_expires_at']).where('stream_id', '=', tenant.streamId).where('kind', '=', 'sync').execute();
      await eventually('the synchronous run started', async () => (await syncRuns()).some((r) => r.state === 'running'), 30_000, 10);
      await sleep(300);
      assert.equal(answered, false, 'the import answered before the kill: make the file larger');
      await first.kill();
      abort.abort();
      await request;
      assert.equal((await activeNumbers(store.store, tenant.streamId)).rows, 0);
      const left = await syncRuns();
      assert.equal(left.length, 1);

      // Restarted at once, as an orchestrator restarts a dead instance: the run's lease has not run out yet, so the
      // sweep at start leaves it; the service sweeps again every two leases, and at least every 10 s.
      await start();
      const deadline = Number(left[0]!.lease_expires_at) + Math.max(10, 2 * LEASE_SECONDS) * 1000 + 3000;
      let stuck = left;
      while (Date.now() < deadline) {
        stuck = (await syncRuns()).filter((r) => r.state === 'running' && Number(r.lease_expires_at) < Date.now());
        if (stuck.length === 0 && Date.now() > Number(left[0]!.lease_expires_at)) break;
        await sleep(200);
      }
      assert.equal((await activeNumbers(store.store, tenant.streamId)).rows, 0);
      assert.deepEqual(stuck, [], `a dead request's run stays 'running' ${Math.round((Date.now() - Number(left[0]!.lease_expires_at)) / 1000)} s past its lease`);
    });
  });

  describe(`an import job whose worker dies between its last commit and marking the job finished, on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    // The window of a kill -9 after the transaction that applied the rows and before the job's row says `completed`:
    // too narrow to hit with a signal, so the first worker here is one whose `finish` never happens.
    let store: TestStore;
    before(async () => {
      store = await createTestStore(dialect);
    });
    after(() => store?.destroy());

    const config = loadConfig({ IMPORT_LEASE_SECONDS: String(LEASE_SECONDS), IMPORT_BATCH_ROWS: '100', IMPORT_WORKERS: '0' });
    const log = { warn() {}, info() {} };

    async function dieBeforeFinishing(options: string) {
      const tenant = await createTenant(store.store);
      const ctx = { orgId: tenant.orgId, accountId: tenant.accountId, streamId: tenant.streamId, userId: tenant.userId, appId: tenant.appId };
      const numbers = phoneBlock(250);
      const csv = csvOf(numbers.map((n) => row(n)));
      const imports = createImports({ store: store.store, config, log });
      const job = await imports.jobs.submit(ctx, (async function* () { yield Buffer.from(csv); })(), JSON.parse(options), null);

      // The first worker applies every row, then dies before it can say so.
      const jobs = createImportJobRepository(store.store.db, store.store.dialect);
      const engineStore = store.store.dialect === 'sqlite' ? createSqliteImportStore(store.store.db, store.store.sqlite) : createPostgresImportStore(store.store.pool);
      const dying = createImportRunner({
        jobs: { ...jobs, finish: async () => { throw new Error('killed'); } },
        store: engineStore, leaseMs: LEASE_SECONDS * 1000, batchRows: 100, now: Date.now,
      });
      const claimed = await jobs.claim('dying-worker', Date.now(), LEASE_SECONDS * 1000);
      assert.equal(claimed?.id, job.id);
      await assert.rejects(dying(claimed!, 'dying-worker', () => (async function* () { yield Buffer.from(csv); })()), /killed/);

      // Another worker takes it over once the lease has run out.
      const later = createImports({ store: store.store, config, log, now: () => Date.now() + 10 * LEASE_SECONDS * 1000 });
      await later.runJob(job.id);
      const done = await imports.jobs.get(ctx, job.id);
      const held = await activeNumbers(store.store, tenant.streamId);
      const failures = await imports.jobs.failures(ctx, job.id, undefined, 5);
      return { done, held, numbers, failures };
    }

    it('a plain job completes with its counts, each row applied once', async () => {
      const { done, held, numbers } = await dieBeforeFinishing('{"onDuplicate":"reject","atomic":false,"dryRun":false}');
      assert.deepEqual([done.state, done.totalRows, done.processedRows, done.created, done.failed], ['completed', numbers.length, numbers.length, numbers.length, 0]);
      assert.equal(held.rows, numbers.length);
    });

    it('an atomic job completes with its rows created, not failed as taken by the contacts it created itself', async () => {
      const { done, held, numbers, failures } = await dieBeforeFinishing('{"onDuplicate":"reject","atomic":true,"dryRun":false}');
      assert.equal(held.rows, numbers.length);
      assert.deepEqual(
        { state: done.state, totalRows: done.totalRows, processedRows: done.processedRows, created: done.created, failed: done.failed },
        { state: 'completed', totalRows: numbers.length, processedRows: numbers.length, created: numbers.length, failed: 0 },
        `failures: ${JSON.stringify(failures.results.slice(0, 2))}`,
      );
    });
  });

  describe(`an import job whose process dies every time it runs, on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    let store: TestStore;
    before(async () => {
      store = await createTestStore(dialect);
    });
    after(() => store?.destroy());
    const log = { warn() {}, info() {} };

    it('ends failed after five claims that never finished, instead of being taken up for ever', async () => {
      const tenant = await createTenant(store.store);
      const ctx = { orgId: tenant.orgId, accountId: tenant.accountId, streamId: tenant.streamId, userId: tenant.userId, appId: tenant.appId };
      const uploadDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-poison-'));
      const config = loadConfig({ IMPORT_LEASE_SECONDS: String(LEASE_SECONDS), IMPORT_WORKERS: '0', IMPORT_UPLOAD_DIR: uploadDir });
      try {
        const imports = createImports({ store: store.store, config, log });
        const csv = csvOf(phoneBlock(20).map((n) => row(n)));
        const job = await imports.jobs.submit(ctx, (async function* () { yield Buffer.from(csv); })(), { onDuplicate: 'reject', atomic: false, dryRun: false }, null);
        // The row as five processes leave it that each claimed the job and died under it: running, its lease run out.
        await store.store.db.updateTable('import_jobs')
          .set({ state: 'running', attempts: 5, lease_token: 'dead', lease_expires_at: Date.now() - 1000, started_at: Date.now() - 60_000 })
          .where('id', '=', job.id).execute();
        await imports.runJob(job.id);
        const done = await imports.jobs.get(ctx, job.id);
        assert.deepEqual([done.state, done.error?.code, done.created], ['failed', 'IMPORT_INTERRUPTED', 0], JSON.stringify(done));
        assert.equal((await activeNumbers(store.store, tenant.streamId)).rows, 0);
        // A job claimed fewer times is still taken over and finished.
        const second = await imports.jobs.submit(ctx, (async function* () { yield Buffer.from(csvOf(phoneBlock(20).map((n) => row(n)))); })(), { onDuplicate: 'reject', atomic: false, dryRun: false }, null);
        await store.store.db.updateTable('import_jobs')
          .set({ state: 'running', attempts: 4, lease_token: 'dead', lease_expires_at: Date.now() - 1000, started_at: Date.now() - 60_000 })
          .where('id', '=', second.id).execute();
        await imports.runJob(second.id);
        const finished = await imports.jobs.get(ctx, second.id);
        assert.deepEqual([finished.state, finished.created], ['completed', 20], JSON.stringify(finished));
      } finally {
        fs.rmSync(uploadDir, { recursive: true, force: true });
      }
    });
  });

  describe(`an import job whose kept upload is lost, on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    let store: TestStore;
    before(async () => {
      store = await createTestStore(dialect);
    });
    after(() => store?.destroy());
    const log = { warn() {}, info() {} };

    it('ends failed, neither running for ever nor completed as if the file were empty', async () => {
      const tenant = await createTenant(store.store);
      const ctx = { orgId: tenant.orgId, accountId: tenant.accountId, streamId: tenant.streamId, userId: tenant.userId, appId: tenant.appId };
      const uploadDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-lost-upload-'));
      const lost = loadConfig({ IMPORT_LEASE_SECONDS: String(LEASE_SECONDS), IMPORT_WORKERS: '0', IMPORT_UPLOAD_DIR: uploadDir });
      try {
        const csv = csvOf(phoneBlock(50).map((n) => row(n)));
        const imports = createImports({ store: store.store, config: lost, log });
        const job = await imports.jobs.submit(ctx, (async function* () { yield Buffer.from(csv); })(), { onDuplicate: 'reject', atomic: false, dryRun: false }, null);
        // Lost outside the service: a volume not restored, a folder or table cleared by hand.
        if (store.store.dialect === 'sqlite') for (const name of fs.readdirSync(uploadDir)) fs.rmSync(path.join(uploadDir, name));
        else await store.store.db.deleteFrom('import_files').where('job_id', '=', job.id).execute();
        // Taken up again each time its lease runs out, five times.
        for (let attempt = 1; attempt <= 5; attempt++) {
          const later = createImports({ store: store.store, config: lost, log, now: () => Date.now() + attempt * 10 * LEASE_SECONDS * 1000 });
          await later.runJob(job.id);
        }
        const done = await imports.jobs.get(ctx, job.id);
        assert.deepEqual([done.state, done.totalRows, done.created], ['failed', 50, 0], JSON.stringify(done));
        assert.ok(done.error?.code, JSON.stringify(done));
      } finally {
        fs.rmSync(uploadDir, { recursive: true, force: true });
      }
    });
  });
}
