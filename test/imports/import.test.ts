import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { buildTestApp, createTenant, uniquePhone, type Tenant, type TestApp } from '../helpers/app.js';
import { createTestStore, DIALECTS, skipReason, type TestStore } from '../helpers/stores.js';

const HEADER = 'firstName,lastName,salutation,cellPhoneNumber,cellPhoneCountryCode,cellPhoneExtension';
// curl's boundary form: dashes, then hex.
const BOUNDARY = '------------------------a1b2c3d4e5f60718';

const SAMPLE_FIELDS = [
  'accountId', 'address', 'cellPhone', 'createdAt', 'createdBy', 'createdByAId', 'firstName', 'fullName', 'id',
  'instanceBotId', 'lastName', 'orgId', 'salutation', 'status', 'twitterDetails', 'updatedAt',
];

interface Report {
  totalRequested: number;
  successful: number;
  failed: number;
  successfulRecords: { row: number; id?: string; action: string }[];
  failedRecords: { row: number; errors: { code: string; msg: string; field?: string; row?: number; id?: string }[] }[];
}

/** A data row as the seeds' sample CSV holds it. */
const row = (phone: string, overrides: Partial<Record<'first' | 'last' | 'salutation' | 'code' | 'ext', string>> = {}) =>
  [overrides.first ?? 'john', overrides.last ?? 'doe', overrides.salutation ?? 'Mr', phone, overrides.code ?? '+91', overrides.ext ?? '+'].join(',');

const csvOf = (rows: string[], eol = '\n') => [HEADER, ...rows].join(eol) + eol;

