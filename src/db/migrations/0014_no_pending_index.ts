import { sql, type Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

/**
 * 0013's partial index on the contacts an import left with their creation's entry pending held one entry for every
 * contact an import writes: a ninth b-tree on each imported row, kept only for the rare revert. A revert now walks the
 * stream's primary key instead (history.repository.ts, `pendingOfImport`), and imports write one index fewer.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('contacts_history_pending_idx').ifExists().execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('contacts_history_pending_idx')
    .on('contacts')
    .columns(['import_id'])
    .where(sql.ref('history_pending'), '=', 1)
    .execute();
}
