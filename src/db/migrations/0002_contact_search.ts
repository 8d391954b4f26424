import { PostgresAdapter, sql, type Kysely } from 'kysely';

// Frozen in time: a migration never imports application code.

/**
 * Finding contacts: folded name keys for prefix search and `sort=lastName`, and indexes that let a list page be
 * read by keyset — (stream, status, sort key, id) — so that a page deep into a large stream reads one page of
 * index entries, not every entry before it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  // Keys are compared by code point on both stores: SQLite's default BINARY collation does that, PostgreSQL's
  // "C" collation does it for UTF-8. The range queries and `successor(prefix)` rely on that order.
  const keyType = postgres ? sql`text collate "C"` : sql`text`;

  for (const column of ['last_name_key', 'full_name_key']) {
    await db.schema.alterTable('contacts').addColumn(column, keyType, (c) => c.notNull().defaultTo('')).execute();
    // The staging table carries them too, so an import's set-based insert and update copy them as they are.
    await db.schema.alterTable('import_rows').addColumn(column, 'text', (c) => c.notNull().defaultTo('')).execute();
  }
  await backfillKeys(db);

  const indexes: [string, string[]][] = [
    ['contacts_created_idx', ['stream_id', 'status', 'created_at', 'id']],
    ['contacts_updated_idx', ['stream_id', 'status', 'updated_at', 'id']],
    ['contacts_last_name_idx', ['stream_id', 'status', 'last_name_key', 'id']],
    ['contacts_full_name_idx', ['stream_id', 'status', 'full_name_key', 'id']],
    // Lookups by number among INACTIVE contacts (or all): the unique index covers only ACTIVE ones.
    ['contacts_phone_idx', ['stream_id', 'phone_number']],
  ];
  for (const [name, columns] of indexes) {
    await db.schema.createIndex(name).on('contacts').columns(columns).execute();
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const name of ['contacts_phone_idx', 'contacts_full_name_idx', 'contacts_last_name_idx', 'contacts_updated_idx', 'contacts_created_idx']) {
    await db.schema.dropIndex(name).ifExists().execute();
  }
  for (const column of ['last_name_key', 'full_name_key']) {
    await db.schema.alterTable('contacts').dropColumn(column).execute();
    await db.schema.alterTable('import_rows').dropColumn(column).execute();
  }
}

const BACKFILL_BATCH = 1000;

/** Keys for the contacts that exist before this migration, a batch at a time in key order. */
async function backfillKeys(db: Kysely<any>): Promise<void> {
  let after: { stream_id: string; id: string } | undefined;
  for (;;) {
    let q = db.selectFrom('contacts').select(['stream_id', 'id', 'first_name', 'last_name']);
    if (after) q = q.where((eb) => eb(eb.refTuple('stream_id', 'id'), '>', eb.tuple(after!.stream_id, after!.id)));
    const rows = (await q.orderBy('stream_id').orderBy('id').limit(BACKFILL_BATCH).execute()) as {
      stream_id: string; id: string; first_name: string; last_name: string;
    }[];
    if (rows.length === 0) return;
    const values = rows.map((r) => sql`(${r.stream_id}, ${r.id}, ${fold(r.last_name)}, ${fold(`${r.first_name} ${r.last_name}`)})`);
    // VALUES names its columns column1… on both stores.
    await sql`
      update contacts set last_name_key = v.column3, full_name_key = v.column4
      from (values ${sql.join(values)}) as v
      where contacts.stream_id = v.column1 and contacts.id = v.column2`.execute(db);
    after = rows[rows.length - 1]!;
  }
}

/** The fold of src/contacts/name-key.ts as it was when this migration was written. */
function fold(name: string): string {
  return name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/ß/g, 'ss')
    .replace(/ς/g, 'σ')
    .replace(/\s+/gu, ' ')
    .replace(/\p{Cc}/gu, '')
    .trim();
}
