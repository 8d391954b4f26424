import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CompiledQuery } from 'kysely';
import { createContactSearchRepository, positionOf, type PageRequest } from '../../src/contacts/contact-search.repository.js';
import { createContactRepository } from '../../src/contacts/contact.repository.js';
import { parseSearch, type Position, type SortParam } from '../../src/contacts/contact-search.js';
import { nameKeys } from '../../src/contacts/name-key.js';
import type { NewContactRow } from '../../src/db/schema.js';
import { newObjectId } from '../../src/shared/ids.js';
import type { Tenant } from '../helpers/app.js';
import { DIALECTS, skipReason } from '../helpers/stores.js';
import { contactsFixture } from './contacts-fixture.js';
import { recordingStatements } from '../helpers/statements.js';

const TOTAL = 100_000;
const BATCH = 5_000;
const PAGE = 100;

/** Contacts written straight through the repository: 100,000 through HTTP would test the HTTP layer, not paging. */
async function seed(fx: ReturnType<typeof contactsFixture>, tenant: Tenant): Promise<void> {
  const base = Date.UTC(2024, 0, 1);
  for (let from = 0; from < TOTAL; from += BATCH) {
    const rows: NewContactRow[] = [];
    for (let i = from; i < Math.min(TOTAL, from + BATCH); i++) {
      // Three contacts a millisecond and 997 distinct last names: both sorts have ties that only the id breaks.
      const t = base + Math.floor(i / 3);
      const firstName = `First${i}`;
      const lastName = `Last${i % 997}`;
      rows.push({
        id: newObjectId(t), stream_id: tenant.streamId, account_id: tenant.accountId, org_id: tenant.orgId,
        // Every tenth contact deleted, so the ACTIVE index and the status=all merge both have gaps to skip.
        status: i % 10 === 9 ? 'INACTIVE' : 'ACTIVE',
        first_name: firstName, last_name: lastName, salutation: 'Mx',
        phone_number: `+91${9_000_000_000 + i}`, country_code: '+91', extension: '',
        created_by: tenant.userId, created_by_aid: tenant.appId, updated_by: null, updated_by_aid: null, import_id: null,
        created_at: t, updated_at: t, ...nameKeys(firstName, lastName),
      });
    }
    await fx.store.store.db.transaction().execute((trx) => createContactRepository(trx).insertMany(tenant, rows));
  }
}

interface PgPlan {
  'Node Type': string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  Plans?: PgPlan[];
}

const planNodes = (plan: PgPlan): PgPlan[] => [plan, ...(plan.Plans ?? []).flatMap(planNodes)];

