import type { Kysely } from 'kysely';
import type { ContactHistoryRow, Database, NewContactHistoryRow } from '../db/schema.js';
import type { Tenant } from '../shared/request-context.js';

// Nine columns a row keeps a batch well under SQLite's bound-parameter limit.
const INSERT_BATCH = 1000;

/** Contacts' history. Entries are written inside the transaction of the change they record. */
export function createHistoryRepository(db: Kysely<Database>) {
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

    /** Whether the contact is one of the tenant's. */
    async contactExists(tenant: Tenant, contactId: string): Promise<boolean> {
      const row = await db
        .selectFrom('contacts')
        .select('id')
        .where('stream_id', '=', tenant.streamId)
        .where('account_id', '=', tenant.accountId)
        .where('id', '=', contactId)
        .executeTakeFirst();
      return row !== undefined;
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

    /** Of these contacts, those with an entry after `afterSeq` (changed since). */
    async changedSince(tenant: Tenant, entries: { contactId: string; seq: number }[]): Promise<Set<string>> {
      const changed = new Set<string>();
      for (let i = 0; i < entries.length; i += 500) {
        const part = entries.slice(i, i + 500);
        const rows = await db
          .selectFrom('contact_history')
          .select(['contact_id', 'seq'])
          .where('contact_id', 'in', part.map((e) => e.contactId))
          .where('stream_id', '=', tenant.streamId)
          .where('account_id', '=', tenant.accountId)
          .execute();
        const seqOf = new Map(part.map((e) => [e.contactId, e.seq]));
        for (const r of rows) if (Number(r.seq) > seqOf.get(r.contact_id)!) changed.add(r.contact_id);
      }
      return changed;
    },
  };
}

export type HistoryRepository = ReturnType<typeof createHistoryRepository>;
