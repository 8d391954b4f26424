import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { createTenant, useApiFixture, type ApiFixture, type Tenant } from '../helpers/app.js';
import {
  csvOf, csvRecord, HEADER, importsApi, injectSender, phoneBlock, row, sleep, type FailureJson, type ImportsApi, type JobJson, type PageJson,
  type Reply, type Send,
} from '../helpers/imports.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';

// Small polls so that a test waits for a job only as long as it runs; batches of 1000 rows so that a file of
// 20,000 takes twenty transactions, long enough to watch and to cancel.
const ENV = { IMPORT_POLL_MS: '20', IMPORT_BATCH_ROWS: '1000', IMPORT_MAX_ROWS: '30000', IMPORT_LEASE_SECONDS: '10' };
const BIG = 20_000;

/** A file of `count` good rows with fresh numbers; every `badEvery`th row (when given) has letters in its number. */
function bigFile(count: number, badEvery?: number): { csv: string; bad: number } {
  const numbers = phoneBlock(count);
  let bad = 0;
  const rows = numbers.map((n, i) => {
    if (badEvery && (i + 1) % badEvery === 0) {
      bad += 1;
      return row(`98765abc${i}`);
    }
    return row(n, { first: `First${i}`, last: `Last${i}` });
  });
  return { csv: csvOf(rows), bad };
}

const errorCodes = (res: Reply) => (res.json().errors as { code: string }[]).map((e) => e.code);

/** Nothing a caller sends may produce a 5xx: every answer is checked after each test. */
function checkedSender(fixture: ApiFixture, replies: Reply[]): Send {
  return async (...args) => {
    const reply = await injectSender(fixture.api.app)(...args);
    replies.push(reply);
    return reply;
  };
}

