import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

/**
 * Integrations: per-contact history, webhook endpoints, and the outbox their deliveries come from.
 *
 * `contact_history` has one row per change to a contact, written in the transaction of the change; `seq` orders a
 * contact's entries and pages them. `webhook_events` is the outbox: an event row is written in the transaction of the
 * change it tells, together with one `webhook_deliveries` row per endpoint subscribed to it, which the delivery worker
 * takes under a lease. `webhook_attempts` is the delivery log.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  // An increasing key: SQLite's rowid, PostgreSQL's identity.
  const serial = postgres ? 'bigserial' : 'integer';

  await db.schema
    .createTable('contact_history')
    .addColumn('seq', serial, (c) => c.primaryKey())
    .addColumn('stream_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('contact_id', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('app_id', 'text', (c) => c.notNull())
    .addColumn('import_id', 'text')
    // JSON: {field: {from, to}} by the API's field names.
    .addColumn('changes', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('contact_history_contact_idx').on('contact_history').columns(['contact_id', 'seq']).execute();
  // An import's entries, for its revert; most entries have no import.
  await db.schema
    .createIndex('contact_history_import_idx')
    .on('contact_history')
    .columns(['import_id', 'seq'])
    .where(sql.ref('import_id'), 'is not', null)
    .execute();

  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('stream_id', 'text', (c) => c.notNull().references('streams.id'))
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    // `*` for every event, else the event types between commas: `,contact.created,import.completed,`.
    .addColumn('events', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    // After a rotation the old secret still signs, beside the new one, until `previous_secret_until`.
    .addColumn('previous_secret', 'text')
    .addColumn('previous_secret_until', 'bigint')
    .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('disabled_reason', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhook_endpoints_stream_idx').on('webhook_endpoints').columns(['stream_id', 'created_at', 'id']).execute();

  await db.schema
    .createTable('webhook_events')
    .addColumn('seq', serial, (c) => c.primaryKey())
    // The `webhook-id` of every delivery of the event, on every try.
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('stream_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    // What the event is about (a contact's or an import's id): deliveries to one endpoint keep its order.
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('endpoint_id', 'text', (c) => c.notNull())
    .addColumn('event_seq', 'bigint', (c) => c.notNull())
    .addColumn('stream_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    // pending (to be tried, now or at next_attempt_at), delivered, failed (tries used up, or the endpoint said 410).
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    // Tries since the delivery was queued or replayed: its place on the retry schedule.
    .addColumn('round_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_token', 'text')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('last_status', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .addPrimaryKeyConstraint('webhook_deliveries_pk', ['endpoint_id', 'event_seq'])
    .execute();
  // The queue: deliveries due; and, for order, an endpoint's earlier deliveries about the same subject.
  await db.schema.createIndex('webhook_deliveries_due_idx').on('webhook_deliveries').columns(['state', 'next_attempt_at']).execute();
  await db.schema.createIndex('webhook_deliveries_subject_idx').on('webhook_deliveries').columns(['endpoint_id', 'subject', 'event_seq']).execute();

  await db.schema
    .createTable('webhook_attempts')
    .addColumn('endpoint_id', 'text', (c) => c.notNull())
    .addColumn('event_seq', 'bigint', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    // The receiver's status, or null when none came (refused, timed out, a private address).
    .addColumn('status', 'integer')
    .addColumn('latency_ms', 'integer', (c) => c.notNull())
    .addColumn('error', 'text')
    .addPrimaryKeyConstraint('webhook_attempts_pk', ['endpoint_id', 'event_seq', 'attempt'])
    .execute();

  // A reverted import (state `reverted`): JSON of what its revert did.
  await db.schema.alterTable('import_jobs').addColumn('revert', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('import_jobs').dropColumn('revert').execute();
  for (const table of ['webhook_attempts', 'webhook_deliveries', 'webhook_events', 'webhook_endpoints', 'contact_history']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
