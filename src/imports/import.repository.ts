import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql, type ExpressionBuilder, type Kysely } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Database, ImportRow, NewImportRow } from '../db/schema.js';
import type { Tenant } from '../contacts/contact.repository.js';

export interface LineRange {
  from: number;
  to: number;
}

export interface Actor {
  orgId: string;
  userId: string;
  appId: string;
}

export interface OutcomeCounts {
  total: number;
  created: number;
  updated: number;
  failed: number;
}

// 16 columns a row: 1,000 rows stay under SQLite's 32,766 bound parameters.
const STAGE_BATCH = 1000;

const STAGED_COLUMNS = [
  'import_id', 'line', 'first_name', 'last_name', 'salutation', 'phone_number', 'country_code', 'extension',
  'candidate_id', 'outcome', 'contact_id', 'error_code', 'errors', 'first_line', 'last_name_key', 'full_name_key',
] as const satisfies readonly (keyof NewImportRow)[];

/**
 * The staging table and the set-based statements that apply it to `contacts`. Every statement is scoped to one
 * import, and every statement that touches `contacts` to the import's stream. Given a PostgreSQL pool, rows are
 * staged with COPY … FROM STDIN instead of INSERTs.
 */
export function createImportRepository(db: Kysely<Database>, pool?: pg.Pool) {
  const rowsOf = (importId: string, range?: LineRange) => {
    let q = db.updateTable('import_rows').where('import_id', '=', importId).where('outcome', 'is', null);
    if (range) q = q.where('line', '>=', range.from).where('line', '<=', range.to);
    return q;
  };

  return {
    async createImport(tenant: Tenant, importId: string, actor: Actor, now: number): Promise<void> {
      await db
        .insertInto('imports')
        .values({
          id: importId,
          stream_id: tenant.streamId,
          account_id: tenant.accountId,
          app_id: actor.appId,
          user_id: actor.userId,
          status: 'receiving',
          total_rows: 0,
          created_count: 0,
          updated_count: 0,
          failed_count: 0,
          created_at: now,
          finished_at: null,
        })
        .execute();
    },

    async stageRows(rows: NewImportRow[]): Promise<void> {
      if (pool) return copyRows(pool, rows);
      for (let i = 0; i < rows.length; i += STAGE_BATCH) {
        await db.insertInto('import_rows').values(rows.slice(i, i + STAGE_BATCH)).execute();
      }
    },

    /**
     * PostgreSQL plans the apply statements from table statistics, and a table just filled by COPY has none until
     * autovacuum comes by: without them it may pick a join that reads the whole stream for every row.
     */
    async refreshStagingStatistics(): Promise<void> {
      if (pool) await sql`analyze import_rows`.execute(db);
    },

    async lineSpan(importId: string): Promise<LineRange | undefined> {
      const row = await db
        .selectFrom('import_rows')
        .select((eb) => [eb.fn.min('line').as('from'), eb.fn.max('line').as('to')])
        .where('import_id', '=', importId)
        .executeTakeFirst();
      return row?.from == null || row.to == null ? undefined : { from: Number(row.from), to: Number(row.to) };
    },

    /** A number repeated in the file: the first row keeps it, later rows fail naming that row. */
    async failRepeatsInFile(importId: string): Promise<void> {
      await rowsOf(importId)
        .set((eb) => ({
          outcome: 'failed',
          error_code: 'DUPLICATE_IN_FILE',
          first_line: eb
            .selectFrom('import_rows as first')
            .select((f) => f.fn.min('first.line').as('line'))
            .whereRef('first.import_id', '=', 'import_rows.import_id')
            .whereRef('first.phone_number', '=', 'import_rows.phone_number'),
        }))
        .where('phone_number', 'is not', null)
        .where(({ exists, selectFrom }) =>
          exists(
            selectFrom('import_rows as earlier')
              .select('earlier.line')
              .whereRef('earlier.import_id', '=', 'import_rows.import_id')
              .whereRef('earlier.phone_number', '=', 'import_rows.phone_number')
              .whereRef('earlier.line', '<', 'import_rows.line'),
          ),
        )
        .execute();
    },

    /** Notes, on each unsettled row, the ACTIVE contact that already holds its number (or none). */
    async noteHolders(tenant: Tenant, importId: string, range: LineRange): Promise<void> {
      const holder = (eb: ExpressionBuilder<Database, 'import_rows'>) =>
        eb
          .selectFrom('contacts as c')
          .select('c.id')
          .where('c.stream_id', '=', tenant.streamId)
          .where('c.account_id', '=', tenant.accountId)
          .where('c.status', '=', 'ACTIVE')
          .whereRef('c.phone_number', '=', 'import_rows.phone_number');
      // Only rows whose number is held are rewritten (on PostgreSQL every updated row is a new row version). The
      // filter is a per-row probe of the unique index, not an EXISTS that the planner may turn into a join.
      await rowsOf(importId, range)
        .set((eb) => ({ contact_id: holder(eb) }))
        .where((eb) => eb(eb.ref('contact_id'), 'is distinct from', holder(eb)))
        .execute();
    },

    async failHeld(importId: string, range?: LineRange): Promise<void> {
      await rowsOf(importId, range).set({ outcome: 'failed', error_code: 'PHONE_TAKEN' }).where('contact_id', 'is not', null).execute();
    },

    async countFailed(importId: string): Promise<number> {
      const row = await db
        .selectFrom('import_rows')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('import_id', '=', importId)
        .where('outcome', '=', 'failed')
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** Settles the rows still open as failed with one code: atomic imports with a bad row write nothing. */
    async failOpen(importId: string, code: string): Promise<void> {
      await rowsOf(importId).set({ outcome: 'failed', error_code: code }).execute();
    },

    /** Dry run: rows that would update or create are marked so, without touching contacts. */
    async settleWithoutWriting(importId: string): Promise<void> {
      await rowsOf(importId).set({ outcome: 'updated' }).where('contact_id', 'is not', null).execute();
      await rowsOf(importId).set({ outcome: 'created' }).execute();
    },

    /** onDuplicate=update: the holder of a number takes the row's names and extension. */
    async applyUpdates(tenant: Tenant, importId: string, range: LineRange, actor: Actor, now: number): Promise<void> {
      await db
        .updateTable('contacts')
        .from('import_rows as s')
        .set((eb) => ({
          first_name: eb.ref('s.first_name'),
          last_name: eb.ref('s.last_name'),
          salutation: eb.ref('s.salutation'),
          extension: eb.ref('s.extension'),
          last_name_key: eb.ref('s.last_name_key'),
          full_name_key: eb.ref('s.full_name_key'),
          updated_by: actor.userId,
          updated_by_aid: actor.appId,
          updated_at: now,
        }))
        .whereRef('s.contact_id', '=', 'contacts.id')
        .where('s.import_id', '=', importId)
        .where('s.outcome', 'is', null)
        .where('s.line', '>=', range.from)
        .where('s.line', '<=', range.to)
        .where('contacts.stream_id', '=', tenant.streamId)
        .where('contacts.account_id', '=', tenant.accountId)
        // A holder deleted since noteHolders no longer holds the number: it is not updated.
        .where('contacts.status', '=', 'ACTIVE')
        .execute();
      const holderStatus = (eb: ExpressionBuilder<Database, 'import_rows'>) =>
        eb
          .selectFrom('contacts as c')
          .select('c.status')
          .where('c.stream_id', '=', tenant.streamId)
          .whereRef('c.id', '=', 'import_rows.contact_id');
      await rowsOf(importId, range)
        .set({ outcome: 'updated' })
        .where('contact_id', 'is not', null)
        .where((eb) => eb(holderStatus(eb), '=', 'ACTIVE'))
        .execute();
      // The rest lost their holder meanwhile: the number is free, and insertOpen creates a contact for them.
      await rowsOf(importId, range).set({ contact_id: null }).where('contact_id', 'is not', null).execute();
    },

    /**
     * Creates a contact for every open row. A number taken meanwhile by another writer is skipped by the
     * unique index (ON CONFLICT DO NOTHING) and its row fails naming the new holder.
     */
    async insertOpen(tenant: Tenant, importId: string, range: LineRange, actor: Actor, now: number): Promise<void> {
      await db
        .insertInto('contacts')
        .columns([
          'id', 'stream_id', 'account_id', 'org_id', 'status', 'first_name', 'last_name', 'salutation', 'phone_number',
          'country_code', 'extension', 'created_by', 'created_by_aid', 'import_id', 'created_at', 'updated_at',
          'last_name_key', 'full_name_key',
        ])
        .expression((eb) =>
          eb
            .selectFrom('import_rows')
            .select((s) => [
              s.ref('candidate_id').as('id'),
              s.val(tenant.streamId).as('stream_id'),
              s.val(tenant.accountId).as('account_id'),
              s.val(actor.orgId).as('org_id'),
              s.val('ACTIVE').as('status'),
              'first_name',
              'last_name',
              'salutation',
              'phone_number',
              'country_code',
              'extension',
              s.val(actor.userId).as('created_by'),
              s.val(actor.appId).as('created_by_aid'),
              'import_id',
              s.val(now).as('created_at'),
              s.val(now).as('updated_at'),
              'last_name_key',
              'full_name_key',
            ])
            .where('import_id', '=', importId)
            .where('outcome', 'is', null)
            .where('contact_id', 'is', null)
            .where('line', '>=', range.from)
            .where('line', '<=', range.to)
            // Every writer takes the unique index's entries in one order, so two imports of the same numbers
            // wait for each other instead of deadlocking.
            .orderBy('phone_number'),
        )
        .onConflict((oc) => oc.doNothing())
        .execute();
      // The contact's import, looked up per row by primary key. Not an EXISTS: `contacts` has just grown by the
      // rows above and its statistics lag, so a planner turning EXISTS into a join may scan the stream per row.
      await rowsOf(importId, range)
        .set((eb) => ({ outcome: 'created', contact_id: eb.ref('candidate_id') }))
        .where('contact_id', 'is', null)
        .where(
          (eb) =>
            eb
              .selectFrom('contacts as c')
              .select('c.import_id')
              .where('c.stream_id', '=', tenant.streamId)
              .whereRef('c.id', '=', 'import_rows.candidate_id'),
          '=',
          importId,
        )
        .execute();
      await this.noteHolders(tenant, importId, range);
      await this.failHeld(importId, range);
    },

    async counts(importId: string): Promise<OutcomeCounts> {
      const rows = await db
        .selectFrom('import_rows')
        .select((eb) => ['outcome', eb.fn.countAll<number>().as('n')])
        .where('import_id', '=', importId)
        .groupBy('outcome')
        .execute();
      const by = new Map(rows.map((r) => [r.outcome, Number(r.n)]));
      const created = by.get('created') ?? 0;
      const updated = by.get('updated') ?? 0;
      const failed = by.get('failed') ?? 0;
      return { total: created + updated + failed + (by.get(null) ?? 0), created, updated, failed };
    },

    async failureCodes(importId: string): Promise<Map<string, number>> {
      const rows = await db
        .selectFrom('import_rows')
        .select((eb) => ['error_code', eb.fn.countAll<number>().as('n')])
        .where('import_id', '=', importId)
        .where('outcome', '=', 'failed')
        .groupBy('error_code')
        .execute();
      return new Map(rows.map((r) => [r.error_code ?? 'ROW_FAILED', Number(r.n)]));
    },

    async finishImport(importId: string, status: 'done' | 'failed', counts: OutcomeCounts, now: number): Promise<void> {
      await db
        .updateTable('imports')
        .set({
          status,
          total_rows: counts.total,
          created_count: counts.created,
          updated_count: counts.updated,
          failed_count: counts.failed,
          finished_at: now,
        })
        .where('id', '=', importId)
        .execute();
    },

    async setImportStatus(importId: string, status: 'applying'): Promise<void> {
      await db.updateTable('imports').set({ status }).where('id', '=', importId).execute();
    },

    /** Settled rows in file order, a page at a time. */
    async pageOfRows(importId: string, outcome: 'failed' | 'succeeded', afterLine: number, limit: number): Promise<ImportRow[]> {
      const q = db
        .selectFrom('import_rows')
        .selectAll()
        .where('import_id', '=', importId)
        .where('line', '>', afterLine)
        .orderBy('line')
        .limit(limit);
      return (outcome === 'failed' ? q.where('outcome', '=', 'failed') : q.where('outcome', 'in', ['created', 'updated'])).execute();
    },

    async deleteStaging(importId: string): Promise<void> {
      await db.deleteFrom('import_rows').where('import_id', '=', importId).execute();
    },

    /** Staging rows of imports that started before `before` and never cleaned up (a crash, a killed process). */
    async deleteStaleStaging(before: number): Promise<void> {
      await db
        .deleteFrom('import_rows')
        .where('import_id', 'in', (eb) => eb.selectFrom('imports').select('id').where('created_at', '<', before))
        .execute();
    },
  };
}

export type ImportRepository = ReturnType<typeof createImportRepository>;

async function copyRows(pool: pg.Pool, rows: NewImportRow[]): Promise<void> {
  const client = await pool.connect();
  let failure: unknown;
  try {
    const sink = client.query(copyFrom(`COPY import_rows (${STAGED_COLUMNS.join(', ')}) FROM STDIN`));
    await pipeline(Readable.from([copyText(rows)]), sink);
  } catch (error) {
    failure = error;
    throw error;
  } finally {
    // A client whose COPY failed may be mid-protocol: drop it rather than return it to the pool.
    client.release(failure instanceof Error ? failure : undefined);
  }
}

function copyText(rows: NewImportRow[]): string {
  let text = '';
  for (const row of rows) text += STAGED_COLUMNS.map((column) => copyField(row[column])).join('\t') + '\n';
  return text;
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value in COPY's text format: `\N` for NULL, backslash escapes for the delimiter, newlines and backslash. */
function copyField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  return String(value).replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!);
}
