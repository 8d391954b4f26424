import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

/**
 * How many ACTIVE and INACTIVE contacts each stream holds, kept in the same transaction as every write to
 * `contacts`, so that the unfiltered `totalResults` of GET /contacts reads a few rows instead of counting a million
 * index entries. A stream's count is split over a few shard rows: concurrent writers on PostgreSQL add to different
 * rows instead of queueing on one row's lock until each commits; a read sums them.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('stream_counts')
    .addColumn('stream_id', 'text', (c) => c.notNull().references('streams.id'))
    .addColumn('shard', 'integer', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('active', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('inactive', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('stream_counts_pk', ['stream_id', 'shard'])
    .execute();
  // The contacts already stored, counted once, into shard 0.
  await sql`
    insert into stream_counts (stream_id, shard, account_id, active, inactive)
    select stream_id, 0, account_id,
      sum(case when status = 'ACTIVE' then 1 else 0 end), sum(case when status = 'INACTIVE' then 1 else 0 end)
    from contacts group by stream_id, account_id`.execute(db);
  // PostgreSQL: planner statistics for what was just filled; autovacuum may be off, and no plan should wait for it.
  // SQLite plans from its indexes alone while it has no statistics, and nothing here keeps them fresh: statistics of
  // a table of a few rows taken now would make it scan that table once it holds thousands of streams.
  if (db.getExecutor().adapter instanceof PostgresAdapter) await sql`analyze stream_counts`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('stream_counts').ifExists().execute();
}
