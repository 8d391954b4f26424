import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { restoreCell } from '../../src/contacts/contact-csv.js';
import { createTenant, useApiFixture, type Tenant } from '../helpers/app.js';
import { HEADER, phoneBlock } from '../helpers/imports.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';

// Property tests over the text a caller may send: each run generates JSON_BATCHES × BATCH contacts (4 text fields
// each) and CSV_ROWS rows (4 text cells each), 10,000 generated inputs a store. Batched many to a request to keep
// the run short; the seed is printed by fast-check on failure, so a failure can be replayed.
const BATCH = 250;
/** The most ill-formed texts one refusal lists (`illFormedText`'s default). */
const TEXT_REFUSALS_LISTED = 100;
const JSON_BATCHES = 6;
const CSV_ROWS = 1000;

/** The characters that break naive text handling, mixed with any code point. */
const tricky = fc.constantFrom(
  '"', "'", ',', ';', '\t', '\r', '\n', '\r\n', '\u0000', '\u0001', '\u001f', '\u007f', '\u0085', '\u00a0', '\u2028', '\u2029', '\ufeff',
  '=', '+', '-', '@', '=HYPERLINK("x")', '\ud800', '\udfff', '\udbff\udfff', 'é', 'e\u0301', '😀', '👩‍👩‍👧', '\u{10ffff}', '\ufffd', ' ', '\\', '|',
);
const text = (maxLength: number) =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: tricky, maxLength: Math.ceil(maxLength / 4) }),
    fc.string({ unit: fc.oneof(tricky, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 })), maxLength: Math.ceil(maxLength / 2) }),
    fc.constantFrom('', ' ', 'Ann', 'x'.repeat(256), 'x'.repeat(257), ` ${'y'.repeat(256)} `),
  );

const contactFields = fc.record({ firstName: text(300), lastName: text(300), salutation: text(300), extension: text(40) });
type Fields = { firstName: string; lastName: string; salutation: string; extension: string };

interface Contact {
  id: string;
  firstName: string;
  lastName: string;
  salutation: string;
  cellPhone: { phoneNumber: string; extension: string };
}

const expectedOf = (f: Fields) => ({ firstName: f.firstName.trim(), lastName: f.lastName.trim(), salutation: f.salutation.trim(), extension: f.extension.trim() });
const storedOf = (c: Contact) => ({ firstName: c.firstName, lastName: c.lastName, salutation: c.salutation, extension: c.cellPhone.extension });

/** Every contact of the tenant's stream, by id. */
async function allContacts(f: ReturnType<typeof useApiFixture>, tenant: Tenant): Promise<Map<string, Contact>> {
  const byId = new Map<string, Contact>();
  for (let skip = 0; ; skip += 100) {
    const res = await f.api.app.inject({ url: `${tenant.base}/contacts?skip=${skip}&limit=100`, headers: tenant.headers });
    assert.equal(res.statusCode, 200);
    const page = res.json<{ results: Contact[]; hasMore: boolean }>();
    for (const c of page.results) byId.set(c.id, c);
    if (!page.hasMore) return byId;
  }
}

const csvCell = (value: string) => `"${value.replaceAll('"', '""')}"`;