for (const dialect of DIALECTS) {
  describe(`paging 100,000 contacts by cursor on ${dialect}`, { skip: await skipReason(dialect) }, () => {
    const fx = contactsFixture(dialect);
    let tenant: Tenant;

    it('seeds 100,000 contacts', async () => {
      tenant = await fx.freshTenant();
      await seed(fx, tenant);
      // Planner statistics, as autovacuum would have gathered them on a real table this size.
      if (dialect === 'postgres') await fx.store.store.db.executeQuery(CompiledQuery.raw('analyze contacts'));
      else await fx.store.store.db.executeQuery(CompiledQuery.raw('analyze'));
    });

    it('walks GET /contacts?status=all from first to last page, returning each contact exactly once, in order', async () => {
      const seen = new Set<string>();
      let previous: { createdAt: string; id: string } | undefined;
      let page = await fx.list(`status=all&limit=${PAGE}`, tenant);
      assert.equal(page.totalResults, TOTAL);
      let pages = 0;
      for (;;) {
        pages += 1;
        for (const c of page.results) {
          assert.ok(!seen.has(c.id), `${c.id} returned twice`);
          seen.add(c.id);
          if (previous) assert.ok(previous.createdAt < c.createdAt || (previous.createdAt === c.createdAt && previous.id < c.id), `${c.id} out of order`);
          previous = c;
        }
        if (!page.nextCursor) break;
        page = await fx.list(`status=all&limit=${PAGE}&after=${page.nextCursor}`, tenant);
      }
      assert.equal(seen.size, TOTAL);
      assert.equal(pages, TOTAL / PAGE);
    });

    it('walks the ACTIVE contacts by -lastName through the repository, each exactly once across 90-way ties', async () => {
      const repo = createContactSearchRepository(fx.store.store.db);
      const { filter, sort } = parseSearch({ sort: '-lastName' });
      const seen = new Set<string>();
      let after: Position | undefined;
      for (;;) {
        const rows = await repo.page(tenant, { filter, sort, after, skip: 0, limit: 500 });
        for (const row of rows.slice(0, 500)) {
          assert.ok(!seen.has(row.id), `${row.id} returned twice`);
          seen.add(row.id);
        }
        if (rows.length <= 500) break;
        after = positionOf(rows[499]!, sort);
      }
      assert.equal(seen.size, TOTAL * 0.9);
    });

    for (const sort of ['createdAt', '-updatedAt', 'lastName', '-lastName'] as const satisfies readonly SortParam[]) {
      for (const status of ['ACTIVE', 'all'] as const) {
        it(`reads one page of index entries for a page deep in the stream (sort=${sort}, status=${status})`, async () => {
          const plan = await explainDeepPage(fx, tenant, sort, status);
          if (dialect === 'sqlite') {
            const details = plan as string[];
            assert.ok(details.some((d) => /SEARCH contacts USING INDEX contacts_\w+_idx \(stream_id=\? AND status=\? AND \(\w+,id\)[<>]\(\?,\?\)\)/.test(d)), details.join('\n'));
            assert.ok(!details.some((d) => /^SCAN contacts/.test(d)), details.join('\n'));
            // Rows come off the index in order; only the status=all merge sorts, and it sorts two pages.
            if (status === 'ACTIVE') assert.ok(!details.some((d) => /TEMP B-TREE/.test(d)), details.join('\n'));
          } else {
            const nodes = planNodes(plan as PgPlan);
            const scans = nodes.filter((n) => /Index Scan/.test(n['Node Type']));
            assert.equal(scans.length, status === 'all' ? 2 : 1, JSON.stringify(plan));
            for (const scan of scans) {
              assert.match(scan['Index Name'] ?? '', /^contacts_\w+_idx$/);
              assert.ok((scan['Actual Rows'] ?? Infinity) <= PAGE + 1, `${scan['Actual Rows']} rows read from ${scan['Index Name']}`);
            }
            assert.ok(!nodes.some((n) => n['Node Type'] === 'Seq Scan' || n['Node Type'] === 'Bitmap Heap Scan'), JSON.stringify(plan));
            if (status === 'ACTIVE') assert.ok(!nodes.some((n) => n['Node Type'] === 'Sort'), JSON.stringify(plan));
          }
        });
      }
    }
  });
}

/**
 * The plan of the page that starts 80,000 contacts in, read through the search repository's own query: EXPLAIN
 * QUERY PLAN's lines on SQLite, EXPLAIN ANALYZE's plan tree on PostgreSQL.
 */
async function explainDeepPage(fx: ReturnType<typeof contactsFixture>, tenant: Tenant, sort: SortParam, status: 'ACTIVE' | 'all'): Promise<string[] | PgPlan> {
  const db = fx.store.store.db;
  const search = parseSearch({ sort, status });
  const request: PageRequest = { filter: search.filter, sort: search.sort, skip: 0, limit: PAGE };
  // The position: the 80,000th contact in this order, found by offset once (the slow way the cursor avoids).
  const [atDepth] = await createContactSearchRepository(db).page(tenant, { ...request, skip: 80_000 - 1, limit: 0 });
  assert.ok(atDepth);
  const { db: recording, executed } = recordingStatements(db);
  const rows = await createContactSearchRepository(recording).page(tenant, { ...request, after: positionOf(atDepth, search.sort) });
  assert.equal(rows.length, PAGE + 1);
  assert.equal(executed.length, 1, 'a page by cursor is one statement');
  const query = executed[0]!;
  if (fx.store.store.dialect === 'sqlite') {
    const plan = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]));
    return plan.rows.map((r) => r.detail);
  }
  const plan = await db.executeQuery<{ 'QUERY PLAN': { Plan: PgPlan }[] }>(CompiledQuery.raw(`explain (analyze, format json) ${query.sql}`, [...query.parameters]));
  return plan.rows[0]!['QUERY PLAN'][0]!.Plan;
}
