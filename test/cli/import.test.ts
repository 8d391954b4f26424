import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { StoreUrl } from '../../src/config/config.js';
import type { ImportJob } from '../../src/imports/import-job.mapper.js';
import { buildTestApp, uniquePhone, type TestApp } from '../helpers/app.js';
import { createTestStore, DIALECTS, skipReason, type TestStore } from '../helpers/stores.js';
import { freePort } from '../helpers/server-process.js';
import { assertBuilt, childEnv, CLI_MAIN, cliJson, runCli, startCliServe, type CliResult } from './run-cli.js';

const HEADER = 'firstName,lastName,salutation,cellPhoneNumber,cellPhoneCountryCode,cellPhoneExtension';
const UNKNOWN_STREAM = 'st-00000000-0000-0000-0000-000000000000';
const SUMMARY = /^id: ([0-9a-f]{24})\nstate: (\w+)\ntotalRows: (\d+)\ncreated: (\d+)\nupdated: (\d+)\nfailed: (\d+)\nseconds: \d+\.\d\d\nrows\/s: \d+\n(failuresFile: (.+)\n)?$/;

/** The job as GET /contacts/imports/{id} answers it, plus where the CLI wrote the failed rows. */
type JobJson = ImportJob & { failuresFile: string | null };

const databaseUrl = (url: StoreUrl) => (url.kind === 'sqlite' ? `sqlite:${url.file}` : url.url);

const row = (phone: string, first = 'john') => `${first},doe,Mr,${phone},+91,+`;

function assertOneLineFailure(result: CliResult, message: RegExp): void {
  assert.equal(result.code, 1, `expected exit code 1, got ${result.code}: ${result.stderr}`);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /^dialbook: [^\n]+\n$/, `not one line: ${JSON.stringify(result.stderr)}`);
  assert.match(result.stderr, message);
  assert.doesNotMatch(result.stderr, /\bat .+:\d+:\d+/, 'a stack trace was printed');
}

function summaryOf(result: CliResult) {
  assert.equal(result.code, 0, `exit ${result.code}: ${result.stderr}`);
  const m = SUMMARY.exec(result.stdout);
  assert.ok(m, `not a summary: ${JSON.stringify(result.stdout)}`);
  return { id: m[1]!, state: m[2]!, totalRows: Number(m[3]), created: Number(m[4]), updated: Number(m[5]), failed: Number(m[6]), failuresFile: m[8] };
}

/** util-linux `script`, which runs a command on a pseudo-terminal; absent (or another `script`) on some systems. */
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).stdout?.includes('util-linux') ?? false;