for (const dialect of DIALECTS) {
  describe(`generated text on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    const f = useApiFixture(dialect);

    it(`keeps every accepted JSON field exactly and names every refused one (${JSON_BATCHES * BATCH * 4} inputs)`, async () => {
      const tenant = await createTenant(f.store.store);
      const accepted = new Map<string, Fields>();
      let refusedFields = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(contactFields, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
          const phones = phoneBlock(batch.length);
          const body = batch.map((c, i) => ({ ...c, extension: undefined, cellPhone: { phoneNumber: phones[i], countryCode: '+91', extension: c.extension } }));
          let res = await f.api.app.inject({ method: 'POST', url: `${tenant.base}/contacts`, headers: tenant.headers, payload: body });
          assert.ok(res.statusCode < 500, res.body);
          let kept = batch.map((_, i) => i);
          // Text that is not text is refused while the body is read, the fields' own checks after: two rounds, and one
          // more each time the text check listed as many refusals as it lists at most (src/http/request-body.ts).
          let rounds = 2;
          for (let round = 0; res.statusCode !== 200; round++) {
            assert.equal(res.statusCode, 400, res.body);
            assert.ok(round < rounds, res.body);
            const errors = res.json<{ errors: { index?: number; field?: string; code: string }[] }>().errors;
            if (errors.length === TEXT_REFUSALS_LISTED && errors.every((e) => e.code === 'INVALID_TEXT')) rounds += 1;
            const refused = new Set<number>();
            for (const e of errors) {
              assert.equal(typeof e.index, 'number', JSON.stringify(e));
              assert.ok(e.field, `a refusal names its field: ${JSON.stringify(e)}`);
              refused.add(kept[e.index!]!);
              refusedFields++;
            }
            kept = kept.filter((i) => !refused.has(i));
            res = await f.api.app.inject({ method: 'POST', url: `${tenant.base}/contacts`, headers: tenant.headers, payload: kept.map((i) => body[i]) });
          }
          const created = res.json<Contact[]>();
          assert.equal(created.length, kept.length);
          created.forEach((c, k) => {
            assert.deepEqual(storedOf(c), expectedOf(batch[kept[k]!]!));
            accepted.set(c.id, batch[kept[k]!]!);
          });
        }),
        { numRuns: JSON_BATCHES, endOnFailure: true },
      );
      // Read back from the store: identical, code unit for code unit.
      const stored = await allContacts(f, tenant);
      assert.equal(stored.size, accepted.size);
      for (const [id, input] of accepted) assert.deepEqual(storedOf(stored.get(id)!), expectedOf(input), id);
      assert.ok(accepted.size > 0 && refusedFields > 0, `both kinds seen: ${accepted.size} accepted, ${refusedFields} refusals`);
    });

    it(`keeps every accepted CSV cell exactly and names every refused one (${CSV_ROWS * 4} inputs)`, async () => {
      const tenant = await createTenant(f.store.store);
      // A file holding NUL is not text and is refused whole (415); the cells here are everything else.
      const cell = text(300).map((s) => s.replaceAll('\u0000', ''));
      const rows = fc.sample(fc.record({ firstName: cell, lastName: cell, salutation: cell, extension: text(40).map((s) => s.replaceAll('\u0000', '')) }), { numRuns: CSV_ROWS, seed: Date.now() % 100_000 });
      const phones = phoneBlock(rows.length);
      const csv = `${HEADER}\r\n${rows.map((r, i) => [r.firstName, r.lastName, r.salutation, phones[i], '+91', r.extension].map((c) => csvCell(c!)).join(',')).join('\r\n')}\r\n`;
      const res = await f.api.app.inject({ method: 'POST', url: `${tenant.base}/contacts/import-contacts?report=true`, headers: { ...tenant.headers, 'content-type': 'text/csv' }, payload: Buffer.from(csv) });
      assert.ok([200, 207, 400].includes(res.statusCode), res.body.slice(0, 500));
      const report = res.json<{ totalRequested: number; successfulRecords: { row: number; id: string }[]; failedRecords: { row: number; errors: { field?: string }[] }[] }>();
      assert.equal(report.totalRequested, rows.length, 'every row counted');
      assert.equal(report.successfulRecords.length + report.failedRecords.length, rows.length);
      for (const failed of report.failedRecords) for (const e of failed.errors) assert.ok(e.field, `row ${failed.row}: ${JSON.stringify(e)}`);
      const stored = await allContacts(f, tenant);
      // What the bytes say (a lone surrogate cannot be written as UTF-8: the file holds U+FFFD), restored and trimmed.
      const asRead = (s: string) => restoreCell(Buffer.from(s).toString()).trim();
      // Records are named by the line they start on, and a cell may span lines: the k-th record is the k-th row.
      const order = [...report.successfulRecords.map((r) => r.row), ...report.failedRecords.map((r) => r.row)].sort((a, b) => a - b);
      const rowAt = new Map(order.map((line, k) => [line, k]));
      for (const ok of report.successfulRecords) {
        const input = rows[rowAt.get(ok.row)!]!;
        assert.deepEqual(storedOf(stored.get(ok.id)!), { firstName: asRead(input.firstName), lastName: asRead(input.lastName), salutation: asRead(input.salutation), extension: asRead(input.extension) }, `row ${ok.row}`);
      }
      assert.ok(report.successfulRecords.length > 0 && report.failedRecords.length > 0);
    });
  });
}
