import type { Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

/**
 * One row that readiness rewrites after a write failed (a full disk, a read-only file), to learn whether writes work
 * again; reading alone cannot tell. Also written once at start, so a store that cannot be written stops the start.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('store_probe')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('written_at', 'bigint', (c) => c.notNull())
    .addColumn('padding', 'text')
    .execute();
  await db.insertInto('store_probe').values({ id: 1, written_at: 0 }).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('store_probe').execute();
}
