import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompiledQuery, sql, type Kysely } from 'kysely';
import { createContactSearchRepository } from '../../src/contacts/contact-search.repository.js';
import { createContactRepository } from '../../src/contacts/contact.repository.js';
import { parseSearch, type SearchPageQuery } from '../../src/contacts/contact-search.js';
import { nameKeys } from '../../src/contacts/name-key.js';
import type { Database, NewContactRow } from '../../src/db/schema.js';
import { newObjectId } from '../../src/shared/ids.js';
import { createTenancyService } from '../../src/tenancy/tenancy.service.js';
import type { Tenant } from '../helpers/app.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';
import { contactsFixture } from './contacts-fixture.js';
import { recordingStatements } from '../helpers/statements.js';

const TOTAL = 100_000;
const BATCH = 5_000;
const FIRST_NAMES = ['James', 'Mary', 'Robert', 'Patricia', 'John', 'Jennifer', 'Michael', 'Linda', 'David', 'Elizabeth'];

/** 100,000 contacts written straight through the repository (as the cursor test does), 1 in 10 INACTIVE. */
async function seed(db: Kysely<Database>, tenant: Tenant): Promise<void> {
  const base = Date.UTC(2024, 0, 1);
  for (let from = 0; from < TOTAL; from += BATCH) {
    const rows: NewContactRow[] = [];
    for (let i = from; i < Math.min(TOTAL, from + BATCH); i++) {
      const t = base + i;
      const firstName = FIRST_NAMES[i % FIRST_NAMES.length]!;
      // 5,000 last names, 20 contacts each.
      const lastName = `Surname${i % 5000}`;
      rows.push({
        id: newObjectId(t), stream_id: tenant.streamId, account_id: tenant.accountId, org_id: tenant.orgId,
        status: i % 10 === 9 ? 'INACTIVE' : 'ACTIVE', first_name: firstName, last_name: lastName, salutation: 'Mx',
        phone_number: `+91${9_000_000_000 + i}`, country_code: '+91', extension: '',
        created_by: tenant.userId, created_by_aid: tenant.appId, updated_by: null, updated_by_aid: null, import_id: null,
        created_at: t, updated_at: t, ...nameKeys(firstName, lastName),
      });
    }
    await db.transaction().execute((trx) => createContactRepository(trx).insertMany(tenant, rows));
  }
}

const pick = (page: { totalResults?: number; totalPages?: number; totalResultsExact?: false }) => ({
  totalResults: page.totalResults, totalPages: page.totalPages, totalResultsExact: page.totalResultsExact,
});

interface PgPlan {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PgPlan[];
}

const planNodes = (plan: PgPlan): PgPlan[] => [plan, ...(plan.Plans ?? []).flatMap(planNodes)];

/** Every statement the search repository sends for one GET /contacts without a cursor: the page and the count. */
async function statementsOf(db: Kysely<Database>, tenant: Tenant, query: SearchPageQuery): Promise<CompiledQuery[]> {
  const { db: recording, executed } = recordingStatements(db);
  const search = parseSearch(query);
  const repo = createContactSearchRepository(recording);
  await repo.page(tenant, { filter: search.filter, sort: search.sort, skip: 0, limit: 10 });
  await repo.count(tenant, search.filter);
  assert.ok(executed.length >= 2);
  return executed;
}

