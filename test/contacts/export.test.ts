import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Papa from 'papaparse';
import { createContactExport } from '../../src/contacts/contact-export.service.js';
import { createContactExportRepository } from '../../src/contacts/contact-export.repository.js';
import { uniquePhone } from '../helpers/app.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';
import { contactsFixture, type ContactJson } from './contacts-fixture.js';

const HEADER = 'firstName,lastName,salutation,cellPhoneNumber,cellPhoneCountryCode,cellPhoneExtension,id,status,createdAt,updatedAt';

/** Contacts whose fields a spreadsheet or a naive CSV writer would get wrong. */
const AWKWARD = [
  { firstName: '=SUM(1)', lastName: '@x', salutation: '-y', extension: '+' },
  { firstName: '+z', lastName: 'Comma, Inc', salutation: 'Quote "q"', extension: '=2' },
  { firstName: 'Line\nbreak', lastName: "O'Brien", salutation: "'=already", extension: '-1' },
  { firstName: 'Ünïcödé', lastName: "'plain", salutation: "''@two", extension: '@3' },
  { firstName: 'Crlf\r\ninside', lastName: 'Zoë', salutation: 'Mx', extension: '12' },
];

const fieldsOf = (c: ContactJson) => ({
  firstName: c.firstName, lastName: c.lastName, salutation: c.salutation, fullName: c.fullName, cellPhone: c.cellPhone,
});

