import type pg from 'pg';
import type { ContactRow } from '../db/schema.js';
import { copyField, copyText } from '../db/pg-copy.js';
import { importedCreationEntry } from '../history/imported-creation.js';
import type { HolderUpdate, JobRef } from './import-store.js';

/**
 * An import's history on PostgreSQL, set-wise, for the contacts it updates: the rows locked, the creation entries an
 * earlier import left pending for any of them COPYed (history/imported-creation.ts), then one statement whose CTEs read
 * the earlier values, change the rows and record both. Entries are `imported`, with the import's id. The contacts it
 * creates get no entry now: each one's is read off the contact until it first changes.
 */

const HISTORY_COPY_COLUMNS = ['stream_id', 'account_id', 'contact_id', 'at', 'action', 'user_id', 'app_id', 'import_id', 'changes'];

/** The pending creation entries of these contacts, as they are before the update that is about to change them. */
async function copyPendingCreations(client: pg.PoolClient, rows: ContactRow[]): Promise<void> {
  let text = '';
  for (const row of rows) {
    if (row.history_pending !== 1) continue;
    const e = importedCreationEntry(row);
    const fields = [e.stream_id, e.account_id, e.contact_id, String(e.at), e.action, e.user_id, e.app_id, e.import_id, e.changes];
    text += `${fields.map((f) => (f === null ? '\\N' : copyField(f))).join('\t')}\n`;
  }
  if (text) await copyText(client, 'contact_history', HISTORY_COPY_COLUMNS, text);
}

/** A changed field as `{from, to}`, or null when it did not change (left out of the entry). */
const changed = (name: string, column: string) =>
  `(${JSON.stringify(name).replace(/"/g, "'")}, case when o.${column} is distinct from n.${column} then jsonb_build_object('from', o.${column}, 'to', n.${column}) end)`;

/** Gives each holder the row's names and extension, and records what changed; returns the updated rows by holder id. */
export async function updateWithHistory(client: pg.PoolClient, job: JobRef, updates: HolderUpdate[], now: number): Promise<Map<string, ContactRow>> {
  const result = new Map<string, ContactRow>();
  if (updates.length === 0) return result;
  const col = (pick: (u: HolderUpdate) => string) => updates.map(pick);
  // The rows are locked first, by a statement of their own: the next one's snapshot, taken after, then holds their
  // latest values, which nothing can change before the commit (one statement's CTEs all read one snapshot, older
  // than a lock it waited for).
  const { rows: locked } = await client.query<ContactRow>(
    `select * from contacts where id = any($1::text[]) and stream_id = $2 and account_id = $3 and status = 'ACTIVE' order by id for update`,
    [col((u) => u.holderId), job.tenant.streamId, job.tenant.accountId],
  );
  // Locked, so as they are now until the commit; the update below clears their flag.
  await copyPendingCreations(client, locked);
  const { rows } = await client.query<ContactRow>(
    `with u as (
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
         as u(id, first_name, last_name, salutation, extension, last_name_key, full_name_key)
     ),
     o as (
       -- The earlier values: this statement's snapshot, from before its own update.
       select c.id, c.first_name, c.last_name, c.salutation, c.extension from contacts c join u on c.id = u.id
       where c.stream_id = $11 and c.account_id = $12 and c.status = 'ACTIVE'
     ),
     n as (
       update contacts c set first_name = u.first_name, last_name = u.last_name, salutation = u.salutation, extension = u.extension,
         last_name_key = u.last_name_key, full_name_key = u.full_name_key, updated_by = $8, updated_by_aid = $9, updated_at = $10,
         history_pending = 0
       from u where c.stream_id = $11 and c.account_id = $12 and c.id = u.id and c.status = 'ACTIVE'
       returning c.*
     ),
     h as (
       insert into contact_history (stream_id, account_id, contact_id, at, action, user_id, app_id, import_id, changes)
       select n.stream_id, n.account_id, n.id, $10, 'imported', $8, $9, $13,
         coalesce((select jsonb_object_agg(k, v) from (values ${[
           changed('firstName', 'first_name'),
           changed('lastName', 'last_name'),
           changed('salutation', 'salutation'),
           changed('cellPhone.extension', 'extension'),
         ].join(', ')}) as f(k, v) where v is not null), '{}'::jsonb)::text
       from n join o on o.id = n.id
     )
     select * from n`,
    [
      col((u) => u.holderId), col((u) => u.values.firstName), col((u) => u.values.lastName), col((u) => u.values.salutation),
      col((u) => u.values.extension), col((u) => u.values.last_name_key), col((u) => u.values.full_name_key),
      job.actor.userId, job.actor.appId, now, job.tenant.streamId, job.tenant.accountId, job.id,
    ],
  );
  for (const row of rows) result.set(row.id, row);
  return result;
}
