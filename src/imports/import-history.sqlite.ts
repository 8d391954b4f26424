import type SQLite from 'better-sqlite3';
import type { ContactRow } from '../db/schema.js';
import { contactChanges } from '../history/contact-diff.js';
import { importedCreationEntry } from '../history/imported-creation.js';
import type { JobRef } from './import-store.js';

/**
 * An import's history on SQLite: one `INSERT … SELECT` per batch for the contacts it updated (their entries, built as
 * each row was updated, handed over as one JSON array), after the creation entries that an earlier import left pending
 * for any of them (history/imported-creation.ts). Entries are `imported`, with the import's id. The contacts it
 * creates get no entry now: each one's is read off the contact until it first changes.
 */
export function sqliteImportHistory(handle: SQLite.Database, job: JobRef) {
  const pendingCreated = handle.prepare(
    `insert into contact_history (stream_id, account_id, contact_id, at, action, user_id, app_id, import_id, changes)
     select ?, ?, json_extract(value, '$[0]'), json_extract(value, '$[1]'), 'imported', json_extract(value, '$[2]'),
       json_extract(value, '$[3]'), json_extract(value, '$[4]'), json_extract(value, '$[5]') from json_each(?)`,
  );
  const updated = handle.prepare(
    `insert into contact_history (stream_id, account_id, contact_id, at, action, user_id, app_id, import_id, changes)
     select ?, ?, json_extract(value, '$[0]'), ?, 'imported', ?, ?, ?, json_extract(value, '$[1]') from json_each(?)`,
  );
  const before = handle.prepare('select * from contacts where id = ? and stream_id = ? and account_id = ?');
  const { streamId, accountId } = job.tenant;
  const { userId, appId } = job.actor;
  return {
    /** The contact as it is before an update, to tell what the update changed. */
    earlier(id: string): ContactRow | undefined {
      return before.get(id, streamId, accountId) as ContactRow | undefined;
    },
    /** Call after the batch's updates, which cleared the flag of the contacts they changed. */
    recordUpdated(pairs: { before: ContactRow; after: ContactRow }[], now: number): void {
      if (pairs.length === 0) return;
      const pending = pairs.filter((p) => p.before.history_pending === 1).map((p) => importedCreationEntry(p.before));
      if (pending.length) {
        const entries = pending.map((e) => [e.contact_id, e.at, e.user_id, e.app_id, e.import_id, e.changes]);
        pendingCreated.run(streamId, accountId, JSON.stringify(entries));
      }
      const entries = pairs.map((p) => [p.after.id, JSON.stringify(contactChanges(p.before, p.after))]);
      updated.run(streamId, accountId, now, userId, appId, job.id, JSON.stringify(entries));
    },
  };
}
