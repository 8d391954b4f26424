import type { Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

/**
 * How an import's file is read, decided when it is received (its encoding: from a BOM, a declared charset, or
 * UTF-8 unless its bytes are not; its delimiter: from the header line), so that the worker reads it the same way.
 * JSON `{"encoding","delimiter"}`; null for jobs received before it: UTF-8 and comma.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('import_jobs').addColumn('csv_format', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('import_jobs').dropColumn('csv_format').execute();
}
