import type { ContactRepository } from '../contacts/contact.repository.js';
import type { ContactHistoryRow } from '../db/schema.js';
import { contactNotFound } from '../shared/errors.js';
import { OBJECT_ID } from '../shared/ids.js';
import { decodePageCursor, encodePageCursor, isSeq } from '../shared/page-cursor.js';
import type { Tenant } from '../shared/request-context.js';
import type { FieldChanges } from './contact-diff.js';
import type { HistoryRepository } from './history.repository.js';
import { importedCreationEntry } from './imported-creation.js';

/** One history entry as the API answers it. */
export interface HistoryEntry {
  at: string;
  action: ContactHistoryRow['action'];
  userId: string;
  appId: string;
  importId?: string;
  changes: FieldChanges;
}

export function toHistoryEntry(row: Omit<ContactHistoryRow, 'seq'>): HistoryEntry {
  return {
    at: new Date(Number(row.at)).toISOString(),
    action: row.action,
    userId: row.user_id,
    appId: row.app_id,
    ...(row.import_id !== null && { importId: row.import_id }),
    changes: JSON.parse(row.changes) as FieldChanges,
  };
}

/** GET /contacts/{id}/history: every change to a contact, newest first, a page at a time. */
export function createHistoryService(deps: { history: Pick<HistoryRepository, 'page'>; contacts: Pick<ContactRepository, 'findById'> }) {
  return {
    async contactHistory(tenant: Tenant, contactId: string, cursor: string | undefined, limit: number) {
      const contact = OBJECT_ID.test(contactId) ? await deps.contacts.findById(tenant, contactId) : undefined;
      if (!contact) throw contactNotFound(contactId);
      const before = cursor === undefined ? undefined : decodePageCursor(cursor, isSeq);
      // Untouched since its import created it: its one entry is read off the contact (history/imported-creation.ts).
      if (contact.history_pending === 1) {
        return { results: [toHistoryEntry(importedCreationEntry(contact))], hasMore: false, nextCursor: null };
      }
      const rows = await deps.history.page(tenant, contactId, before, limit + 1);
      const page = rows.slice(0, limit);
      return {
        results: page.map(toHistoryEntry),
        hasMore: rows.length > limit,
        nextCursor: rows.length > limit ? encodePageCursor(Number(page[page.length - 1]!.seq)) : null,
      };
    },
  };
}

export type HistoryService = ReturnType<typeof createHistoryService>;