for (const dialect of DIALECTS) {
  describe(`import jobs on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    const fixture = useApiFixture(dialect, ENV);
    const replies: Reply[] = [];
    afterEach(() => {
      for (const res of replies.splice(0)) assert.ok(res.status < 500, `${res.status}: ${res.body}`);
    });
    const send = checkedSender(fixture, replies);

    /** A tenant of its own, so that counts of its contacts and jobs are this test's alone. */
    async function fresh(): Promise<{ tenant: Tenant; api: ImportsApi }> {
      const tenant = await createTenant(fixture.store.store);
      return { tenant, api: importsApi(send, tenant) };
    }

    async function createContact(tenant: Tenant, phone: string): Promise<{ id: string }> {
      const res = await send('POST', `${tenant.base}/contacts`, {
        headers: { ...tenant.headers, 'content-type': 'application/json' },
        body: JSON.stringify([{ firstName: 'Held', lastName: 'Before', salutation: 'Ms', cellPhone: { phoneNumber: phone, countryCode: '+91', extension: '+' } }]),
      });
      assert.equal(res.status, 200, res.body);
      return res.json()[0];
    }

    async function contactByNumber(tenant: Tenant, phone: string) {
      return fixture.store.store.db
        .selectFrom('contacts')
        .select(['id', 'first_name', 'last_name', 'status'])
        .where('stream_id', '=', tenant.streamId)
        .where('status', '=', 'ACTIVE')
        .where('phone_number', '=', `+91${phone}`)
        .execute();
    }

    /**
     * A finished job over a file with every kind of row, under a header of its own letter case with an extra
     * column:
     *   line 2 good; lines 3-4 good (quoted, a comma and a line break); line 5 no lastName; line 6 repeats line 2;
     *   line 7 a number another contact holds; line 8 quoted cells and letters in the number; line 9 good.
     */
    async function mixedJob() {
      const { tenant, api } = await fresh();
      const [a, b, c, taken, d] = phoneBlock(5) as [string, string, string, string, string];
      const holder = await createContact(tenant, taken);
      const header = 'FirstName,LASTNAME,salutation,cellPhoneNumber,cellPhoneCountryCode,cellPhoneExtension,notes';
      const lines = [
        header,
        `john,doe,Mr,${a},+91,+,n2`,
        `"Mary, Ann","Doe\nJr",Ms,${b},+91,+,n3`,
        `jane,,Ms,${c},+91,+,n5`,
        `again,doe,Mr,${a},+91,+,n6`,
        `held,doe,Mr,${taken},+91,+,n7`,
        `"Smith, Jr","O""Neil",Mr,98765abc10,+91,+,"n8, quoted"`,
        `last,doe,Mr,${d},+91,+,n9`,
      ];
      const csv = lines.join('\n') + '\n';
      const submitted = await api.submit(csv, { form: 'multipart', fileName: 'mixed.csv' });
      const job = await api.finished(submitted.id);
      return { tenant, api, csv, header, job, submitted, holder, numbers: { a, b, c, taken, d } };
    }

    it('answers 202 with a Location and the job for a raw text/csv body, then runs it to completed', async () => {
      const { tenant, api } = await fresh();
      const csv = csvOf(phoneBlock(3).map((n) => row(n)));
      const res = await api.upload(csv);
      assert.equal(res.status, 202, res.body);
      const job = res.json<JobJson>();
      assert.match(job.id, /^[0-9a-f]{24}$/);
      assert.equal(res.headers.location, `${tenant.base}/contacts/imports/${job.id}`);
      assert.ok(['queued', 'running'].includes(job.state), job.state);
      assert.deepEqual(job.options, { onDuplicate: 'reject', atomic: false, dryRun: false });
      assert.equal(job.fileName, null);
      assert.equal(job.bytes, Buffer.byteLength(csv));
      assert.equal(job.totalRows, 3);
      assert.equal(job.finishedAt, null);
      assert.equal(job.createdBy, tenant.userId);
      assert.equal(job.createdByAId, tenant.appId);
      assert.match(job.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

      const followed = await send('GET', res.headers.location!, { headers: tenant.headers });
      assert.equal(followed.status, 200, followed.body);
      assert.equal(followed.json<JobJson>().id, job.id);

      const done = await api.finished(job.id);
      assert.equal(done.state, 'completed');
      assert.deepEqual([done.totalRows, done.processedRows, done.created, done.updated, done.failed], [3, 3, 3, 0, 0]);
      assert.ok(done.startedAt && done.finishedAt);
      // The first job of a fresh store: the worker's claim may be under way (opening its connection) as it is queued.
      const [created, started, finished] = [done.createdAt, done.startedAt!, done.finishedAt!].map((t) => Date.parse(t));
      assert.ok(created! <= started! && started! <= finished!, `created ${done.createdAt}, started ${done.startedAt}, finished ${done.finishedAt}`);
      assert.equal(await api.contactCount(), 3);
    });

    it('keeps the file name of a multipart upload', async () => {
      const { api } = await fresh();
      const csv = csvOf(phoneBlock(2).map((n) => row(n)));
      const job = await api.submit(csv, { form: 'multipart', fileName: 'weekly list.csv' });
      // The file's own bytes, not the multipart body's.
      assert.equal(job.bytes, Buffer.byteLength(csv));
      assert.equal(job.fileName, 'weekly list.csv');
      const done = await api.finished(job.id);
      assert.equal(done.fileName, 'weekly list.csv');
      assert.deepEqual([done.state, done.created], ['completed', 2]);
      assert.equal(await api.contactCount(), 2);
    });

    it('takes the seeds’ upload: a JSON content type with a boundary and an attachment part', async () => {
      const { api } = await fresh();
      const [john, jane] = phoneBlock(2) as [string, string];
      const job = await api.submit(csvOf([row(john), row(jane, { first: 'jane' })]), { form: 'seeds' });
      assert.equal(job.fileName, 'sample.csv');
      const done = await api.finished(job.id);
      assert.deepEqual([done.state, done.totalRows, done.created, done.failed], ['completed', 2, 2, 0]);
      assert.equal(await api.contactCount(), 2);
    });

    it('answers import-contacts with 202 and a job when the caller prefers respond-async, and synchronously otherwise', async () => {
      const { tenant, api } = await fresh();
      const [a, b, c, d] = phoneBlock(4) as [string, string, string, string];
      const res = await api.upload(csvOf([row(a), row(b)]), { path: '/contacts/import-contacts', form: 'seeds', headers: { prefer: 'respond-async' } });
      assert.equal(res.status, 202, res.body);
      assert.equal(res.headers['preference-applied'], 'respond-async');
      const job = res.json<JobJson>();
      assert.equal(res.headers.location, `${tenant.base}/contacts/imports/${job.id}`);
      assert.equal((await api.finished(job.id)).created, 2);

      // Among other preferences, as RFC 7240 allows.
      const among = await api.upload(csvOf([row(c)]), { path: '/contacts/import-contacts', headers: { prefer: 'wait=10, respond-async' } });
      assert.equal(among.status, 202, among.body);
      assert.equal((await api.finished(among.json<JobJson>().id)).created, 1);

      const sync = await api.upload(csvOf([row(d)]), { path: '/contacts/import-contacts', form: 'seeds' });
      assert.equal(sync.status, 200, sync.body);
      assert.equal(sync.headers['preference-applied'], undefined);
      assert.deepEqual(sync.json().map((contact: { cellPhone: { phoneNumber: string } }) => contact.cellPhone.phoneNumber), [`+91${d}`]);
      // The synchronous run is not a job the caller sees.
      const list = (await api.list()).json<PageJson<JobJson>>();
      assert.deepEqual(list.results.map((j) => j.id).sort(), [job.id, among.json<JobJson>().id].sort());
      assert.equal(await api.contactCount(), 4);
    });

    it('completes a job with exact counters: every row created or failed, once', async () => {
      const { api, job, submitted, tenant, numbers, holder } = await mixedJob();
      assert.equal(submitted.totalRows, 7);
      assert.equal(job.state, 'completed');
      assert.deepEqual(
        { totalRows: job.totalRows, processedRows: job.processedRows, created: job.created, updated: job.updated, failed: job.failed },
        { totalRows: 7, processedRows: 7, created: 3, updated: 0, failed: 4 },
      );
      assert.equal(job.created + job.updated + job.failed, job.processedRows);
      assert.equal(await api.contactCount(), 1 + 3);
      for (const n of [numbers.a, numbers.b, numbers.d]) assert.equal((await contactByNumber(tenant, n)).length, 1);
      assert.deepEqual((await contactByNumber(tenant, numbers.taken)).map((c) => c.id), [holder.id]);
      assert.equal((await contactByNumber(tenant, numbers.c)).length, 0);
    });

    it('shows processedRows only growing, with created + updated + failed = processedRows, while a larger job runs', async () => {
      const { api } = await fresh();
      const { csv, bad } = bigFile(BIG, 997);
      const submitted = await api.submit(csv);
      assert.equal(submitted.totalRows, BIG);
      const seen: JobJson[] = [];
      const done = await api.finished(submitted.id, { intervalMs: 5, each: (job) => seen.push(job) });
      for (const [i, job] of seen.entries()) {
        assert.equal(job.created + job.updated + job.failed, job.processedRows, JSON.stringify(job));
        assert.equal(job.totalRows, BIG);
        if (i > 0) assert.ok(job.processedRows >= seen[i - 1]!.processedRows, `processedRows went from ${seen[i - 1]!.processedRows} to ${job.processedRows}`);
      }
      assert.ok(seen.some((job) => job.state === 'running' && job.processedRows > 0 && job.processedRows < BIG), `no progress seen: ${seen.map((j) => j.processedRows).join(' ')}`);
      assert.deepEqual([done.state, done.processedRows, done.created, done.failed, done.updated], ['completed', BIG, BIG - bad, bad, 0]);
      assert.equal(await api.contactCount(), BIG - bad);
    });

    it('names the first row of a number the file repeats far apart, and the holder of one taken, in any part of a large file', async () => {
      const { api, tenant } = await fresh();
      const numbers = phoneBlock(2500);
      const holder = await createContact(tenant, numbers[1800]!);
      const rows = numbers.map((n, i) => row(i === 2300 ? numbers[5]! : n));
      // Rows are worked on a thousand at a time: line 2302 repeats one of the first thousand, and the second thousand
      // mixes a repeat inside itself, a taken number and new ones.
      rows[1500] = row(numbers[1400]!);
      const done = await api.finished((await api.submit(csvOf(rows))).id);
      assert.deepEqual([done.state, done.created, done.failed], ['completed', 2497, 3]);
      const failures = (await api.failures(done.id)).json<PageJson<FailureJson>>().results;
      assert.deepEqual(
        failures.map((f) => [f.row, f.errors.map((e) => [e.code, e.row ?? e.id])]),
        [[1502, [['DUPLICATE_IN_FILE', 1402]]], [1802, [['PHONE_TAKEN', holder.id]]], [2302, [['DUPLICATE_IN_FILE', 7]]]],
      );
      assert.deepEqual((await contactByNumber(tenant, numbers[1800]!)).map((c) => c.id), [holder.id]);
      assert.equal(await api.contactCount(), 2498);
    });

    it('lists the failures in file order, paged, with the errors naming CSV columns and the cells by the file’s own column names', async () => {
      const { api, job, holder, numbers } = await mixedJob();
      const pages: PageJson<FailureJson>[] = [];
      for (let cursor: string | null = null; ; ) {
        const res = await api.failures(job.id, `limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(res.status, 200, res.body);
        const page = res.json<PageJson<FailureJson>>();
        pages.push(page);
        if (!page.hasMore) break;
        assert.equal(typeof page.nextCursor, 'string');
        cursor = page.nextCursor;
      }
      assert.deepEqual(pages.map((p) => p.results.length), [3, 1]);
      assert.equal(pages[1]!.nextCursor, null);
      const all = pages.flatMap((p) => p.results);
      assert.deepEqual(all.map((f) => f.row), [5, 6, 7, 8]);
      assert.deepEqual(all.map((f) => f.errors.map((e) => e.field)), [['lastName'], ['cellPhoneNumber'], ['cellPhoneNumber'], ['cellPhoneNumber']]);
      assert.deepEqual(all[1]!.errors.map((e) => [e.code, e.row]), [['DUPLICATE_IN_FILE', 2]]);
      assert.deepEqual(all[2]!.errors.map((e) => [e.code, e.id]), [['PHONE_TAKEN', holder.id]]);
      assert.deepEqual(all[0]!.values, {
        FirstName: 'jane', LASTNAME: '', salutation: 'Ms', cellPhoneNumber: numbers.c, cellPhoneCountryCode: '+91', cellPhoneExtension: '+', notes: 'n5',
      });
      assert.deepEqual(all[3]!.values, {
        FirstName: 'Smith, Jr', LASTNAME: 'O"Neil', salutation: 'Mr', cellPhoneNumber: '98765abc10', cellPhoneCountryCode: '+91', cellPhoneExtension: '+', notes: 'n8, quoted',
      });
      // A page of the default size holds them all.
      const whole = (await api.failures(job.id)).json<PageJson<FailureJson>>();
      assert.deepEqual([whole.results.length, whole.hasMore, whole.nextCursor], [4, false, null]);

      const bad = await api.failures(job.id, 'cursor=not-a-cursor');
      assert.equal(bad.status, 400, bad.body);
      assert.deepEqual(errorCodes(bad), ['INVALID_CURSOR']);
      // Well-formed JSON, but no line a file can have: refused the same way, not passed to the store.
      for (const forged of ['3000000000', '1e21', '-1', '2.5']) {
        const res = await api.failures(job.id, `cursor=${Buffer.from(forged).toString('base64url')}`);
        assert.equal(res.status, 400, `${forged}: ${res.body}`);
        assert.deepEqual(errorCodes(res), ['INVALID_CURSOR']);
      }
    });

    it('gives failures.csv: the file’s header, errorCode and errorMessage, and each failed row as uploaded', async () => {
      const { api, job, header, numbers } = await mixedJob();
      const res = await api.failuresCsv(job.id);
      assert.equal(res.status, 200, res.body);
      assert.match(res.headers['content-type']!, /^text\/csv/);
      assert.equal(res.body.split(/\r?\n/)[0], `${header},errorCode,errorMessage`);
      // Quoted cells stay quoted, exactly as uploaded.
      assert.ok(res.body.includes('"Smith, Jr","O""Neil",Mr,98765abc10,+91,+,"n8, quoted",'), res.body);
      const records = parse(res.body, { relax_column_count: false }) as string[][];
      assert.deepEqual(records[0], [...header.split(','), 'errorCode', 'errorMessage']);
      const failed = records.slice(1);
      assert.deepEqual(failed.map((r) => r.slice(0, 7)), [
        ['jane', '', 'Ms', numbers.c, '+91', '+', 'n5'],
        ['again', 'doe', 'Mr', numbers.a, '+91', '+', 'n6'],
        ['held', 'doe', 'Mr', numbers.taken, '+91', '+', 'n7'],
        ['Smith, Jr', 'O"Neil', 'Mr', '98765abc10', '+91', '+', 'n8, quoted'],
      ]);
      assert.deepEqual(failed.map((r) => r[7]), [failed[0]![7], 'DUPLICATE_IN_FILE', 'PHONE_TAKEN', failed[3]![7]]);
      for (const r of failed) assert.ok(r[7] && r[8], `errorCode and errorMessage of ${JSON.stringify(r)}`);
    });

    it('creates the rows of failures.csv once their cells are fixed and the file is uploaded again as it is', async () => {
      const { api, job, tenant } = await mixedJob();
      const csv = (await api.failuresCsv(job.id)).body;
      const records = parse(csv) as string[][];
      const fresh = phoneBlock(3);
      const fixed = records.map((r, i) => {
        if (i === 0) return r;
        const cells = [...r];
        if (cells[1] === '') cells[1] = 'fixed';
        else cells[3] = fresh.shift()!;
        return cells;
      });
      const text = fixed.map(csvRecord).join('\r\n') + '\r\n';
      const again = await api.submit(text, { form: 'multipart', fileName: 'failures.csv' });
      assert.equal(again.totalRows, 4);
      const done = await api.finished(again.id);
      assert.deepEqual([done.state, done.processedRows, done.created, done.failed], ['completed', 4, 4, 0], JSON.stringify(await api.allFailures(again.id)));
      assert.equal(await api.contactCount(), 1 + 3 + 4);
      const smith = await contactByNumber(tenant, fixed[4]![3]!);
      assert.deepEqual(smith.map((c) => [c.first_name, c.last_name]), [['Smith, Jr', 'O"Neil']]);
      const jane = await contactByNumber(tenant, fixed[1]![3]!);
      assert.deepEqual(jane.map((c) => c.last_name), ['fixed']);
    });

    it('updates the holders of numbers already taken with onDuplicate=update, keeping their ids', async () => {
      const { tenant, api } = await fresh();
      const [taken, other] = phoneBlock(2) as [string, string];
      const holder = await createContact(tenant, taken);
      const job = await api.submit(csvOf([row(taken, { first: 'Renamed' }), row(other)]), { query: 'onDuplicate=update' });
      assert.deepEqual(job.options, { onDuplicate: 'update', atomic: false, dryRun: false });
      const done = await api.finished(job.id);
      assert.deepEqual([done.state, done.processedRows, done.created, done.updated, done.failed], ['completed', 2, 1, 1, 0]);
      assert.deepEqual((await contactByNumber(tenant, taken)).map((c) => [c.id, c.first_name]), [[holder.id, 'Renamed']]);
      assert.equal(await api.contactCount(), 2);
    });

    it('writes nothing in a dry run, yet counts what it would have done', async () => {
      const { tenant, api } = await fresh();
      const [a, b, c] = phoneBlock(3) as [string, string, string];
      const job = await api.submit(csvOf([row(a), row(b), row('123'), row(c)]), { query: 'dryRun=true' });
      assert.equal(job.options.dryRun, true);
      const done = await api.finished(job.id);
      assert.deepEqual([done.state, done.processedRows, done.created, done.updated, done.failed], ['completed', 4, 3, 0, 1]);
      assert.deepEqual((await api.allFailures(job.id)).map((f) => [f.row, f.errors[0]!.field]), [[4, 'cellPhoneNumber']]);
      assert.equal(await api.contactCount(), 0);
      for (const n of [a, b, c]) assert.equal((await contactByNumber(tenant, n)).length, 0);
    });

    it('creates nothing in an atomic job with one bad row, failing every row and the good ones as NOT_WRITTEN', async () => {
      const { api } = await fresh();
      const numbers = phoneBlock(4);
      const job = await api.submit(csvOf([row(numbers[0]!), row(numbers[1]!), row(numbers[2]!, { last: '' }), row(numbers[3]!)]), { query: 'atomic=true' });
      assert.equal(job.options.atomic, true);
      const done = await api.finished(job.id);
      assert.deepEqual([done.state, done.totalRows, done.processedRows, done.created, done.updated, done.failed], ['completed', 4, 4, 0, 0, 4]);
      const failures = await api.allFailures(job.id);
      assert.deepEqual(failures.map((f) => [f.row, f.errors.map((e) => e.code === 'NOT_WRITTEN' ? 'NOT_WRITTEN' : e.field)]), [
        [2, ['NOT_WRITTEN']], [3, ['NOT_WRITTEN']], [4, ['lastName']], [5, ['NOT_WRITTEN']],
      ]);
      assert.equal(await api.contactCount(), 0);
    });

    it('creates every row of an atomic job whose rows are all good', async () => {
      const { api } = await fresh();
      const job = await api.submit(bigFile(2500).csv, { query: 'atomic=true' });
      const done = await api.finished(job.id);
      assert.deepEqual([done.state, done.processedRows, done.created, done.failed], ['completed', 2500, 2500, 0]);
      assert.equal(await api.contactCount(), 2500);
    });

    it('writes nothing in an atomic dry run, counting what it would create', async () => {
      const { api } = await fresh();
      const job = await api.submit(csvOf(phoneBlock(3).map((n) => row(n))), { query: 'atomic=true&dryRun=true' });
      assert.deepEqual(job.options, { onDuplicate: 'reject', atomic: true, dryRun: true });
      const done = await api.finished(job.id);
      assert.deepEqual([done.state, done.processedRows, done.created, done.failed], ['completed', 3, 3, 0]);
      assert.equal(await api.contactCount(), 0);
    });

    it('updates holders in an atomic job with onDuplicate=update', async () => {
      const { tenant, api } = await fresh();
      const [taken, other] = phoneBlock(2) as [string, string];
      const holder = await createContact(tenant, taken);
      const job = await api.submit(csvOf([row(taken, { first: 'Renamed' }), row(other)]), { query: 'atomic=true&onDuplicate=update' });
      const done = await api.finished(job.id);
      assert.deepEqual([done.state, done.processedRows, done.created, done.updated, done.failed], ['completed', 2, 1, 1, 0]);
      assert.deepEqual((await contactByNumber(tenant, taken)).map((c) => [c.id, c.first_name]), [[holder.id, 'Renamed']]);
    });

    it('gives a retried respond-async upload the same job with its Location and Preference-Applied', async () => {
      const { tenant, api } = await fresh();
      const csv = csvOf(phoneBlock(2).map((n) => row(n)));
      const headers = { prefer: 'respond-async', 'idempotency-key': `async-${Date.now()}` };
      const first = await api.upload(csv, { path: '/contacts/import-contacts', form: 'multipart', headers });
      assert.equal(first.status, 202, first.body);
      const retry = await api.upload(csv, { path: '/contacts/import-contacts', form: 'multipart', headers });
      assert.equal(retry.status, 202, retry.body);
      const id = first.json<JobJson>().id;
      assert.equal(retry.json<JobJson>().id, id);
      assert.equal(retry.headers.location, `${tenant.base}/contacts/imports/${id}`);
      assert.equal(retry.headers['preference-applied'], 'respond-async');
      assert.equal((await api.finished(id)).created, 2);
      assert.equal((await api.list()).json<PageJson<JobJson>>().results.length, 1);
    });

    it('cancels a running job before its next batch, keeping and counting what it committed', async () => {
      const { api } = await fresh();
      const submitted = await api.submit(bigFile(BIG).csv);
      await api.waitFor(submitted.id, (job) => job.processedRows > 0, { intervalMs: 5 });
      const res = await api.cancel(submitted.id);
      assert.equal(res.status, 200, res.body);
      assert.ok(['running', 'cancelled'].includes(res.json<JobJson>().state), res.body);
      const done = await api.finished(submitted.id);
      assert.equal(done.state, 'cancelled');
      assert.ok(done.finishedAt);
      assert.equal(done.totalRows, BIG);
      assert.ok(done.processedRows > 0 && done.processedRows < BIG, `processedRows ${done.processedRows}`);
      assert.equal(done.created + done.updated + done.failed, done.processedRows);
      assert.equal(done.created, done.processedRows);
      assert.equal(await api.contactCount(), done.created);
      // Nothing more is written once it says cancelled.
      await sleep(300);
      assert.equal(await api.contactCount(), done.created);
      assert.deepEqual(await api.job(submitted.id), done);
      const again = await api.cancel(submitted.id);
      assert.equal(again.status, 409, again.body);
      assert.deepEqual(errorCodes(again), ['IMPORT_FINISHED']);
    });

    it('leaves nothing of an atomic job cancelled while it runs', async () => {
      const { api } = await fresh();
      const submitted = await api.submit(bigFile(BIG).csv, { query: 'atomic=true' });
      await api.waitFor(submitted.id, (job) => job.state === 'running', { intervalMs: 5 });
      const res = await api.cancel(submitted.id);
      assert.equal(res.status, 200, res.body);
      const done = await api.finished(submitted.id);
      assert.equal(done.state, 'cancelled');
      assert.deepEqual([done.processedRows, done.created, done.updated, done.failed], [0, 0, 0, 0]);
      assert.equal(await api.contactCount(), 0);
    });

    it('refuses to cancel a finished job with 409 IMPORT_FINISHED, leaving it as it was', async () => {
      const { api } = await fresh();
      const job = await api.submit(csvOf(phoneBlock(1).map((n) => row(n))));
      const done = await api.finished(job.id);
      assert.equal(done.state, 'completed');
      const res = await api.cancel(job.id);
      assert.equal(res.status, 409, res.body);
      assert.deepEqual(errorCodes(res), ['IMPORT_FINISHED']);
      assert.deepEqual(await api.job(job.id), done);
    });

    it('gives a retry with the same Idempotency-Key and file the same job, never a second one', async () => {
      const { tenant, api } = await fresh();
      const csv = csvOf(phoneBlock(3).map((n) => row(n)));
      const key = `import-${Date.now()}`;
      const first = await api.upload(csv, { form: 'multipart', headers: { 'idempotency-key': key } });
      assert.equal(first.status, 202, first.body);
      await api.finished(first.json<JobJson>().id);
      const retry = await api.upload(csv, { form: 'multipart', headers: { 'idempotency-key': key } });
      assert.equal(retry.status, 202, retry.body);
      assert.equal(retry.json<JobJson>().id, first.json<JobJson>().id);
      assert.equal(retry.headers.location, `${tenant.base}/contacts/imports/${first.json<JobJson>().id}`);
      // A different file under the same key is another request.
      const other = await api.upload(csvOf(phoneBlock(1).map((n) => row(n))), { form: 'multipart', headers: { 'idempotency-key': key } });
      assert.equal(other.status, 422, other.body);
      const list = (await api.list()).json<PageJson<JobJson>>();
      assert.deepEqual(list.results.map((j) => j.id), [first.json<JobJson>().id]);
      assert.equal(await api.contactCount(), 3);
    });

    it('answers 404 to another tenant for a job, its failures and its cancel, and lists none of it', async () => {
      const { api, job } = await mixedJob();
      const other = await fresh();
      for (const res of [await other.api.get(job.id), await other.api.failures(job.id), await other.api.failuresCsv(job.id), await other.api.cancel(job.id)]) {
        assert.equal(res.status, 404, res.body);
        assert.deepEqual(errorCodes(res), ['IMPORT_NOT_FOUND']);
      }
      const list = (await other.api.list()).json<PageJson<JobJson>>();
      assert.deepEqual(list, { results: [], hasMore: false, nextCursor: null });
      // The owner still sees it, untouched.
      assert.deepEqual(await api.job(job.id), job);
      assert.equal((await api.allFailures(job.id)).length, 4);
    });

    it('refuses a file refused as a whole before any job exists', async () => {
      const { api } = await fresh();
      const good = row(phoneBlock(1)[0]!);
      const refusals: [string, Reply, number, string][] = [
        ['not text', await api.upload(Buffer.from(`${HEADER}\n${good}\n\0\0binary\n`)), 415, 'NOT_TEXT'],
        ['JSON without a boundary', await api.upload('{"a":1}', { headers: { 'content-type': 'application/json' } }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
        ['too many rows', await api.upload(bigFile(30_001).csv, { form: 'multipart' }), 413, 'TOO_MANY_ROWS'],
        ['a missing column', await api.upload('firstName,lastName,salutation,cellPhoneNumber,cellPhoneCountryCode\njohn,doe,Mr,9876543210,+91\n'), 400, 'MISSING_COLUMN'],
        ['a repeated column', await api.upload(`${HEADER},firstName\n${good},x\n`), 400, 'DUPLICATE_COLUMN'],
        ['a header alone', await api.upload(`${HEADER}\n`), 400, 'NO_DATA_ROWS'],
        ['an empty file', await api.upload(''), 400, 'EMPTY_FILE'],
        ['respond-async, a missing column', await api.upload('firstName\njohn\n', { path: '/contacts/import-contacts', headers: { prefer: 'respond-async' } }), 400, 'MISSING_COLUMN'],
      ];
      for (const [what, res, status, code] of refusals) {
        assert.equal(res.status, status, `${what}: ${res.body}`);
        assert.ok(errorCodes(res).includes(code), `${what}: ${res.body}`);
      }
      assert.deepEqual((await api.list()).json(), { results: [], hasMore: false, nextCursor: null });
      assert.equal(await api.contactCount(), 0);
    });

    it('lists the stream’s jobs newest first, a page at a time', async () => {
      const { api } = await fresh();
      const ids: string[] = [];
      for (const n of phoneBlock(5)) ids.push((await api.submit(csvOf([row(n)]))).id);
      const newest = [...ids].reverse();
      const seen: string[][] = [];
      let cursor: string | null = null;
      for (;;) {
        const res = await api.list(`limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(res.status, 200, res.body);
        const page = res.json<PageJson<JobJson>>();
        seen.push(page.results.map((j) => j.id));
        if (!page.hasMore) {
          assert.equal(page.nextCursor, null);
          break;
        }
        cursor = page.nextCursor;
      }
      assert.deepEqual(seen, [newest.slice(0, 2), newest.slice(2, 4), newest.slice(4)]);
      const all = (await api.list()).json<PageJson<JobJson>>();
      assert.deepEqual(all.results.map((j) => j.id), newest);
      for (const id of ids) await api.finished(id);

      for (const query of ['cursor=garbage', `cursor=${Buffer.from('"zz"').toString('base64url')}`, 'limit=0', 'limit=101']) {
        const res = await api.list(query);
        assert.equal(res.status, 400, `${query}: ${res.body}`);
      }
    });

    it('answers 404 IMPORT_NOT_FOUND for an id that is no job', async () => {
      const { api } = await fresh();
      for (const id of ['0123456789abcdef01234567', 'not-an-id']) {
        for (const res of [await api.get(id), await api.failures(id), await api.failuresCsv(id), await api.cancel(id)]) {
          assert.equal(res.status, 404, `${id}: ${res.body}`);
          assert.deepEqual(errorCodes(res), ['IMPORT_NOT_FOUND']);
        }
      }
    });
  });

  describe(`import jobs on ${dialect}, with no worker`, { skip: await skipReason(dialect) }, () => {
    // An instance that only takes uploads: its jobs stay queued until a worker somewhere takes them.
    const fixture = useApiFixture(dialect, { ...ENV, IMPORT_WORKERS: '0' });
    const replies: Reply[] = [];
    afterEach(() => {
      for (const res of replies.splice(0)) assert.ok(res.status < 500, `${res.status}: ${res.body}`);
    });
    const send = checkedSender(fixture, replies);

    it('cancels a queued job at once', async () => {
      const tenant = await createTenant(fixture.store.store);
      const api = importsApi(send, tenant);
      const job = await api.submit(csvOf(phoneBlock(2).map((n) => row(n))));
      assert.equal(job.state, 'queued');
      assert.equal(job.totalRows, 2);
      await sleep(100);
      assert.equal((await api.job(job.id)).state, 'queued');
      const res = await api.cancel(job.id);
      assert.equal(res.status, 200, res.body);
      const cancelled = res.json<JobJson>();
      assert.equal(cancelled.state, 'cancelled');
      assert.ok(cancelled.finishedAt);
      assert.deepEqual([cancelled.processedRows, cancelled.created, cancelled.failed], [0, 0, 0]);
      assert.deepEqual(await api.job(job.id), cancelled);
      assert.equal((await api.cancel(job.id)).status, 409);
      assert.equal(await api.contactCount(), 0);
    });

    it('does not let another tenant cancel a queued job', async () => {
      const owner = importsApi(send, await createTenant(fixture.store.store));
      const other = importsApi(send, await createTenant(fixture.store.store));
      const job = await owner.submit(csvOf(phoneBlock(1).map((n) => row(n))));
      const res = await other.cancel(job.id);
      assert.equal(res.status, 404, res.body);
      assert.equal((await owner.job(job.id)).state, 'queued');
      assert.equal((await owner.cancel(job.id)).status, 200);
    });
  });
}
