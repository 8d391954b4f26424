import { PostgresAdapter, sql, type CreateTableBuilder, type Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

/**
 * Imports become jobs. The staging table of 0001 goes: the engine now applies rows in batches straight into
 * `contacts`, with the job's counters and resume point committed in the same transaction as each batch.
 * `import_files` keeps an upload on PostgreSQL until its job ends (on SQLite uploads are files beside the database,
 * so that a deleted upload leaves no free pages behind); `import_failures` keeps each failed row as uploaded.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  await db.schema.dropTable('import_rows').ifExists().execute();
  await db.schema.dropTable('imports').ifExists().execute();

  await db.schema
    .createTable('import_jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('stream_id', 'text', (c) => c.notNull().references('streams.id'))
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('org_id', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_by_aid', 'text', (c) => c.notNull())
    // 'job': run by a worker; 'sync': run inside the request of the synchronous endpoint, never taken over.
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('options', 'text', (c) => c.notNull())
    .addColumn('file_name', 'text')
    .addColumn('bytes', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('header', 'text')
    .addColumn('total_rows', 'integer')
    .addColumn('processed_rows', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed_count', 'integer', (c) => c.notNull().defaultTo(0))
    // Last line of the file whose batch is committed: a worker that takes the job over goes on after it.
    .addColumn('resume_line', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('error', 'text')
    .addColumn('cancel_requested', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('lease_token', 'text')
    .addColumn('lease_expires_at', 'bigint')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('started_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .execute();
  // A stream's jobs newest first, and the queue: unfinished jobs by age.
  await db.schema.createIndex('import_jobs_stream_idx').on('import_jobs').columns(['stream_id', 'kind', 'created_at', 'id']).execute();
  await db.schema.createIndex('import_jobs_state_idx').on('import_jobs').columns(['state', 'created_at']).execute();

  await db.schema
    .createTable('import_files')
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('data', postgres ? 'bytea' : 'blob', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('import_files_pk', ['job_id', 'seq'])
    .execute();

  await db.schema
    .createTable('import_failures')
    .addColumn('job_id', 'text', (c) => c.notNull())
    .addColumn('line', 'integer', (c) => c.notNull())
    // JSON array of the row's cells as uploaded, and JSON array of its error entries.
    .addColumn('cells', 'text', (c) => c.notNull())
    .addColumn('errors', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('import_failures_pk', ['job_id', 'line'])
    .execute();
}

/** Back to the staging tables of 0001 and 0002 (empty: they only ever held imports under way). */
export async function down(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  for (const table of ['import_failures', 'import_files', 'import_jobs']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
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
  let staging: CreateTableBuilder<string, string> = db.schema.createTable('import_rows');
  for (const column of ['import_id', 'first_name', 'last_name', 'salutation', 'country_code', 'extension', 'candidate_id', 'last_name_key', 'full_name_key']) {
    staging = staging.addColumn(column, 'text', (c) => (column.endsWith('_key') ? c.notNull().defaultTo('') : c.notNull()));
  }
  staging = staging
    .addColumn('line', 'integer', (c) => c.notNull())
    .addColumn('phone_number', 'text')
    .addColumn('outcome', 'text')
    .addColumn('contact_id', 'text')
    .addColumn('error_code', 'text')
    .addColumn('errors', 'text')
    .addColumn('first_line', 'integer')
    .addPrimaryKeyConstraint('import_rows_pk', ['import_id', 'line']);
  await (postgres ? staging.modifyFront(sql`unlogged`) : staging).execute();
  await db.schema.createIndex('import_rows_phone_idx').on('import_rows').columns(['import_id', 'phone_number', 'line']).execute();
}
