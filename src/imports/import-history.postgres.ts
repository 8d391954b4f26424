import type pg from 'pg';
import type { ContactRow } from '../db/schema.js';
import { copyField, copyText } from '../db/pg-copy.js';
import { createdChangesJson } from '../history/contact-diff.js';
import type { HolderUpdate, JobRef, NewContact } from './import-store.js';

/**
 * An import's history on PostgreSQL, set-wise: one COPY per batch for the contacts it created (from the values
 * just written), and one statement for those it updated (the rows locked, then one statement whose CTEs
 * read the earlier values, change the rows and record both). Entries are `imported`, with the import's id.
 */

const HISTORY_COPY_COLUMNS = ['stream_id', 'account_id', 'contact_id', 'at', 'action', 'user_id', 'app_id', 'import_id', 'changes'];

/**
 * The entries of contacts just written exactly as `rows` has them, COPYed from the same values instead of read back
 * (which, by `id = any(…)` on a table whose statistics are those of its empty start, the planner may answer with a
 * scan of every contact per batch): every field, from null, as history/contact-diff.ts builds it, in the file's order.
 */
export async function copyCreatedHistory(client: pg.PoolClient, job: JobRef, rows: NewContact[], now: number): Promise<void> {
  if (rows.length === 0) return;
  const shared = `${copyField(job.tenant.streamId)}\t${copyField(job.tenant.accountId)}\t`;
  const actor = `\t${now}\timported\t${copyField(job.actor.userId)}\t${copyField(job.actor.appId)}\t${job.id}\t`;
  let text = '';
  for (const { id, values: v } of rows) {
    const changes = createdChangesJson({
      status: 'ACTIVE', first_name: v.firstName, last_name: v.lastName, salutation: v.salutation,
      phone_number: v.phoneNumber, country_code: v.countryCode, extension: v.extension,
    });
    text += `${shared}${id}${actor}${copyField(changes)}\n`;
  }
  await copyText(client, 'contact_history', HISTORY_COPY_COLUMNS, text);
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
  await client.query(`select 1 from contacts where id = any($1::text[]) and stream_id = $2 and account_id = $3 and status = 'ACTIVE' order by id for update`, [
    col((u) => u.holderId), job.tenant.streamId, job.tenant.accountId,
  ]);
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
         last_name_key = u.last_name_key, full_name_key = u.full_name_key, updated_by = $8, updated_by_aid = $9, updated_at = $10
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
