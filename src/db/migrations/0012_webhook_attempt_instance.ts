import type { Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

/**
 * Which instance made each webhook try (its INSTANCE_ID), so that the delivery log tells tries from several instances
 * on one store apart. Tries logged before this migration have none.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('webhook_attempts').addColumn('instance', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('webhook_attempts').dropColumn('instance').execute();
}
