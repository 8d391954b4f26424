import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

const WATCHED = ['accounts', 'streams', 'apps', 'app_streams'];

/**
 * One number that moves whenever an account, a stream, an app or an app's streams change, by whatever writer (this
 * service, the CLI, the console, SQL by hand): triggers bump it in the writer's own transaction. Every instance
 * keeps apps in memory and reads this number once a request; a number it has not seen sends it back to the store,
 * so a rotated secret, a changed scope or a removed stream holds from the next request on, on every instance.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema
    .createTable('tenancy_version')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into tenancy_version (id, version) values (1, 1)`.execute(db);
  if (postgres) {
    await sql`create function bump_tenancy_version() returns trigger language plpgsql as $$
      begin update tenancy_version set version = version + 1 where id = 1; return null; end $$`.execute(db);
    for (const table of WATCHED) {
      await sql.raw(`create trigger ${table}_tenancy_version after insert or update or delete or truncate on ${table}
        for each statement execute function bump_tenancy_version()`).execute(db);
    }
    await sql`analyze tenancy_version`.execute(db);
    return;
  }
  for (const table of WATCHED) {
    for (const event of ['insert', 'update', 'delete']) {
      await sql.raw(`create trigger ${table}_tenancy_version_${event} after ${event} on ${table}
        begin update tenancy_version set version = version + 1 where id = 1; end`).execute(db);
    }
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  for (const table of WATCHED) {
    if (postgres) await sql.raw(`drop trigger if exists ${table}_tenancy_version on ${table}`).execute(db);
    else for (const event of ['insert', 'update', 'delete']) await sql.raw(`drop trigger if exists ${table}_tenancy_version_${event}`).execute(db);
  }
  if (postgres) await sql`drop function if exists bump_tenancy_version()`.execute(db);
  await db.schema.dropTable('tenancy_version').ifExists().execute();
}
