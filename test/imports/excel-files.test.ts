import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { createTenant, useApiFixture } from '../helpers/app.js';
import { HEADER, importsApi, injectSender, multipart, BOUNDARY } from '../helpers/imports.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';

const fixture = (name: string) => fs.readFileSync(new URL(`../fixtures/excel/${name}`, import.meta.url));

interface Report {
  totalRequested: number;
  successful: number;
  failed: number;
  csv: { encoding: string; delimiter: string };
  failedRecords: { row: number; errors: { code: string; msg: string; field?: string }[] }[];
}

for (const dialect of DIALECTS) {
  describe(`files as spreadsheets write them, on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    const f = useApiFixture(dialect);
    const api = async () => importsApi(injectSender(f.api.app), await createTenant(f.store.store));

    const contacts = async (imports: Awaited<ReturnType<typeof api>>, base: string, headers: Record<string, string>) => {
      const res = await imports.send('GET', `${base}/contacts?limit=100`, { headers });
      return res.json<{ results: { firstName: string; lastName: string; cellPhone: { phoneNumber: string; extension: string } }[] }>().results;
    };

    it('reads Excel\'s CSV in Windows-1252 with ; between cells, and says so in the report and the job', async () => {
      const tenant = await createTenant(f.store.store);
      const imports = importsApi(injectSender(f.api.app), tenant);
      const res = await imports.upload(fixture('windows-1252-semicolon.csv'), { path: '/contacts/import-contacts', query: 'report=true', form: 'multipart' });
      assert.equal(res.status, 200, res.body);
      const report = res.json<Report>();
      assert.deepEqual([report.totalRequested, report.successful, report.failed], [3, 3, 0]);
      assert.deepEqual(report.csv, { encoding: 'windows-1252', delimiter: ';' });
      const got = await contacts(imports, tenant.base, tenant.headers);
      assert.deepEqual(got.map((c) => `${c.firstName} ${c.lastName}`).sort(), ['Ann Ward', 'José Müller', 'Zoë Œuvre; “quoted”']);
      // As a job (in another stream, where the numbers are free), the worker reads the file as it was detected.
      const other = importsApi(injectSender(f.api.app), await createTenant(f.store.store));
      const job = await other.submit(fixture('windows-1252-semicolon.csv'), { query: 'dryRun=true' });
      assert.deepEqual(job.csv, { encoding: 'windows-1252', delimiter: ';' });
      const done = await other.finished(job.id);
      assert.deepEqual([done.state, done.processedRows, done.failed, done.csv.delimiter], ['completed', 3, 0, ';']);
    });

    it('reads Excel\'s Unicode Text: UTF-16LE with a BOM, tab-separated', async () => {
      const tenant = await createTenant(f.store.store);
      const imports = importsApi(injectSender(f.api.app), tenant);
      const job = await imports.submit(fixture('utf16le-tab.txt'), { form: 'multipart', fileName: 'contacts.txt' });
      assert.deepEqual(job.csv, { encoding: 'utf-16le', delimiter: '\t' });
      const done = await imports.finished(job.id);
      assert.deepEqual([done.state, done.created, done.failed], ['completed', 3, 0], JSON.stringify(done));
      const got = await contacts(imports, tenant.base, tenant.headers);
      assert.deepEqual(got.map((c) => c.lastName).sort(), ['Müller', 'Ward', 'Œuvre; “quoted”']);
    });

    it('fails a phone in scientific notation with its own code and the hint to format the column as text', async () => {
      const tenant = await createTenant(f.store.store);
      const imports = importsApi(injectSender(f.api.app), tenant);
      const res = await imports.upload(fixture('scientific-phones.csv'), { path: '/contacts/import-contacts' });
      assert.equal(res.status, 207, res.body);
      const report = res.json<Report>();
      assert.deepEqual([report.totalRequested, report.successful, report.failed], [3, 1, 2]);
      assert.deepEqual(report.failedRecords.map((r) => [r.row, r.errors[0]!.code, r.errors[0]!.field]), [
        [2, 'PHONE_SCIENTIFIC_NOTATION', 'cellPhoneNumber'],
        [4, 'PHONE_SCIENTIFIC_NOTATION', 'cellPhoneNumber'],
      ]);
      assert.match(report.failedRecords[0]!.errors[0]!.msg, /format the column as text/);
    });

    it('splits rows at CRLF, LF and CR alike: five rows, none merged or lost', async () => {
      const tenant = await createTenant(f.store.store);
      const imports = importsApi(injectSender(f.api.app), tenant);
      const res = await imports.upload(fixture('mixed-line-endings.csv'), { path: '/contacts/import-contacts', query: 'report=true' });
      assert.equal(res.status, 200, res.body);
      const report = res.json<Report & { successfulRecords: { row: number }[] }>();
      assert.deepEqual([report.totalRequested, report.successful], [5, 5]);
      assert.deepEqual(report.successfulRecords.map((r) => r.row), [2, 3, 4, 5, 6]);
      const got = await contacts(imports, tenant.base, tenant.headers);
      assert.deepEqual(got.map((c) => c.lastName).sort(), ['Five', 'Four', 'One', 'Three', 'Two']);
      assert.ok(got.every((c) => c.cellPhone.extension === '9'));
    });

    it('lets a declared charset override the guess, on the part or on the body', async () => {
      const tenant = await createTenant(f.store.store);
      const imports = importsApi(injectSender(f.api.app), tenant);
      // Valid UTF-8 bytes that a caller says are Windows-1252: read as declared.
      const bytes = Buffer.from(`${HEADER}\nJosé,Doe,Mr,9876500031,91,1\n`);
      let res = await imports.upload(bytes, { path: '/contacts/import-contacts', query: 'report=true', headers: { 'content-type': 'text/csv; charset=windows-1252' } });
      assert.equal(res.status, 200, res.body);
      assert.equal(res.json<Report>().csv.encoding, 'windows-1252');
      const part = Buffer.from(multipart(Buffer.from(`${HEADER}\nJos\xe9,Roe,Mr,9876500032,91,1\n`, 'latin1')).toString('latin1').replace('Content-Type: text/csv', 'Content-Type: text/csv; charset=ISO-8859-1'), 'latin1');
      res = await imports.send('POST', `${tenant.base}/contacts/import-contacts?report=true`, {
        headers: { ...tenant.headers, 'content-type': `multipart/form-data; boundary=${BOUNDARY}` }, body: part,
      });
      assert.equal(res.status, 200, res.body);
      const got = await contacts(imports, tenant.base, tenant.headers);
      assert.ok(got.some((c) => c.firstName === 'José' && c.lastName === 'Roe'));
      // Declared UTF-8 is held to it: a byte invalid in UTF-8 is refused, not guessed.
      res = await imports.upload(Buffer.from(`${HEADER}\nJos\xe9,Poe,Mr,9876500033,91,1\n`, 'latin1'), { path: '/contacts/import-contacts', headers: { 'content-type': 'text/csv; charset=utf-8' } });
      assert.equal(res.status, 415);
    });

    it('keeps binary files out: PNG, zip, and gzip without Content-Encoding are 415', async () => {
      const imports = await api();
      const files = [
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]),
        Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0]),
        Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3]),
        Buffer.from('firstName,x\n\x01\x02\x03\x04,y\n\xff\xfe', 'latin1'),
      ];
      for (const file of files) {
        const res = await imports.upload(file, { path: '/contacts/import-contacts' });
        assert.equal(res.status, 415, res.body);
        assert.equal(res.json<{ errors: { code: string }[] }>().errors[0]!.code, 'NOT_TEXT');
      }
    });

    it('fails the row of a cell longer than any value a contact holds, and refuses a 100,000-column header', async () => {
      const imports = await api();
      let res = await imports.upload(`${HEADER},notes\nAnn,${'L'.repeat(5000)},Ms,9876500041,91,,x\nBob,Kim,Mr,9876500042,91,,${'n'.repeat(3_000_000)}\n`, { path: '/contacts/import-contacts' });
      assert.equal(res.status, 400, res.body.slice(0, 500));
      const report = res.json<Report>();
      assert.deepEqual([report.totalRequested, report.failed], [2, 2]);
      assert.deepEqual(report.failedRecords.map((r) => [r.row, r.errors[0]!.code, r.errors[0]!.field]), [[2, 'CELL_TOO_LONG', 'lastName'], [3, 'CELL_TOO_LONG', undefined]]);
      res = await imports.upload(`${HEADER},${Array.from({ length: 100_000 }, (_, i) => `c${i}`).join(',')}\nAnn,Lee,Ms,9876500043,91,1\n`, { path: '/contacts/import-contacts' });
      assert.equal(res.status, 400);
      assert.equal(res.json<{ errors: { code: string }[] }>().errors[0]!.code, 'TOO_MANY_COLUMNS');
    });
  });
}
