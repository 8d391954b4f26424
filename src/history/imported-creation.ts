import type { ContactHistoryRow, ContactRow } from '../db/schema.js';
import { createdChangesJson } from './contact-diff.js';

/**
 * The history entry of a contact an import created, built from the contact as the import wrote it: `imported`, at its
 * creation, by its creator, every field from null. An import does not write these entries (migration 0013): while the
 * contact is unchanged (`history_pending`) the entry is read off the contact, and the first change writes this very
 * entry before its own, from the contact as it was before that change.
 */
export function importedCreationEntry(row: ContactRow): Omit<ContactHistoryRow, 'seq'> {
  return {
    stream_id: row.stream_id,
    account_id: row.account_id,
    contact_id: row.id,
    at: row.created_at,
    action: 'imported',
    user_id: row.created_by,
    app_id: row.created_by_aid,
    import_id: row.import_id,
    changes: createdChangesJson(row),
  };
}
