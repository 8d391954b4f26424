import { sql, type Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

/**
 * An import's creations get their history entry when it is first needed instead of one row each as they are written
 * (an import of a million contacts wrote a million entries, half of what it wrote to the store): a contact an import
 * created and nothing has changed since has `history_pending = 1`, and its one entry is read off the contact itself.
 * The first change to it writes that entry, then its own, and clears the flag, in the change's transaction. Contacts
 * written before this migration have their entries already (0).
 *
 * The partial index finds an import's untouched creations for its revert; it holds only pending contacts, so it
 * shrinks as they change.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('contacts').addColumn('history_pending', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema
    .createIndex('contacts_history_pending_idx')
    .on('contacts')
    .columns(['import_id'])
    .where(sql.ref('history_pending'), '=', 1)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('contacts_history_pending_idx').ifExists().execute();
  await db.schema.alterTable('contacts').dropColumn('history_pending').execute();
}
