import type { Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

/**
 * An app can be disabled (`dialbook apps disable`): its tokens are refused from the next request on. The column is
 * set by an UPDATE of `apps`, which moves the tenancy version (0006), so every instance's app cache reads the app
 * again at once.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('apps').addColumn('disabled_at', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('apps').dropColumn('disabled_at').execute();
}
