import assert from 'node:assert/strict';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { createContactExport } from '../../src/contacts/contact-export.service.js';
import { createContactExportRepository } from '../../src/contacts/contact-export.repository.js';
import { neutraliseCell } from '../../src/contacts/contact-csv.js';
import fs from 'node:fs';
import pg from 'pg';
import { buildTestApp, contactInput, createTenant, uniquePhone } from '../helpers/app.js';
import { createTestStore, DIALECTS, PG_ADMIN_URL, skipReason } from '../helpers/stores.js';
import { contactsFixture, type ContactJson } from './contacts-fixture.js';

const HEADER = 'firstName,lastName,salutation,cellPhoneNumber,cellPhoneCountryCode,cellPhoneExtension,id,status,createdAt,updatedAt';
const CHUNK = 4;

/** The file an export of these contacts must be, written here from their JSON by the rules docs/contacts-api.md gives. */
function expectedCsv(contacts: ContactJson[]): string {
  const cell = (v: string) => {
    const c = neutraliseCell(v);
    return /[",\r\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c;
  };
  const lines = contacts.map((c) =>
    [c.firstName, c.lastName, c.salutation, c.cellPhone.phoneNumber, c.cellPhone.countryCode, c.cellPhone.extension, c.id, c.status, c.createdAt, c.updatedAt]
      .map(cell).join(','));
  return [HEADER, ...lines].map((l) => `${l}\r\n`).join('');
}

const NAMES = ['=SUM(1)', 'Comma, Inc', 'Quote "q"', 'Line\nbreak', 'Ünïcödé', "'=already", 'Zoë', 'Ann', 'ann', 'Bo', '@x', 'Crlf\r\nin'];

for (const dialect of DIALECTS) {
  describe(`GET /contacts/export in chunks on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    const fx = contactsFixture(dialect, { EXPORT_CHUNK_ROWS: String(CHUNK) });

    /** Every contact a list with this query returns, in its order, following its cursor. */
    const listAll = async (query: string, t = fx.tenant) => {
      const all: ContactJson[] = [];
      let after: string | undefined;
      do {
        const page = await fx.list(`${query}&limit=100${after ? `&after=${encodeURIComponent(after)}` : ''}`, t);
        all.push(...page.results);
        after = page.nextCursor;
      } while (after);
      return all;
    };

    it('writes a file of many chunks byte for byte as the list filters and orders the contacts', async () => {
      const t = await fx.freshTenant();
      const created = await fx.create(
        Array.from({ length: 31 }, (_, i) => ({
          firstName: NAMES[i % NAMES.length], lastName: NAMES[(i * 5 + 3) % NAMES.length], salutation: i % 3 ? 'Mx' : '-y',
          cellPhone: { phoneNumber: uniquePhone(), countryCode: '+91', extension: ['+', '=2', '12', '-1'][i % 4] },
        })),
        t,
      );
      for (const c of created.filter((_, i) => i % 4 === 1)) assert.equal((await fx.call('DELETE', `/${c.id}`, undefined, t)).statusCode, 200);
      const updated = await fx.call('PUT', `/${created[0]!.id}`, { firstName: 'Changed' }, t);
      assert.equal(updated.statusCode, 200);
      for (const query of ['', 'sort=-createdAt', 'sort=updatedAt', 'sort=lastName', 'status=all', 'status=all&sort=-lastName', 'status=INACTIVE&sort=-updatedAt', 'q=ann', 'status=all&q=z']) {
        const res = await fx.call('GET', `/export?${query}`, undefined, t);
        assert.equal(res.statusCode, 200, res.body);
        const expected = await listAll(query, t);
        // More than a chunk, so the file is made of several (a name search matches fewer, but some).
        assert.ok(expected.length > (query.includes('q=') ? 0 : CHUNK), `${query}: ${expected.length} contacts`);
        assert.equal(res.body, expectedCsv(expected), query);
      }
    });

    it('shows the contacts as they were when it began, while writes go on', async () => {
      const t = await fx.freshTenant();
      const before = await fx.create(Array.from({ length: 10 }, () => ({})), t);
      const { exportContacts } = createContactExport({ rows: createContactExportRepository(fx.store.store), chunkRows: CHUNK });
      const file = (await exportContacts({ ...t, orgId: t.orgId }, {}))[Symbol.asyncIterator]();
      let text = '';
      text += (await file.next()).value;
      text += (await file.next()).value;
      // Writes made meanwhile are answered (the export does not hold the connection writes use) and not in the file.
      const added = await fx.create([{ firstName: 'Later' }], t);
      assert.equal((await fx.call('DELETE', `/${before[9]!.id}`, undefined, t)).statusCode, 200);
      assert.equal((await fx.call('PUT', `/${before[8]!.id}`, { firstName: 'Renamed' }, t)).statusCode, 200);
      for (let next = await file.next(); !next.done; next = await file.next()) text += next.value;
      assert.equal(text, expectedCsv(before));
      const now = (await fx.call('GET', '/export', undefined, t)).body;
      assert.ok(now.includes(added[0]!.id) && !now.includes(before[9]!.id) && now.includes('Renamed'));
    });

    it('gives its snapshot back when the client goes away mid-file, and the next request answers', async (ctx) => {
      const t = await fx.freshTenant();
      // Enough rows that the file outgrows what the socket buffers (a Unix socket's few hundred KB; loopback TCP's can
      // grow to tens of MB), so the server is still writing when the client leaves.
      const rows = 40_000;
      const csv = ['firstName,lastName,salutation,cellPhoneNumber,cellPhoneCountryCode,cellPhoneExtension',
        ...Array.from({ length: rows }, (_, i) => `Many,Rows${i},Mx,7${String(1_000_000_000 + i).slice(1)},+91,+`)].join('\r\n');
      const imported = await fx.api.app.inject({
        method: 'POST', url: `${t.base}/contacts/import-contacts`, headers: { ...t.headers, 'content-type': 'text/csv' }, payload: csv,
      });
      assert.equal(imported.statusCode, 200, imported.body.slice(0, 500));

      const socketPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dialbook-export-')), 'http.sock');
      await fx.api.app.listen({ path: socketPath });
      ctx.after(() => fx.api.app.server.close());

      const { store } = fx.store;
      /** Whether an export's snapshot is open: SQLite cannot checkpoint a write past it; PostgreSQL shows its session. */
      const snapshotOpen = async (): Promise<boolean> => {
        if (store.dialect === 'sqlite') {
          const [r] = store.sqlite.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
          return r!.checkpointed < r!.log;
        }
        const { rows: found } = await sql<{ n: string }>`select count(*) as n from pg_stat_activity
          where datname = current_database() and state = 'idle in transaction' and query like '%"first_name", "last_name"%'`.execute(store.db);
        return Number(found[0]!.n) > 0;
      };

      const request = http.get({ socketPath, path: `${t.base}/contacts/export`, headers: t.headers });
      const response = await new Promise<http.IncomingMessage>((resolve, reject) => request.once('response', resolve).once('error', reject));
      assert.equal(response.statusCode, 200);
      response.pause();
      // A write after the export began, which its snapshot (on SQLite) keeps the WAL from taking in whole. The export
      // opens its snapshot as it reads its first chunk, which a loaded machine may take a while to reach.
      let began = false;
      for (let i = 0; i < 100 && !began; i++) {
        await sleep(100);
        await fx.create([{ firstName: 'During' }], t);
        began = await snapshotOpen();
      }
      assert.equal(began, true, 'the export is under way, its snapshot open');

      request.destroy();
      let open = true;
      for (let i = 0; i < 50 && open; i++) {
        await sleep(100);
        open = await snapshotOpen();
      }
      assert.equal(open, false, 'the snapshot was given back after the client left');
      const after = await fx.call('GET', '/export?phoneNumber=%2B917000000001', undefined, t);
      assert.equal(after.statusCode, 200, after.body);
      assert.equal(after.body.split('\r\n').length, 3);
    });

    it('closing the store ends an export under way', async () => {
      const own = await createTestStore(dialect);
      try {
        const api = await buildTestApp(own.store);
        const t = await createTenant(own.store);
        const created = await api.app.inject({ method: 'POST', url: `${t.base}/contacts`, headers: t.headers, payload: Array.from({ length: 10 }, () => contactInput()) });
        assert.equal(created.statusCode, 200, created.body);
        const { exportContacts } = createContactExport({ rows: createContactExportRepository(own.store), chunkRows: CHUNK });
        const file = (await exportContacts({ ...t, orgId: t.orgId }, {}))[Symbol.asyncIterator]();
        assert.equal((await file.next()).done, false);
        await api.close();
        await Promise.race([own.store.close(), sleep(10_000).then(() => assert.fail('closing the store waited for the export'))]);
        if (own.url.kind === 'sqlite') {
          // The last connection to close takes the WAL in and removes it: an export's connection left open would keep it.
          assert.equal(fs.existsSync(`${own.url.file}-wal`), false);
        } else {
          const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
          await admin.connect();
          try {
            const name = new URL(own.url.url).pathname.slice(1);
            // A backend leaves pg_stat_activity a moment after its client has gone (it exits on its own time): wait for
            // that, a few seconds at most; a connection left open stays.
            const connected = async () => Number((await admin.query<{ n: string }>('select count(*) as n from pg_stat_activity where datname = $1', [name])).rows[0]!.n);
            let n = await connected();
            for (const deadline = Date.now() + 5000; n > 0 && Date.now() < deadline; n = await connected()) await sleep(50);
            assert.equal(n, 0);
          } finally {
            await admin.end();
          }
        }
      } finally {
        await own.destroy();
      }
    });
  });
}