for (const dialect of DIALECTS) {
  describe(`plans of list, search and lookup at 100,000 contacts on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    const fx = contactsFixture(dialect);
    let tenant: Tenant;

    it('seeds 100,000 contacts and gathers planner statistics', async () => {
      tenant = await fx.freshTenant();
      await seed(fx.store.store.db, tenant);
      // Other streams with contacts of their own, so that the counts table holds more than this stream's rows.
      const tenancy = createTenancyService({ db: fx.store.store.db });
      for (let i = 0; i < 300; i++) {
        const { streamId } = await tenancy.createStream(tenant.accountId, `other ${i}`);
        const t = Date.UTC(2024, 0, 1);
        await fx.store.store.db.transaction().execute((trx) =>
          createContactRepository(trx).insertMany({ ...tenant, streamId }, [{
            id: newObjectId(t), stream_id: streamId, account_id: tenant.accountId, org_id: tenant.orgId, status: 'ACTIVE',
            first_name: 'O', last_name: 'O', salutation: 'Mx', phone_number: '+919000000000', country_code: '+91', extension: '',
            created_by: tenant.userId, created_by_aid: tenant.appId, updated_by: null, updated_by_aid: null, import_id: null,
            created_at: t, updated_at: t, ...nameKeys('O', 'O'),
          }]),
        );
      }
      // PostgreSQL after ANALYZE, as the import leaves it; SQLite as the service runs it, with no statistics at all.
      if (dialect === 'postgres') await fx.store.store.db.executeQuery(CompiledQuery.raw('analyze'));
      const page = await fx.list('limit=10', tenant);
      assert.equal(page.totalResults, TOTAL * 0.9);
    });

    it('answers the totals the docs promise: exact for a status, a number and a name within the cap, a lower bound past it', async () => {
      assert.deepEqual(pick(await fx.list('status=INACTIVE&limit=10', tenant)), { totalResults: 10_000, totalPages: 1000, totalResultsExact: undefined });
      assert.deepEqual(pick(await fx.list('phoneNumber=%2B919000012345', tenant)), { totalResults: 1, totalPages: 1, totalResultsExact: undefined });
      const rare = await fx.list('q=surname1234&limit=5', tenant);
      assert.deepEqual(pick(rare), { totalResults: 20, totalPages: 4, totalResultsExact: undefined });
      assert.ok(rare.results.every((c) => c.lastName === 'Surname1234'));
      // James: every tenth contact, all 10,000 ACTIVE.
      const common = await fx.list('q=james&limit=10', tenant);
      assert.deepEqual(pick(common), { totalResults: 1000, totalPages: 100, totalResultsExact: false });
      assert.ok(common.results.every((c) => c.firstName === 'James'));
      // A page deeper than the cap still counts itself.
      const deep = await fx.list('q=james&limit=100&skip=2000', tenant);
      assert.equal(deep.totalResults, 2101);
      assert.equal(deep.totalResultsExact, false);
    });

    it('refuses skip deeper than 10,000 with SKIP_TOO_DEEP, and serves 10,000 itself', async () => {
      assert.equal((await fx.list('skip=10000&limit=1', tenant)).results.length, 1);
      const res = await fx.call('GET', '?skip=10001', undefined, tenant);
      assert.equal(res.statusCode, 400);
      assert.deepEqual(res.json().errors.map((e: { code: string; field: string }) => [e.code, e.field]), [['SKIP_TOO_DEEP', 'skip']]);
    });

    // maxRows: the most index entries any scan of the plan may read. walks: whether the page may walk the sort's
    // index (filtering as it goes), which only a dense match or no filter at all may do.
    const cases: { name: string; query: SearchPageQuery; maxRows: number; walks: boolean }[] = [
      { name: 'the first page', query: {}, maxRows: 11, walks: true },
      { name: 'the first page of status=all', query: { status: 'all' }, maxRows: 22, walks: true },
      { name: 'the first page by -lastName', query: { sort: '-lastName' }, maxRows: 11, walks: true },
      { name: 'a phone lookup', query: { phoneNumber: '+919000012345' }, maxRows: 2, walks: false },
      { name: 'a phone lookup among all statuses', query: { phoneNumber: '+919000012345', status: 'all' }, maxRows: 2, walks: false },
      // 20 contacts of one last name, all ACTIVE; no other last name starts with it.
      { name: 'a name search', query: { q: 'surname1234' }, maxRows: 21, walks: false },
      { name: 'a name search among all statuses, by lastName', query: { q: 'surname1234', status: 'all', sort: 'lastName' }, maxRows: 21, walks: false },
      // A tenth of the stream matches: counted up to the cap, and the page found after about ten contacts each.
      { name: 'a name search matching more than the cap', query: { q: 'james' }, maxRows: 1001 * 2, walks: true },
    ];
    for (const { name, query, maxRows, walks } of cases) {
      it(`reads ${name} along indexes, never scanning the stream (${JSON.stringify(query)})`, async (t) => {
        const db = fx.store.store.db;
        for (const statement of await statementsOf(db, tenant, query)) {
          const where = `${statement.sql}\n`;
          if (dialect === 'sqlite') {
            const plan = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${statement.sql}`, [...statement.parameters]));
            const details = plan.rows.map((r) => r.detail);
            t.diagnostic(`${statement.sql.slice(0, 60)}… → ${details.join(' | ')}`);
            assert.ok(!details.some((d) => /^SCAN (contacts|stream_counts)\b/.test(d)), where + details.join('\n'));
            assert.ok(details.some((d) => /^SEARCH (contacts|stream_counts) USING/.test(d) || /^INDEX \d+/.test(d) || /MULTI-INDEX OR/.test(d)), where + details.join('\n'));
            for (const d of details) {
              if (/^SEARCH contacts USING (COVERING )?INDEX/.test(d)) assert.match(d, /\(stream_id=\?/, where + details.join('\n'));
              // A walk of the stream along a sort index, filtering as it goes: its cost is the stream's, not the matches'.
              if (!walks) assert.doesNotMatch(d, /USING INDEX contacts_(created|updated|last_name|full_name)_idx \(stream_id=\? AND status=\?\)$/, where + details.join('\n'));
            }
          } else {
            const plan = await db.executeQuery<{ 'QUERY PLAN': { Plan: PgPlan }[] }>(
              CompiledQuery.raw(`explain (analyze, format json) ${statement.sql}`, [...statement.parameters]),
            );
            const nodes = planNodes(plan.rows[0]!['QUERY PLAN'][0]!.Plan);
            const text = where + JSON.stringify(plan.rows[0]!['QUERY PLAN'][0]!.Plan);
            assert.ok(!nodes.some((n) => n['Node Type'] === 'Seq Scan' && n['Relation Name'] !== 'stream_counts'), text);
            // The planner may read stream_counts whole while it is a few pages (it then costs less than its index); a
            // real deployment's many streams make it a primary-key lookup. What must never be read whole is contacts.
            const countsWhole = nodes.some((n) => n['Node Type'] === 'Seq Scan');
            if (countsWhole) {
              const { rows: [table] } = await sql<{ pages: number }>`select relpages as pages from pg_class where relname = 'stream_counts'`.execute(db);
              assert.ok(table!.pages <= 10, `stream_counts read whole at ${table!.pages} pages\n${text}`);
            }
            const scans = nodes.filter((n) => /Index/.test(n['Node Type']));
            t.diagnostic(`${statement.sql.slice(0, 60)}… → ${nodes.map((n) => `${n['Node Type']}${n['Index Name'] ? ` ${n['Index Name']}` : ''} (${n['Actual Rows']})`).join(' | ')}`);
            // Every other statement reads along an index (a count read whole from the small stream_counts has none).
            if (!countsWhole) assert.ok(scans.length > 0, text);
            for (const scan of scans) {
              const read = ((scan['Actual Rows'] ?? 0) + (scan['Rows Removed by Filter'] ?? 0)) * (scan['Actual Loops'] ?? 1);
              assert.ok(read <= maxRows, `${read} entries read from ${scan['Index Name']}\n${text}`);
            }
          }
        }
      });
    }
  });
}
