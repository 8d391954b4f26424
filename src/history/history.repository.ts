import { PostgresAdapter, type Kysely } from 'kysely';
import type { ContactHistoryRow, ContactRow, Database, NewContactHistoryRow } from '../db/schema.js';
import type { Tenant } from '../shared/request-context.js';
import { importedCreationEntry } from './imported-creation.js';

// Nine columns a row keeps a batch well under SQLite's bound-parameter limit.
const INSERT_BATCH = 1000;

/** Contacts' history. Entries are written inside the transaction of the change they record. */
export function createHistoryRepository(db: Kysely<Database>) {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  return {
    async insertMany(tenant: Tenant, rows: NewContactHistoryRow[]): Promise<void> {
      for (const row of rows) {
        if (row.stream_id !== tenant.streamId || row.account_id !== tenant.accountId) throw new Error('history row does not belong to the tenant it is written for');
      }
      for (let i = 0; i < rows.length; i += INSERT_BATCH) await db.insertInto('contact_history').values(rows.slice(i, i + INSERT_BATCH)).execute();
    },

    /** A contact's entries, newest first; `before` is the last entry of the previous page. */
    async page(tenant: Tenant, contactId: string, before: number | undefined, limit: number): Promise<ContactHistoryRow[]> {
      let q = db
        .selectFrom('contact_history')
        .selectAll()
        .where('contact_id', '=', contactId)
        .where('stream_id', '=', tenant.streamId)
        .where('account_id', '=', tenant.accountId);
      if (before !== undefined) q = q.where('seq', '<', before);
      return q.orderBy('seq', 'desc').limit(limit).execute();
    },

    /**
     * Writes the creation entries that imports left pending (history/imported-creation.ts) for those of these contacts,
     * as they were before the change now being made, that still have them pending, and clears their flag. Call it in
     * the change's transaction, after the change's own write (which holds the rows: of two changes to one pending
     * contact only the first finds the flag set) and before its entries, so that the creation comes first.
     */
    async writePendingCreations(tenant: Tenant, before: ContactRow[]): Promise<void> {
      const pending = before.filter((row) => row.history_pending === 1);
      for (let i = 0; i < pending.length; i += INSERT_BATCH) {
        const part = pending.slice(i, i + INSERT_BATCH);
        const cleared = await db
          .updateTable('contacts')
          .set({ history_pending: 0 })
          .where('stream_id', '=', tenant.streamId)
          .where('account_id', '=', tenant.accountId)
          .where('id', 'in', part.map((row) => row.id))
          .where('history_pending', '=', 1)
          .returning('id')
          .execute();
        const ids = new Set(cleared.map((r) => r.id));
        const entries = part.filter((row) => ids.has(row.id)).map(importedCreationEntry);
        if (entries.length) await db.insertInto('contact_history').values(entries).execute();
      }
    },

    /**
     * The next `span` contacts of the stream after `after` in key order, and those of them the import created that are
     * still as it left them (pending: nothing has changed them since). A revert walks the whole stream this way, a span
     * per transaction: no index holds the pending contacts (imports would write one more entry per row for it), and
     * the primary key keeps each step a bounded range. `next` is undefined once the span reached the stream's end.
     * PostgreSQL locks the contacts found; one changed while this waited for its lock no longer qualifies.
     */
    async pendingOfImport(tenant: Tenant, importId: string, after: string, span: number): Promise<{ rows: ContactRow[]; next: string | undefined }> {
      const edge = await db
        .selectFrom('contacts')
        .select('id')
        .where('stream_id', '=', tenant.streamId)
        .where('id', '>', after)
        .orderBy('stream_id')
        .orderBy('id')
        .limit(1)
        .offset(span - 1)
        .executeTakeFirst();
      let q = db
        .selectFrom('contacts')
        .selectAll()
        .where('stream_id', '=', tenant.streamId)
        .where('id', '>', after)
        .where('import_id', '=', importId)
        .where('history_pending', '=', 1)
        .where('account_id', '=', tenant.accountId);
      if (edge) q = q.where('id', '<=', edge.id);
      const rows = await q.$if(postgres, (q) => q.forUpdate()).execute();
      return { rows, next: edge?.id };
    },

    /** An import's entries after `afterSeq`, in order, a page at a time (its revert reads them). */
    async ofImport(tenant: Tenant, importId: string, afterSeq: number, limit: number): Promise<ContactHistoryRow[]> {
      return db
        .selectFrom('contact_history')
        .selectAll()
        .where('import_id', '=', importId)
        .where('seq', '>', afterSeq)
        .where('stream_id', '=', tenant.streamId)
        .where('account_id', '=', tenant.accountId)
        .orderBy('import_id')
        .orderBy('seq')
        .limit(limit)
        .execute();
    },

    /**
     * Of these contacts, those with an entry after the given one: `reverted` when a later entry is this import's own
     * revert (`reverted`, with its id: this revert, or one that died, handled it already), else `changed`.
     */
    async laterEntries(tenant: Tenant, importId: string, entries: { contactId: string; seq: number }[]): Promise<{ changed: Set<string>; reverted: Set<string> }> {
      const changed = new Set<string>();
      const reverted = new Set<string>();
      for (let i = 0; i < entries.length; i += 500) {
        const part = entries.slice(i, i + 500);
        const rows = await db
          .selectFrom('contact_history')
          .select(['contact_id', 'seq', 'action', 'import_id'])
          .where('contact_id', 'in', part.map((e) => e.contactId))
          .where('stream_id', '=', tenant.streamId)
          .where('account_id', '=', tenant.accountId)
          .execute();
        const seqOf = new Map(part.map((e) => [e.contactId, e.seq]));
        for (const r of rows) {
          if (Number(r.seq) <= seqOf.get(r.contact_id)!) continue;
          if (r.action === 'reverted' && r.import_id === importId) reverted.add(r.contact_id);
          else changed.add(r.contact_id);
        }
      }
      for (const id of reverted) changed.delete(id);
      return { changed, reverted };
    },
  };
}

export type HistoryRepository = ReturnType<typeof createHistoryRepository>;
