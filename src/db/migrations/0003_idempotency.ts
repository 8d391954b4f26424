import { PostgresAdapter, type Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

/**
 * Idempotency keys. The primary key (account, key) is what lets exactly one of several concurrent requests with
 * one key claim it, on both stores. Answers are kept in pieces in a second table, so that a large streamed answer
 * (an import's) is written and replayed a piece at a time.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    .addColumn('claim_token', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text')
    .addColumn('response_status', 'integer')
    .addColumn('response_type', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('locked_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['account_id', 'idempotency_key'])
    .execute();
  // Expired keys are deleted by age, across accounts.
  await db.schema.createIndex('idempotency_keys_created_idx').on('idempotency_keys').column('created_at').execute();

  await db.schema
    .createTable('idempotency_chunks')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull())
    // The holder that wrote the piece: a holder taken over cannot mix its pieces into the new holder's answer.
    .addColumn('claim_token', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('data', postgres ? 'bytea' : 'blob', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_chunks_pk', ['account_id', 'idempotency_key', 'claim_token', 'seq'])
    .addForeignKeyConstraint(
      'idempotency_chunks_key_fk',
      ['account_id', 'idempotency_key'],
      'idempotency_keys',
      ['account_id', 'idempotency_key'],
      (c) => c.onDelete('cascade'),
    )
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('idempotency_chunks').ifExists().execute();
  await db.schema.dropTable('idempotency_keys').ifExists().execute();
}