for (const dialect of DIALECTS) {
  describe(`GET /contacts/export on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    const fx = contactsFixture(dialect);

    const exportCsv = async (query: string, as = fx.tenant) => {
      const res = await fx.call('GET', `/export${query ? `?${query}` : ''}`, undefined, as);
      assert.equal(res.statusCode, 200, res.body);
      return res;
    };
    const parse = (text: string) => Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: true }).data;

    it('answers a CSV attachment with the import columns first, then id, status and timestamps', async () => {
      const t = await fx.freshTenant();
      const [a, b] = await fx.create([{ firstName: 'Ann', lastName: 'Lee' }, { firstName: 'Bo', lastName: 'Ng' }], t);
      const res = await exportCsv('', t);
      assert.equal(res.headers['content-type'], 'text/csv; charset=utf-8');
      assert.equal(res.headers['content-disposition'], 'attachment; filename="contacts.csv"');
      const lines = res.body.split('\r\n');
      assert.equal(lines[0], HEADER);
      assert.equal(lines[1], `Ann,Lee,Mr,'${a!.cellPhone.phoneNumber},'+91,'+,${a!.id},ACTIVE,${a!.createdAt},${a!.updatedAt}`);
      assert.equal(lines[2], `Bo,Ng,Mr,'${b!.cellPhone.phoneNumber},'+91,'+,${b!.id},ACTIVE,${b!.createdAt},${b!.updatedAt}`);
      assert.equal(lines[3], '');
      assert.equal(lines.length, 4);
    });

    it('answers only the header for a stream with no contacts', async () => {
      const t = await fx.freshTenant();
      assert.equal((await exportCsv('', t)).body, `${HEADER}\r\n`);
    });

    it('neutralises cells a spreadsheet would run as formulas and quotes as RFC 4180 says', async () => {
      const t = await fx.freshTenant();
      await fx.create(AWKWARD.slice(0, 3).map(({ extension, ...names }) => ({ ...names, cellPhone: { phoneNumber: uniquePhone(), countryCode: '+91', extension } })), t);
      const lines = (await exportCsv('', t)).body.split('\r\n');
      assert.match(lines[1]!, /^'=SUM\(1\),'@x,'-y,'\+91\d{10},'\+91,'\+,/);
      assert.match(lines[2]!, /^'\+z,"Comma, Inc","Quote ""q""",'\+91\d{10},'\+91,'=2,/);
      assert.match(lines[3]!, /^"Line\nbreak",O'Brien,''=already,'\+91\d{10},'\+91,'-1,/);
    });

    it('imports back unchanged into another stream, every field', async () => {
      const source = await fx.freshTenant();
      const target = await fx.freshTenant();
      const created = await fx.create(
        AWKWARD.map(({ extension, ...names }, i) => ({ ...names, cellPhone: { phoneNumber: `98765 0${i}${String(process.pid % 1000).padStart(3, '0')}`, countryCode: '91', extension } })),
        source,
      );
      const csv = (await exportCsv('', source)).body;
      const res = await fx.api.app.inject({
        method: 'POST',
        url: `${target.base}/contacts/import-contacts`,
        headers: { ...target.headers, 'content-type': 'text/csv' },
        payload: csv,
      });
      assert.equal(res.statusCode, 200, res.body);
      const imported = res.json() as ContactJson[];
      assert.equal(imported.length, created.length);
      const byNumber = new Map(imported.map((c) => [c.cellPhone.phoneNumber, c]));
      for (const original of created) {
        const copy = byNumber.get(original.cellPhone.phoneNumber);
        assert.ok(copy, `${original.cellPhone.phoneNumber} was not imported`);
        assert.deepEqual(fieldsOf(copy), fieldsOf(original));
      }
      // And the copy exports to the same file but for ids and times.
      const again = parse((await exportCsv('', target)).body);
      const first = parse(csv);
      const strip = (rows: Record<string, string>[]) => rows.map(({ id: _i, createdAt: _c, updatedAt: _u, ...rest }) => rest);
      assert.deepEqual(strip(again), strip(first));
    });

    it('honours the filters and the sort of the list', async () => {
      const t = await fx.freshTenant();
      const [zed, amy, gone] = await fx.create([{ firstName: 'Zed', lastName: 'Zulu' }, { firstName: 'Amy', lastName: 'Alpha' }, { firstName: 'Gone', lastName: 'Away' }], t);
      await fx.call('DELETE', `/${gone!.id}`, undefined, t);
      const idsIn = async (query: string) => parse((await exportCsv(query, t)).body).map((r) => r.id);
      assert.deepEqual(await idsIn(''), [zed!.id, amy!.id]);
      assert.deepEqual(await idsIn('sort=lastName'), [amy!.id, zed!.id]);
      assert.deepEqual(await idsIn('status=all&sort=-lastName'), [zed!.id, gone!.id, amy!.id]);
      assert.deepEqual(await idsIn('status=INACTIVE'), [gone!.id]);
      assert.deepEqual(await idsIn('q=zu'), [zed!.id]);
      assert.deepEqual(await idsIn(`phoneNumber=${encodeURIComponent(amy!.cellPhone.phoneNumber)}`), [amy!.id]);
      const rows = parse((await exportCsv('status=INACTIVE', t)).body);
      assert.equal(rows[0]!.status, 'INACTIVE');
    });

    it('refuses bad filters with an error answer, not a broken file', async () => {
      const res = await fx.call('GET', '/export?phoneNumber=abc');
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().errors[0].field, 'phoneNumber');
      assert.equal((await fx.call('GET', '/export?sort=firstName')).statusCode, 400);
    });

    it("exports one stream's contacts only", async () => {
      const [mine] = await fx.create([{ firstName: 'Private' }]);
      const theirs = parse((await exportCsv('status=all', fx.other)).body);
      assert.ok(!theirs.some((r) => r.id === mine!.id));
    });

    it('reads the contacts a chunk at a time as the file is consumed, each once and in order', async () => {
      const t = await fx.freshTenant();
      const created = await fx.create(Array.from({ length: 7 }, () => ({})), t);
      let reads = 0; // queries on the store
      const { store } = fx.store;
      const counting = createContactExportRepository({
        db: store.db,
        snapshot: async () => {
          const snapshot = await store.snapshot();
          return { rows: (query) => ((reads += 1), snapshot.rows(query)), close: () => snapshot.close() };
        },
      });
      const { exportContacts } = createContactExport({ rows: counting, chunkRows: 3 });
      const ctx = { ...t, orgId: t.orgId };
      const chunks = (await exportContacts(ctx, {}))[Symbol.asyncIterator]();
      assert.equal(reads, 1, 'the first chunk is read before answering');
      assert.equal((await chunks.next()).value, `${HEADER}\r\n`);
      const firstChunk = (await chunks.next()).value as string;
      assert.equal(firstChunk.split('\r\n').length - 1, 3);
      assert.equal(reads, 1, 'no second chunk before the first is taken');
      let text = firstChunk;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) text += next.value;
      // 3 + 3 + 1 rows: the short third chunk says it was the last.
      assert.equal(reads, 3);
      assert.deepEqual(parse(`${HEADER}\r\n${text}`).map((r) => r.id), created.map((c) => c.id));
    });
  });
}
