import type SQLite from 'better-sqlite3';
import type { ContactRow } from '../db/schema.js';
import { contactChanges } from '../history/contact-diff.js';
import type { JobRef } from './import-store.js';

/**
 * An import's history on SQLite, set-wise: one `INSERT … SELECT` per batch for the contacts it created (from the rows
 * just written, by id through json_each), and one for those it updated (their entries, built as each row was updated,
 * handed over as one JSON array). Entries are `imported`, with the import's id.
 */
export function sqliteImportHistory(handle: SQLite.Database, job: JobRef) {
  const created = handle.prepare(
    `insert into contact_history (stream_id, account_id, contact_id, at, action, user_id, app_id, import_id, changes)
     select stream_id, account_id, id, ?, 'imported', ?, ?, ?, json_object(
       'status', json_object('from', null, 'to', status),
       'firstName', json_object('from', null, 'to', first_name),
       'lastName', json_object('from', null, 'to', last_name),
       'salutation', json_object('from', null, 'to', salutation),
       'cellPhone.phoneNumber', json_object('from', null, 'to', phone_number),
       'cellPhone.countryCode', json_object('from', null, 'to', country_code),
       'cellPhone.extension', json_object('from', null, 'to', extension))
     from contacts where id in (select value from json_each(?)) and stream_id = ? and account_id = ?`,
  );
  const updated = handle.prepare(
    `insert into contact_history (stream_id, account_id, contact_id, at, action, user_id, app_id, import_id, changes)
     select ?, ?, json_extract(value, '$[0]'), ?, 'imported', ?, ?, ?, json_extract(value, '$[1]') from json_each(?)`,
  );
  const before = handle.prepare('select * from contacts where id = ? and stream_id = ? and account_id = ?');
  const { streamId, accountId } = job.tenant;
  const { userId, appId } = job.actor;
  return {
    recordCreated(ids: string[], now: number): void {
      if (ids.length) created.run(now, userId, appId, job.id, JSON.stringify(ids), streamId, accountId);
    },
    /** The contact as it is before an update, to tell what the update changed. */
    earlier(id: string): ContactRow | undefined {
      return before.get(id, streamId, accountId) as ContactRow | undefined;
    },
    recordUpdated(pairs: { before: ContactRow; after: ContactRow }[], now: number): void {
      if (pairs.length === 0) return;
      const entries = pairs.map((p) => [p.after.id, JSON.stringify(contactChanges(p.before, p.after))]);
      updated.run(streamId, accountId, now, userId, appId, job.id, JSON.stringify(entries));
    },
  };
}
