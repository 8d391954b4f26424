// kill -9 during imports, in every phase and mode, then a restart and the store's checks: SQLite's
// `PRAGMA integrity_check` ok, no number held by two ACTIVE contacts, no atomic import partly written, every job
// finished with each row counted once. Not in CI (it kills and restarts a server some forty times). Run:
//   npm run build && npx tsx bench/kill-imports.ts      (BENCH_STORES=sqlite,postgres; BENCH_ROWS=6000)
import assert from 'node:assert/strict';
import { createTenant, type Tenant } from '../test/helpers/app.js';
import { activeNumbers, contactsOfImport, csvOf, fetchSender, importsApi, phoneBlock, row, sleep, type JobJson } from '../test/helpers/imports.js';
import { startServerProcess, type ServerProcess } from '../test/helpers/server-process.js';
import { createTestStore, postgresReachable, type TestStore } from '../test/helpers/stores.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 6000);
const STORES = (process.env.BENCH_STORES ?? 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[];

type Mode = { name: string; path: string; query: string; async: boolean; atomic: boolean };
const MODES: Mode[] = [
  { name: 'job', path: '/contacts/imports', query: '', async: true, atomic: false },
  { name: 'atomic job', path: '/contacts/imports', query: 'atomic=true', async: true, atomic: true },
  { name: 'job, onDuplicate=update', path: '/contacts/imports', query: 'onDuplicate=update', async: true, atomic: false },
  { name: 'sync', path: '/contacts/import-contacts', query: 'report=true', async: false, atomic: false },
  { name: 'atomic sync', path: '/contacts/import-contacts', query: 'report=true&atomic=true', async: false, atomic: true },
];
/** When the kill comes: while the upload is sent, right after it is accepted, or after rows began to be applied. */
type Phase = 'upload' | 'accepted' | 'applying';
const PHASES: Phase[] = ['upload', 'accepted', 'applying'];

/** An atomic import is checked with good rows only (with a bad row it rightly writes nothing, which proves nothing). */
const csvOfRows = (atomic: boolean) => {
  const numbers = phoneBlock(ROWS);
  if (atomic) return csvOf(numbers.map((n, i) => row(n, { first: `F${i}`, last: `L${i}` })));
  // Every 300th row invalid; the last 50 rows repeat earlier numbers, so a resumed job must still know them.
  const rows = numbers.map((n, i) => ((i + 1) % 300 === 0 ? row(`9876x${i}`) : row(n, { first: `F${i}`, last: `L${i}` })));
  for (let i = 0; i < 50; i++) rows.push(row(numbers[i]!, { first: 'Again' }));
  return csvOf(rows);
};

async function checkStore(store: TestStore, tenant: Tenant): Promise<string> {
  if (store.store.dialect === 'sqlite') assert.equal(store.store.sqlite!.pragma('integrity_check', { simple: true }), 'ok');
  const numbers = await activeNumbers(store.store, tenant.streamId);
  assert.equal(numbers.rows, numbers.distinct, 'a number is held by two ACTIVE contacts');
  return `${numbers.rows} active`;
}

let kills = 0;
const lines: string[] = [];
for (const dialect of STORES) {
  if (dialect === 'postgres' && !(await postgresReachable())) {
    lines.push('postgres: not reachable, skipped');
    continue;
  }
  const store = await createTestStore(dialect);
  const databaseUrl = store.url.kind === 'sqlite' ? `sqlite:${store.url.file}` : store.url.url;
  const env = { DATABASE_URL: databaseUrl, RATE_LIMIT_PER_MINUTE: '0', IMPORT_LEASE_SECONDS: '2', IMPORT_BATCH_ROWS: '200', IMPORT_POLL_MS: '50', LOG_LEVEL: 'warn' };
  let server: ServerProcess = await startServerProcess(env);
  try {
    for (const mode of MODES) {
      for (const phase of PHASES) {
        const tenant = await createTenant(store.store);
        const api = importsApi(fetchSender(server.url), tenant);
        const csv = csvOfRows(mode.atomic);
        let jobId: string | undefined;
        const sent = api.upload(csv, { path: mode.path, query: mode.query }).then(
          (res) => {
            if (res.status === 202) jobId = res.json<JobJson>().id;
            return res.status;
          },
          () => 'connection lost',
        );
        if (phase === 'upload') await sleep(5);
        else if (phase === 'accepted') await Promise.race([sent, sleep(5000)]);
        else {
          // Until some rows are in the store (or a sync answer came back first).
          for (let i = 0; i < 400; i++) {
            const n = await activeNumbers(store.store, tenant.streamId);
            if (n.rows > 0) break;
            await sleep(10);
          }
        }
        await server.kill();
        kills++;
        const status = await sent;
        server = await startServerProcess(env);
        const after = importsApi(fetchSender(server.url), tenant);
        let outcome = `answer ${status}`;
        // Jobs go on after the restart; every row counted once.
        const list = (await after.list()).json<{ results: JobJson[] }>().results;
        for (const job of list) {
          const done = await after.finished(job.id, { timeoutMs: 120_000 });
          assert.equal(done.state, 'completed', JSON.stringify(done));
          assert.equal(done.processedRows, done.totalRows, 'every row counted once');
          assert.equal(done.created + done.updated + done.failed, done.processedRows);
          const made = await contactsOfImport(store.store, job.id);
          if (mode.atomic) assert.ok(made === 0 || made === done.created, `atomic job ${job.id} partly written: ${made}`);
          outcome += `; job ${done.state} ${done.created}+${done.updated}/${done.failed}`;
        }
        if (mode.atomic && !mode.async) {
          const n = await activeNumbers(store.store, tenant.streamId);
          const expected = ROWS;
          assert.ok(n.rows === 0 || n.rows === expected, `atomic sync import partly written: ${n.rows} of ${expected}`);
        }
        void jobId;
        lines.push(`${dialect.padEnd(8)} ${mode.name.padEnd(24)} killed at ${phase.padEnd(9)} ${outcome}; ${await checkStore(store, tenant)}`);
        console.log(lines.at(-1));
      }
    }
  } finally {
    await server.kill();
    await store.destroy();
  }
}
console.log(`\n${kills} kills, every check passed`);