/** The multipart body curl makes of `--form 'result_file=@"sample.csv"'`. */
function multipart(file: string | Buffer, disposition: 'form-data' | 'attachment' = 'form-data', fields: Record<string, string> = {}): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  parts.push(
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: ${disposition}; name="result_file"; filename="sample.csv"\r\nContent-Type: text/csv\r\n\r\n`),
    Buffer.isBuffer(file) ? file : Buffer.from(file),
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  );
  return Buffer.concat(parts);
}

for (const dialect of DIALECTS) {
  describe(`POST /contacts/import-contacts on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    let store: TestStore;
    let api: TestApp;
    let tenant: Tenant;
    const extraApps: TestApp[] = [];

    before(async () => {
      store = await createTestStore(dialect);
      api = await buildTestApp(store.store);
      tenant = await createTenant(store.store);
    });
    after(async () => {
      for (const extra of extraApps) await extra.close();
      await api?.close();
      await store?.destroy();
    });

    const responses: LightMyRequestResponse[] = [];
    afterEach(() => {
      // Nothing a caller sends may produce a 5xx.
      for (const res of responses.splice(0)) assert.ok(res.statusCode < 500, `${res.statusCode}: ${res.body}`);
    });

    async function send(payload: string | Buffer, contentType: string, query = '', app: TestApp = api): Promise<LightMyRequestResponse> {
      const res = await app.app.inject({
        method: 'POST',
        url: `${tenant.base}/contacts/import-contacts${query ? `?${query}` : ''}`,
        headers: { ...tenant.headers, 'content-type': contentType },
        payload,
      });
      responses.push(res);
      return res;
    }
    const upload = (csv: string | Buffer, query = '', app: TestApp = api) =>
      send(multipart(csv), `multipart/form-data; boundary=${BOUNDARY}`, query, app);

    const report = (res: LightMyRequestResponse): Report => {
      const body = res.json() as Report;
      assert.deepEqual(Object.keys(body).filter((k) => ['totalRequested', 'successful', 'failed', 'successfulRecords', 'failedRecords'].includes(k)).sort(),
        ['failed', 'failedRecords', 'successful', 'successfulRecords', 'totalRequested']);
      // No row is dropped silently.
      assert.equal(body.successful + body.failed, body.totalRequested);
      assert.equal(body.successfulRecords.length, body.successful);
      assert.equal(body.failedRecords.length, body.failed);
      return body;
    };
    const failedRows = (body: Report) => body.failedRecords.map((r) => r.row);

    const activeHolders = async (phone: string) =>
      store.store.db
        .selectFrom('contacts')
        .select(['id', 'first_name', 'last_name'])
        .where('stream_id', '=', tenant.streamId)
        .where('status', '=', 'ACTIVE')
        .where('phone_number', '=', phone)
        .execute();

    const createContact = async (phone: string) => {
      const res = await api.app.inject({
        method: 'POST',
        url: `${tenant.base}/contacts`,
        headers: tenant.headers,
        payload: [{ firstName: 'Held', lastName: 'Before', salutation: 'Ms', cellPhone: { phoneNumber: phone, countryCode: '+91', extension: '+' } }],
      });
      assert.equal(res.statusCode, 200, res.body);
      return res.json()[0] as { id: string };
    };

    it('answers the seeds’ own request (JSON content type with a boundary, attachment part) with the created contacts', async () => {
      const [john, jane] = [uniquePhone(), uniquePhone()];
      const csv = csvOf([row(john), row(jane, { first: 'jane', salutation: 'Mrs', ext: '91' })]);
      const res = await send(multipart(csv, 'attachment'), `application/json;charset=UTF-8; boundary=${BOUNDARY}`);
      assert.equal(res.statusCode, 200, res.body);
      const contacts = res.json();
      assert.equal(contacts.length, 2);
      for (const contact of contacts) assert.deepEqual(Object.keys(contact).sort(), SAMPLE_FIELDS);
      assert.deepEqual(contacts.map((c: { fullName: string }) => c.fullName), ['john doe', 'jane doe']);
      assert.deepEqual(contacts[0].cellPhone, { phoneNumber: `+91${john}`, countryCode: '+91', extension: '+' });
      assert.deepEqual(contacts[1].cellPhone, { phoneNumber: `+91${jane}`, countryCode: '+91', extension: '91' });
      assert.equal(contacts[1].salutation, 'Mrs');
      for (const contact of contacts) {
        assert.equal(contact.status, 'ACTIVE');
        assert.equal(contact.accountId, tenant.accountId);
        assert.equal(contact.orgId, tenant.orgId);
        assert.equal(contact.instanceBotId, tenant.streamId);
        assert.equal(contact.createdBy, tenant.userId);
        assert.deepEqual(contact.address, []);
        assert.deepEqual(contact.twitterDetails, []);
        assert.match(contact.id, /^[0-9a-f]{24}$/);
        assert.match(contact.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      }
      assert.equal((await activeHolders(`+91${john}`)).length, 1);
    });

    it('takes an ordinary multipart/form-data upload, with a text field before the file', async () => {
      const csv = csvOf([row(uniquePhone())]);
      const res = await send(multipart(csv, 'form-data', { note: 'weekly list' }), `multipart/form-data; boundary=${BOUNDARY}`);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().length, 1);
    });

    it('takes a raw text/csv body', async () => {
      const phone = uniquePhone();
      const res = await send(csvOf([row(phone)]), 'text/csv; charset=utf-8');
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json()[0].cellPhone.phoneNumber, `+91${phone}`);
    });

    it('reads the columns in any order and letter case', async () => {
      const phone = uniquePhone();
      const csv = ` CELLPHONENUMBER ,cellphoneextension,LastName,salutation,FirstName,cellPhoneCountryCode,notes\n${phone},ext1,Smith,Dr,Ann,91,ignored\n`;
      const res = await upload(csv);
      assert.equal(res.statusCode, 200, res.body);
      const [contact] = res.json();
      assert.equal(contact.firstName, 'Ann');
      assert.equal(contact.lastName, 'Smith');
      assert.equal(contact.salutation, 'Dr');
      assert.deepEqual(contact.cellPhone, { phoneNumber: `+91${phone}`, countryCode: '+91', extension: 'ext1' });
      assert.equal('notes' in contact, false);
    });

    it('reads a BOM, CRLF line ends and quoted fields holding commas and newlines', async () => {
      const [a, b] = [uniquePhone(), uniquePhone()];
      const csv = `\uFEFF${HEADER}\r\n"Mary, Ann","Doe\r\nJr",Ms,"${a}",+91,"+"\r\njohn,"say ""hi""",Mr,${b},+91,+\r\n`;
      const res = await upload(csv);
      assert.equal(res.statusCode, 200, res.body);
      const contacts = res.json();
      assert.deepEqual(contacts.map((c: { firstName: string; lastName: string }) => [c.firstName, c.lastName]), [['Mary, Ann', 'Doe\r\nJr'], ['john', 'say "hi"']]);
      assert.equal(contacts[1].cellPhone.phoneNumber, `+91${b}`);
    });

    it('skips blank lines', async () => {
      const csv = `${HEADER}\n\n${row(uniquePhone())}\n\n\n${row(uniquePhone())}\n\n`;
      const res = await upload(csv);
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().length, 2);
    });

    it('answers 207 when some rows fail, naming each failed row by its line in the file', async () => {
      const good = [uniquePhone(), uniquePhone(), uniquePhone()];
      const lines = [
        HEADER, //                                                 line 1
        row(good[0]!), //                                          line 2
        `"two","line\nname",Mr,${good[1]},+91,+`, //               lines 3-4
        row(uniquePhone(), { last: '' }), //                       line 5: no lastName
        '', //                                                     line 6: blank
        row('98765abc10'), //                                      line 7: letters in the number
        `"a","b\r\nc\r\nd",Mr,${uniquePhone()},+91,`, //           lines 8-10: no extension
        row(good[2]!), //                                          line 11
      ];
      const res = await upload(lines.join('\r\n') + '\r\n');
      assert.equal(res.statusCode, 207, res.body);
      const body = report(res);
      assert.equal(body.totalRequested, 6);
      assert.equal(body.successful, 3);
      assert.deepEqual(failedRows(body), [5, 7, 8]);
      assert.deepEqual(body.successfulRecords.map((r) => r.row), [2, 3, 11]);
      assert.deepEqual(body.failedRecords.map((r) => r.errors.map((e) => e.field)), [['lastName'], ['cellPhoneNumber'], ['cellPhoneExtension']]);
      for (const phone of good) assert.equal((await activeHolders(`+91${phone}`)).length, 1);
    });

    it('fails the row where a quote is never closed, keeping the rows before it', async () => {
      const phone = uniquePhone();
      const res = await upload(`${HEADER}\n${row(phone)}\n"unclosed,doe,Mr,${uniquePhone()},+91,+\n${row(uniquePhone())}\n`);
      assert.equal(res.statusCode, 207, res.body);
      const body = report(res);
      assert.deepEqual(body.failedRecords.map((r) => [r.row, r.errors[0]!.code]), [[3, 'MALFORMED_CSV']]);
      assert.equal((await activeHolders(`+91${phone}`)).length, 1);
    });

    it('keeps a number repeated in the file for its first row, failing later rows with that row’s line', async () => {
      const [repeated, other] = [uniquePhone(), uniquePhone()];
      const csv = csvOf([row(repeated, { first: 'first' }), `"multi\nline",x,Mr,${other},+91,+`, row(repeated, { first: 'second' }), row(`+91 ${repeated}`, { first: 'third' })]);
      const res = await upload(csv);
      assert.equal(res.statusCode, 207, res.body);
      const body = report(res);
      assert.deepEqual(failedRows(body), [5, 6]);
      for (const failed of body.failedRecords) {
        assert.deepEqual(failed.errors.map((e) => [e.code, e.row]), [['DUPLICATE_IN_FILE', 2]]);
      }
      const holders = await activeHolders(`+91${repeated}`);
      assert.deepEqual(holders.map((h) => h.first_name), ['first']);
    });

    it('fails a row whose number an ACTIVE contact holds, naming that contact', async () => {
      const taken = uniquePhone();
      const holder = await createContact(taken);
      const res = await upload(csvOf([row(uniquePhone()), row(taken)]));
      assert.equal(res.statusCode, 207, res.body);
      const body = report(res);
      assert.deepEqual(body.failedRecords, [{ row: 3, errors: [{ msg: body.failedRecords[0]!.errors[0]!.msg, code: 'PHONE_TAKEN', field: 'cellPhoneNumber', id: holder.id }] }]);
      assert.deepEqual((await activeHolders(`+91${taken}`)).map((h) => h.id), [holder.id]);
    });

    it('answers 409 when every row fails on a number already taken', async () => {
      const [a, b] = [uniquePhone(), uniquePhone()];
      const holders = [await createContact(a), await createContact(b)];
      const res = await upload(csvOf([row(a), row(b)]));
      assert.equal(res.statusCode, 409, res.body);
      const body = report(res);
      assert.equal(body.successful, 0);
      assert.deepEqual(body.failedRecords.map((r) => r.errors[0]!.id), holders.map((h) => h.id));
    });

    it('answers 400 with the report when every row is invalid', async () => {
      const res = await upload(csvOf([row('123'), row(uniquePhone(), { first: '' }), row(uniquePhone(), { code: '+999' })]));
      assert.equal(res.statusCode, 400, res.body);
      const body = report(res);
      assert.equal(body.totalRequested, 3);
      assert.deepEqual(failedRows(body), [2, 3, 4]);
      assert.deepEqual(body.failedRecords.map((r) => r.errors[0]!.field), ['cellPhoneNumber', 'firstName', 'cellPhoneCountryCode']);
    });

    it('updates the holder of a number when asked onDuplicate=update, keeping its id', async () => {
      const taken = uniquePhone();
      const holder = await createContact(taken);
      const res = await upload(csvOf([row(taken, { first: 'Renamed', last: 'Person', ext: '77' })]), 'onDuplicate=update');
      assert.equal(res.statusCode, 200, res.body);
      const [contact] = res.json();
      assert.equal(contact.id, holder.id);
      assert.equal(contact.firstName, 'Renamed');
      assert.equal(contact.fullName, 'Renamed Person');
      assert.equal(contact.cellPhone.extension, '77');
      assert.equal(contact.updatedBy, tenant.userId);
      assert.deepEqual(await activeHolders(`+91${taken}`), [{ id: holder.id, first_name: 'Renamed', last_name: 'Person' }]);
    });

    it('answers with the report shape when asked report=true, even when every row succeeds', async () => {
      const res = await upload(csvOf([row(uniquePhone()), row(uniquePhone())]), 'report=true');
      assert.equal(res.statusCode, 200, res.body);
      const body = report(res);
      assert.equal(body.successful, 2);
      assert.deepEqual(body.successfulRecords.map((r) => r.row), [2, 3]);
      for (const record of body.successfulRecords) assert.match(record.id!, /^[0-9a-f]{24}$/);
    });

    it('creates nothing from an atomic import with one bad row', async () => {
      const goodRows = [row(uniquePhone()), row(uniquePhone())];
      const res = await upload(csvOf([...goodRows, row('not a number')]), 'atomic=true');
      assert.equal(res.statusCode, 400, res.body);
      const body = report(res);
      assert.equal(body.successful, 0);
      assert.equal(body.failed, 3);
      assert.deepEqual(body.failedRecords.map((r) => r.errors[0]!.code), ['NOT_WRITTEN', 'NOT_WRITTEN', 'INVALID_PHONE_NUMBER']);
      // Nothing was written: the good rows now import cleanly.
      const again = await upload(csvOf(goodRows), 'atomic=true');
      assert.equal(again.statusCode, 200, again.body);
      assert.equal(again.json().length, 2);
    });

    it('checks and reports, but writes nothing, in a dry run', async () => {
      const taken = uniquePhone();
      await createContact(taken);
      const fresh = uniquePhone();
      const csv = csvOf([row(fresh), row(taken), row('12')]);
      const res = await upload(csv, 'dryRun=true');
      assert.equal(res.statusCode, 207, res.body);
      const body = report(res);
      assert.deepEqual(body.successfulRecords.map((r) => r.row), [2]);
      assert.deepEqual(body.failedRecords.map((r) => [r.row, r.errors[0]!.code]), [[3, 'PHONE_TAKEN'], [4, 'INVALID_PHONE_LENGTH']]);
      assert.equal((await activeHolders(`+91${fresh}`)).length, 0);
      const real = await upload(csvOf([row(fresh)]));
      assert.equal(real.statusCode, 200, real.body);
    });

    it('refuses a file without a required column, naming it', async () => {
      const res = await upload('firstName,lastName,salutation,cellPhoneNumber,cellPhoneExtension\njohn,doe,Mr,9876543210,+\n');
      assert.equal(res.statusCode, 400, res.body);
      const { errors } = res.json();
      assert.deepEqual(errors.map((e: { code: string; field: string }) => [e.code, e.field]), [['MISSING_COLUMN', 'cellPhoneCountryCode']]);
    });

    it('refuses a binary file with 415', async () => {
      const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 1, 0]);
      const res = await upload(png);
      assert.equal(res.statusCode, 415, res.body);
      assert.equal(res.json().errors[0].code, 'NOT_TEXT');
      assert.equal((await send(png, 'text/csv')).statusCode, 415);
    });

    it('refuses an empty file, or one with a header and no rows, with 400', async () => {
      for (const res of [await upload(''), await send('', 'text/csv'), await upload('\n\n'), await upload(`${HEADER}\n\n`)]) {
        assert.equal(res.statusCode, 400, res.body);
        assert.ok(res.json().errors[0].msg);
      }
    });

    it('refuses a body that is not multipart although it says so, and one that has no file part', async () => {
      const noClose = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="result_file"; filename="a.csv"\r\n\r\n${csvOf([row(uniquePhone())])}`);
      const truncated = await send(noClose, `multipart/form-data; boundary=${BOUNDARY}`);
      assert.equal(truncated.statusCode, 400, truncated.body);
      const noFile = await send(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="x"\r\n\r\ny\r\n--${BOUNDARY}--\r\n`), `multipart/form-data; boundary=${BOUNDARY}`);
      assert.equal(noFile.statusCode, 400, noFile.body);
      assert.equal(noFile.json().errors[0].code, 'MALFORMED_MULTIPART');
    });

    it('refuses more rows than IMPORT_MAX_ROWS with 413, creating none of them', async () => {
      const small = await buildTestApp(store.store, { IMPORT_MAX_ROWS: '3' });
      extraApps.push(small);
      const phones = Array.from({ length: 5 }, () => uniquePhone());
      const res = await upload(csvOf(phones.map((p) => row(p))), '', small);
      assert.equal(res.statusCode, 413, res.body);
      assert.match(res.json().errors[0].msg, /IMPORT_MAX_ROWS/);
      for (const phone of phones) assert.equal((await activeHolders(`+91${phone}`)).length, 0);
      // At the limit is fine.
      assert.equal((await upload(csvOf(phones.slice(0, 3).map((p) => row(p))), '', small)).statusCode, 200);
    });

    it('refuses a file larger than IMPORT_MAX_BYTES with 413, whether or not it says its length up front', async () => {
      const small = await buildTestApp(store.store, { IMPORT_MAX_BYTES: '1024' });
      extraApps.push(small);
      const rows = Array.from({ length: 40 }, () => row(uniquePhone()));
      const res = await upload(csvOf(rows), '', small);
      assert.equal(res.statusCode, 413, res.body);
      assert.match(res.json().errors[0].msg, /IMPORT_MAX_BYTES/);
      const huge = await upload(Buffer.alloc(200 * 1024, 0x61), '', small);
      assert.equal(huge.statusCode, 413, huge.body);
      for (const r of rows) assert.equal((await activeHolders(`+91${r.split(',')[3]}`)).length, 0);
    });

    it('refuses a JSON body (no boundary) with 415', async () => {
      const res = await send(JSON.stringify([{ firstName: 'x' }]), 'application/json;charset=UTF-8');
      assert.equal(res.statusCode, 415, res.body);
      assert.equal(res.json().errors[0].code, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('counts every data row as successful or failed, across many rows of every kind', async () => {
      const rows: string[] = [];
      const taken = uniquePhone();
      await createContact(taken);
      const repeated = uniquePhone();
      for (let i = 0; i < 300; i++) {
        if (i % 10 === 3) rows.push(row('bad'));
        else if (i % 10 === 5) rows.push(row(repeated));
        else if (i === 7) rows.push(row(taken));
        else rows.push(row(uniquePhone()));
      }
      const res = await upload(csvOf(rows));
      assert.equal(res.statusCode, 207, res.body);
      const body = report(res);
      assert.equal(body.totalRequested, 300);
      assert.equal(body.failed, 30 + 29 + 1);
      const all = [...body.successfulRecords.map((r) => r.row), ...failedRows(body)].sort((a, b) => a - b);
      assert.deepEqual(all, Array.from({ length: 300 }, (_, i) => i + 2));
    });

    const duplicateActiveNumbers = () =>
      store.store.db
        .selectFrom('contacts')
        .select(['phone_number', (eb) => eb.fn.countAll().as('n')])
        .where('stream_id', '=', tenant.streamId)
        .where('status', '=', 'ACTIVE')
        .groupBy('phone_number')
        .having((eb) => eb.fn.countAll(), '>', 1)
        .execute();

    /** ACTIVE contacts holding any of these (national) numbers: one per number when none is held twice. */
    const activeCount = async (phones: string[]) =>
      Number(
        (
          await store.store.db
            .selectFrom('contacts')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('stream_id', '=', tenant.streamId)
            .where('status', '=', 'ACTIVE')
            .where('phone_number', 'in', phones.map((p) => `+91${p}`))
            .executeTakeFirstOrThrow()
        ).n,
      );

    it('never leaves two ACTIVE contacts with one number when two imports that share numbers run at once', async () => {
      // Several rounds, the shared numbers in opposite orders: on PostgreSQL that is what once deadlocked.
      for (let round = 0; round < 3; round++) {
        const shared = Array.from({ length: 500 }, () => uniquePhone());
        const own = (n: number) => Array.from({ length: n }, () => uniquePhone());
        const first = csvOf([...own(50), ...shared].map((p) => row(p, { first: 'one' })));
        const second = csvOf([...[...shared].reverse(), ...own(50)].map((p) => row(p, { first: 'two' })));
        const [a, b] = await Promise.all([upload(first, 'report=true'), upload(second, 'report=true')]);
        for (const res of [a, b]) assert.ok([200, 207].includes(res.statusCode), `round ${round}: ${res.statusCode} ${res.body.slice(0, 300)}`);
        const [ra, rb] = [report(a), report(b)];
        // Each shared number went to exactly one of the two imports; the other names its holder.
        assert.equal(ra.successful + rb.successful, 600);
        for (const failed of [...ra.failedRecords, ...rb.failedRecords]) assert.equal(failed.errors[0]!.code, 'PHONE_TAKEN');
        assert.equal(await activeCount(shared), shared.length);
      }
      assert.deepEqual(await duplicateActiveNumbers(), []);
    });

    it('never leaves two ACTIVE contacts with one number when atomic, update and plain imports race', async () => {
      const modes = ['atomic=true', 'onDuplicate=update', '', 'atomic=true&onDuplicate=update'];
      for (let round = 0; round < 4; round++) {
        const shared = Array.from({ length: 60 }, () => uniquePhone());
        const csv = (order: string[]) => csvOf(order.map((p) => row(p)));
        const results = await Promise.all([
          upload(csv(shared), modes[round % 4]),
          upload(csv([...shared].reverse()), modes[(round + 1) % 4]),
          upload(csv(shared), modes[(round + 2) % 4]),
        ]);
        for (const res of results) assert.ok(res.statusCode < 500, `round ${round}: ${res.statusCode} ${res.body.slice(0, 300)}`);
        assert.equal(await activeCount(shared), shared.length);
      }
      assert.deepEqual(await duplicateActiveNumbers(), []);
    });
  });
}
