import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;

  await db.schema
    .createTable('organisations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('org_id', 'text', (c) => c.notNull().references('organisations.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('streams')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('streams_account_idx').on('streams').column('account_id').execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('apps')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull().unique())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('client_secret', 'text', (c) => c.notNull())
    .addColumn('algorithm', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text')
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('enforce_jti', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('app_streams')
    .addColumn('app_id', 'text', (c) => c.notNull().references('apps.id'))
    .addColumn('stream_id', 'text', (c) => c.notNull().references('streams.id'))
    .addPrimaryKeyConstraint('app_streams_pk', ['app_id', 'stream_id'])
    .execute();

  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('contacts')
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('stream_id', 'text', (c) => c.notNull().references('streams.id'))
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('first_name', 'text', (c) => c.notNull())
    .addColumn('last_name', 'text', (c) => c.notNull())
    .addColumn('salutation', 'text', (c) => c.notNull())
    .addColumn('phone_number', 'text', (c) => c.notNull())
    .addColumn('country_code', 'text', (c) => c.notNull())
    .addColumn('extension', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_by_aid', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .addColumn('updated_by_aid', 'text')
    .addColumn('import_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    // The stream leads the key: every query carries it, and a sharded PostgreSQL (Citus) can distribute by it,
    // since a distributed table's unique keys must include its distribution column.
    .addPrimaryKeyConstraint('contacts_pk', ['stream_id', 'id'])
    .execute();
  // The rule the product rests on: within a stream, a number belongs to at most one ACTIVE contact.
  // The store enforces it, so concurrent writers cannot both win.
  await db.schema
    .createIndex('contacts_active_phone_uq')
    .on('contacts')
    .columns(['stream_id', 'phone_number'])
    .unique()
    .where(sql.ref('status'), '=', 'ACTIVE')
    .execute();

  await db.schema
    .createTable('imports')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('stream_id', 'text', (c) => c.notNull().references('streams.id'))
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('total_rows', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .execute();

  // Staging rows are transient: on PostgreSQL they skip the WAL (UNLOGGED), which makes COPY cheaper.
  const staging = db.schema
    .createTable('import_rows')
    .addColumn('import_id', 'text', (c) => c.notNull())
    .addColumn('line', 'integer', (c) => c.notNull())
    .addColumn('first_name', 'text', (c) => c.notNull())
    .addColumn('last_name', 'text', (c) => c.notNull())
    .addColumn('salutation', 'text', (c) => c.notNull())
    .addColumn('phone_number', 'text')
    .addColumn('country_code', 'text', (c) => c.notNull())
    .addColumn('extension', 'text', (c) => c.notNull())
    .addColumn('candidate_id', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text')
    .addColumn('contact_id', 'text')
    .addColumn('error_code', 'text')
    .addColumn('errors', 'text')
    .addColumn('first_line', 'integer')
    .addPrimaryKeyConstraint('import_rows_pk', ['import_id', 'line']);
  await (postgres ? staging.modifyFront(sql`unlogged`) : staging).execute();
  await db.schema
    .createIndex('import_rows_phone_idx')
    .on('import_rows')
    .columns(['import_id', 'phone_number', 'line'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'import_rows', 'imports', 'contacts', 'settings', 'app_streams', 'apps', 'users', 'streams', 'accounts', 'organisations',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
