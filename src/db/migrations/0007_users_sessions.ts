import type { Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

/**
 * People who sign in to the console. A console user is a row of `users` (the table of app owners), so that what
 * they change carries their `u-…` id in createdBy / updatedBy like any other user's; the sign-in columns are null
 * for the owners `setup` and `apps create` make. Sessions are kept server-side (the cookie holds a random token,
 * the store only its sha256), so that sign-out and `users disable` end them at once.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('email', 'text').execute();
  await db.schema.alterTable('users').addColumn('password_hash', 'text').execute();
  await db.schema.alterTable('users').addColumn('disabled_at', 'bigint').execute();
  // One sign-in name for the whole service: the sign-in page does not ask for an account.
  await db.schema.createIndex('users_email_idx').on('users').column('email').unique().execute();

  await db.schema
    .createTable('console_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('console_sessions_user_idx').on('console_sessions').column('user_id').execute();

  // One row per refused sign-in, by key (`user:…` or `address:…`): counted over a window, swept after it.
  await db.schema
    .createTable('sign_in_failures')
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sign_in_failures_key_idx').on('sign_in_failures').columns(['key', 'at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sign_in_failures').execute();
  await db.schema.dropTable('console_sessions').execute();
  await db.schema.dropIndex('users_email_idx').execute();
  await db.schema.alterTable('users').dropColumn('disabled_at').execute();
  await db.schema.alterTable('users').dropColumn('password_hash').execute();
  await db.schema.alterTable('users').dropColumn('email').execute();
}
