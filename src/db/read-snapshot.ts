import SQLite from 'better-sqlite3';
import type { CompiledQuery, Kysely } from 'kysely';
import type pg from 'pg';

/**
 * Reads that all see one committed state of the store, for a long read (the export) that must neither hold the
 * connection writes go through nor see a write half done. Rows come back as arrays of column values, in the order
 * the query selects them: no object per row.
 */
export interface ReadSnapshot {
  rows(query: CompiledQuery): Promise<unknown[][]>;
  /** Ends the snapshot and gives its connection back; safe to call more than once. */
  close(): Promise<void>;
}

/**
 * SQLite: a read-only connection of its own on the same file, in one read transaction. In WAL mode it reads the
 * last commit made before its first read while the shared connection and its group commits go on writing; the
 * writer's checkpoints cannot pass that snapshot until it ends, so the WAL grows meanwhile.
 */
export function sqliteSnapshot(file: string): ReadSnapshot {
  const handle = new SQLite(file, { readonly: true, fileMustExist: true });
  const statements = new Map<string, SQLite.Statement>();
  try {
    handle.pragma('busy_timeout = 5000');
    handle.exec('begin');
  } catch (error) {
    handle.close();
    throw error;
  }
  return {
    async rows(query) {
      let statement = statements.get(query.sql);
      if (!statement) {
        statement = handle.prepare(query.sql).raw(true);
        statements.set(query.sql, statement);
      }
      return statement.all(...(query.parameters as unknown[])) as unknown[][];
    },
    async close() {
      if (!handle.open) return;
      if (handle.inTransaction) handle.exec('commit');
      handle.close();
    },
  };
}

/**
 * PostgreSQL: a pooled connection in a REPEATABLE READ, READ ONLY transaction, held until `close`. A connection that
 * cannot end its transaction cleanly is destroyed rather than handed back to the pool.
 */
export async function postgresSnapshot(pool: pg.Pool): Promise<ReadSnapshot> {
  const client = await pool.connect();
  try {
    await client.query('begin isolation level repeatable read, read only');
  } catch (error) {
    client.release(error instanceof Error ? error : true);
    throw error;
  }
  let closed = false;
  return {
    async rows(query) {
      const result = await client.query({ text: query.sql, values: query.parameters as unknown[], rowMode: 'array' });
      return result.rows as unknown[][];
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        // Queued behind a read still under way, if any (a client runs its queries in turn).
        await client.query('commit');
        client.release();
      } catch (error) {
        client.release(error instanceof Error ? error : true);
      }
    },
  };
}

/**
 * A store with no file to open a second connection on (`:memory:`): each read runs on the shared connection as any
 * query does, so reads are separate, not one snapshot.
 */
// Any schema: it only runs queries compiled elsewhere.
export function sharedConnectionReads(db: Kysely<any>): ReadSnapshot {
  return {
    async rows(query) {
      const result = await db.executeQuery<Record<string, unknown>>(query);
      return result.rows.map((row) => Object.values(row));
    },
    async close() {},
  };
}