for (const dialect of DIALECTS) {
  describe(`dialbook import on ${dialect}`, { skip: await skipReason(dialect), timeout: 300_000 }, () => {
    let store: TestStore;
    let url: string;
    let api: TestApp;
    let dir: string;
    let setup: Record<string, string>;
    let serial = 0;

    before(async () => {
      store = await createTestStore(dialect);
      url = databaseUrl(store.url);
      // No worker in the test process: it would race the CLI for the jobs (following one is a case of its own).
      api = await buildTestApp(store.store, { IMPORT_WORKERS: '0' });
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-cli-import-'));
      setup = await cliJson(['setup', '--json'], url);
    });
    after(async () => {
      await api?.close();
      await store?.destroy();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    /** A CSV file in the test's folder: the header, then these rows. */
    const csvFile = (rows: string[], header = HEADER) => {
      const file = path.join(dir, `contacts-${++serial}.csv`);
      fs.writeFileSync(file, [header, ...rows].join('\n') + '\n');
      return file;
    };
    const importFile = (file: string, ...args: string[]) => runCli(['import', file, '--stream', setup.streamId!, ...args], url);

    const contactsOf = (importId: string) =>
      store.store.db.selectFrom('contacts').selectAll().where('import_id', '=', importId).orderBy('phone_number').execute();
    const jobCount = async (streamId: string) =>
      Number(
        (await store.store.db.selectFrom('import_jobs').select((eb) => eb.fn.countAll().as('n')).where('stream_id', '=', streamId).executeTakeFirstOrThrow()).n,
      );

    it('imports a small file as a job of the stream and prints the summary; the contacts exist, made by the account owner and app "cli"', async () => {
      const phones = [uniquePhone(), uniquePhone()].sort();
      const file = csvFile(phones.map((p) => row(p)));
      const result = await importFile(file);
      const summary = summaryOf(result);
      assert.deepEqual({ ...summary, id: undefined }, { id: undefined, state: 'completed', totalRows: 2, created: 2, updated: 0, failed: 0, failuresFile: undefined });
      // Not a terminal: no progress bar, nothing on stderr.
      assert.equal(result.stderr, '');
      assert.equal(fs.existsSync(`${file}.failures.csv`), false);

      const contacts = await contactsOf(summary.id);
      assert.deepEqual(contacts.map((c) => c.phone_number), phones.map((p) => `+91${p}`));
      for (const c of contacts) {
        assert.equal(c.stream_id, setup.streamId);
        assert.equal(c.account_id, setup.accountId);
        assert.equal(c.org_id, setup.orgId);
        assert.equal(c.created_by, setup.userId);
        assert.equal(c.created_by_aid, 'cli');
        assert.equal(c.status, 'ACTIVE');
      }
    });

    it('--json prints the job as GET /contacts/imports/{id} answers it, plus failuresFile', async () => {
      const file = csvFile([row(uniquePhone()), row(uniquePhone()), row(uniquePhone())]);
      const result = await importFile(file, '--json');
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '');
      const job = JSON.parse(result.stdout) as JobJson;
      assert.equal(result.stdout, `${JSON.stringify(job)}\n`);
      const { failuresFile, ...rest } = job;
      assert.equal(failuresFile, null);
      assert.equal(job.state, 'completed');
      assert.equal(job.fileName, path.basename(file));
      assert.deepEqual(job.options, { onDuplicate: 'reject', atomic: false, dryRun: false });
      assert.deepEqual([job.totalRows, job.processedRows, job.created, job.updated, job.failed], [3, 3, 3, 0, 0]);
      assert.equal(job.bytes, fs.statSync(file).size);
      assert.equal(job.createdBy, setup.userId);
      assert.equal(job.createdByAId, 'cli');

      const res = await api.app.inject({
        method: 'GET',
        url: `/agentassist/api/v1/public/${setup.streamId}/contacts/imports/${job.id}`,
        headers: { auth: setup.token!, accountId: setup.accountId! },
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(rest, res.json());
    });

    it('writes FILE.failures.csv with the failed rows plus errorCode and errorMessage; that file, fixed, imports', async () => {
      const [a, b, c] = [uniquePhone(), uniquePhone(), uniquePhone()];
      const bad = [row('12', 'short'), `,doe,Mr,${c},+91,+`];
      const file = csvFile([row(a), bad[0]!, row(b), bad[1]!]);
      const result = await importFile(file);
      const summary = summaryOf(result);
      assert.deepEqual([summary.state, summary.totalRows, summary.created, summary.failed], ['completed', 4, 2, 2]);
      assert.equal(summary.failuresFile, `${file}.failures.csv`);

      const lines = fs.readFileSync(`${file}.failures.csv`, 'utf8').split('\r\n');
      assert.equal(lines.pop(), '');
      assert.equal(lines[0], `${HEADER},errorCode,errorMessage`);
      assert.equal(lines.length, 3);
      assert.match(lines[1]!, new RegExp(`^${bad[0]!.replaceAll('+', '\\+')},INVALID_PHONE_LENGTH,.+`));
      assert.match(lines[2]!, new RegExp(`^${bad[1]!.replaceAll('+', '\\+')},FIELD_REQUIRED,.+`));

      // Fix the two rows in place and import the failures file as it is: errorCode and errorMessage are ignored.
      const fixedPhone = uniquePhone();
      const fixed = fs.readFileSync(`${file}.failures.csv`, 'utf8').replace(',12,', `,${fixedPhone},`).replace(/\r\n,doe,/, '\r\njane,doe,');
      fs.writeFileSync(`${file}.failures.csv`, fixed);
      const again = summaryOf(await importFile(`${file}.failures.csv`));
      assert.deepEqual([again.state, again.totalRows, again.created, again.failed, again.failuresFile], ['completed', 2, 2, 0, undefined]);
      const contacts = await contactsOf(again.id);
      assert.deepEqual(contacts.map((x) => x.phone_number).sort(), [`+91${fixedPhone}`, `+91${c}`].sort());
    });

    it('--on-duplicate update updates the contacts that hold the numbers; --dry-run writes nothing', async () => {
      const phones = [uniquePhone(), uniquePhone()];
      const first = summaryOf(await importFile(csvFile(phones.map((p) => row(p)))));
      assert.equal(first.created, 2);

      const dry = summaryOf(await importFile(csvFile([row(uniquePhone())]), '--dry-run'));
      assert.deepEqual([dry.state, dry.created], ['completed', 1]);
      assert.deepEqual(await contactsOf(dry.id), []);

      const rejected = summaryOf(await importFile(csvFile(phones.map((p) => row(p, 'again')))));
      assert.deepEqual([rejected.created, rejected.updated, rejected.failed], [0, 0, 2]);
      const updated = summaryOf(await importFile(csvFile(phones.map((p) => row(p, 'again'))), '--on-duplicate', 'update'));
      assert.deepEqual([updated.created, updated.updated, updated.failed], [0, 2, 0]);
      const held = await store.store.db.selectFrom('contacts').select(['first_name', 'updated_by_aid']).where('id', 'in', (await contactsOf(first.id)).map((c) => c.id)).execute();
      assert.deepEqual(held.map((h) => [h.first_name, h.updated_by_aid]), [['again', 'cli'], ['again', 'cli']]);
    });

    it('records createdBy "cli" for a stream whose account has no user yet', async () => {
      const { accountId } = await cliJson(['accounts', 'create', '--json'], url);
      const { streamId } = await cliJson(['streams', 'create', '--account', accountId!, '--json'], url);
      const result = await runCli(['import', csvFile([row(uniquePhone())]), '--stream', streamId!, '--json'], url);
      assert.equal(result.code, 0, result.stderr);
      const job = JSON.parse(result.stdout) as JobJson;
      assert.deepEqual([job.createdBy, job.createdByAId], ['cli', 'cli']);
      const [contact] = await contactsOf(job.id);
      assert.deepEqual([contact?.stream_id, contact?.account_id, contact?.created_by], [streamId, accountId, 'cli']);
    });

    it('an unknown stream, a missing file or bad options exit 1 with one line', async () => {
      const file = csvFile([row(uniquePhone())]);
      const [unknown, malformed, missingFile, noStream, badMode] = await Promise.all([
        runCli(['import', file, '--stream', UNKNOWN_STREAM], url),
        runCli(['import', file, '--stream', 'nope', '--json'], url),
        runCli(['import', path.join(dir, 'missing.csv'), '--stream', setup.streamId!], url),
        runCli(['import', file], url),
        runCli(['import', file, '--stream', setup.streamId!, '--on-duplicate', 'merge'], url),
      ]);
      assertOneLineFailure(unknown, new RegExp(`stream ${UNKNOWN_STREAM} does not exist`));
      assertOneLineFailure(malformed, /stream nope does not exist/);
      assertOneLineFailure(missingFile, /cannot read .*missing\.csv: no such file/);
      assertOneLineFailure(noStream, /--stream/);
      assertOneLineFailure(badMode, /--on-duplicate/);
      assert.equal(fs.existsSync(`${file}.failures.csv`), false);
    });

    it('a file refused as a whole (a missing column) exits 1 with the refusal, and creates no job', async () => {
      const before = await jobCount(setup.streamId!);
      const file = csvFile([`john,doe,Mr,${uniquePhone()},+91`], 'firstName,lastName,salutation,cellPhoneNumber,cellPhoneCountryCode');
      assertOneLineFailure(await importFile(file), /^dialbook: The header has no cellPhoneExtension column\n$/);
      const empty = path.join(dir, 'empty.csv');
      fs.writeFileSync(empty, '');
      assertOneLineFailure(await importFile(empty, '--json'), /^dialbook: .+/);
      assert.equal(await jobCount(setup.streamId!), before);
      assert.equal(fs.existsSync(`${file}.failures.csv`), false);
    });

    it('with a server on the same store, whose worker may take the job first, the job is run or followed to its end', async () => {
      // Its worker looks for queued jobs every 10 ms: it takes most jobs before the CLI claims them.
      const server = await startCliServe(url, await freePort(), { IMPORT_POLL_MS: '10' });
      try {
        for (let i = 0; i < 3; i++) {
          const phones = [uniquePhone(), uniquePhone(), uniquePhone()];
          const file = csvFile([...phones.map((p) => row(p)), row('12')]);
          const result = await importFile(file, '--json');
          assert.equal(result.code, 0, `${result.stderr}\n${server.output()}`);
          const job = JSON.parse(result.stdout) as JobJson;
          assert.deepEqual([job.state, job.processedRows, job.created, job.failed], ['completed', 4, 3, 1]);
          assert.equal(job.failuresFile, `${file}.failures.csv`);
          assert.equal(fs.readFileSync(job.failuresFile, 'utf8').split('\r\n').length, 3);
          const contacts = await contactsOf(job.id);
          assert.deepEqual(contacts.map((c) => [c.phone_number, c.created_by_aid]), phones.sort().map((p) => [`+91${p}`, 'cli']));
        }
      } finally {
        assert.equal(await server.stop(), 0, server.output());
        server.kill();
      }
    });

    it('on a terminal, draws the progress bar on stderr and still prints the summary', { skip: hasScript ? false : 'util-linux script is not installed' }, async () => {
      assertBuilt(CLI_MAIN);
      const file = csvFile([row(uniquePhone()), row(uniquePhone())]);
      const command = [process.execPath, CLI_MAIN, 'import', file, '--stream', setup.streamId!].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
      const output = await new Promise<string>((resolve, reject) => {
        execFile('script', ['-qfec', command, '/dev/null'], { env: childEnv({ DATABASE_URL: url, COLUMNS: '100' }), timeout: 60_000 }, (error, stdout) =>
          error ? reject(error) : resolve(stdout),
        );
      });
      // Redrawn in place; its last state is the finished job.
      assert.match(output, /\r(completed|running) +\[█+\] +100% +2\/2 +[\d,]+ rows\/s +ETA 0:00\x1b\[K/);
      assert.match(output.replaceAll('\r\n', '\n'), /\nstate: completed\ntotalRows: 2\ncreated: 2\n/);
    });

    it('Ctrl-C asks the job to cancel and exits 130', async () => {
      assertBuilt(CLI_MAIN);
      const file = csvFile(Array.from({ length: 20_000 }, (_, i) => row(`70${String(i).padStart(8, '0')}`)));
      const child = spawn(process.execPath, [CLI_MAIN, 'import', file, '--stream', setup.streamId!, '--json'], {
        // Small batches: many transactions, so the job is still running when it is interrupted.
        env: childEnv({ DATABASE_URL: url, IMPORT_BATCH_ROWS: '20' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      try {
        // Once the job has applied a batch, interrupt it.
        const deadline = Date.now() + 60_000;
        for (;;) {
          const running = await store.store.db
            .selectFrom('import_jobs')
            .select(['id', 'processed_rows'])
            .where('stream_id', '=', setup.streamId!)
            .where('file_name', '=', path.basename(file))
            .executeTakeFirst();
          if (running && Number(running.processed_rows) > 0) break;
          assert.ok(Date.now() < deadline, `the job did not start: ${stderr}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        child.kill('SIGINT');
        assert.equal(await exited, 130, stderr);
      } finally {
        child.kill('SIGKILL');
      }
      const job = JSON.parse(stdout) as JobJson;
      assert.equal(job.state, 'cancelled');
      assert.ok(job.totalRows !== null && job.processedRows < job.totalRows, `${job.processedRows} of ${job.totalRows}`);
      assert.equal(job.created, job.processedRows);
      assert.equal((await contactsOf(job.id)).length, job.created);
      assert.match(stderr, /cancelling import [0-9a-f]{24}/);
    });
  });
}
