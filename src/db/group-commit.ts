import type SQLite from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import type { Store } from './database.js';
import type { Database } from './schema.js';

/** Runs `work` in a transaction and resolves once that transaction is committed (durable). */
export type Transact = <T>(work: (trx: Kysely<Database>) => Promise<T>) => Promise<T>;

interface Queued {
  work: (trx: Kysely<Database>) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Write transactions for the store. PostgreSQL: one transaction each (the server itself groups concurrent commits'
 * WAL flushes). SQLite: group commit. Writes that arrive while the connection is busy are run together in one
 * `BEGIN IMMEDIATE … COMMIT`, each inside its own savepoint, so that a write that fails (a taken number) rolls back
 * alone and the others still commit; every write is answered only after the one COMMIT, whose fsync
 * (`synchronous=FULL`) makes all of them durable at once. A batch is as large as what queued up while the previous
 * one ran: no write waits for a timer.
 */
export function createTransact(store: Store, options: { onBatch?: (size: number) => void } = {}): Transact {
  const { db } = store;
  if (store.dialect === 'postgres') {
    return (work) => db.transaction().execute((trx) => work(trx));
  }
  const handle: SQLite.Database = store.sqlite;

  let queue: Queued[] = [];
  let scheduled = false;

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    // After the I/O callbacks of this turn: requests that arrived together join the same batch.
    setImmediate(() => void runBatch());
  };

  async function runBatch(): Promise<void> {
    const batch = queue;
    queue = [];
    options.onBatch?.(batch.length);
    try {
      await db.connection().execute(async (conn) => {
        const outcomes: ({ ok: true; value: unknown } | { ok: false; error: unknown })[] = [];
        await sql`begin immediate`.execute(conn);
        try {
          for (const [i, item] of batch.entries()) {
            const savepoint = sql.raw(`w${i}`);
            await sql`savepoint ${savepoint}`.execute(conn);
            try {
              outcomes.push({ ok: true, value: await item.work(conn) });
              await sql`release ${savepoint}`.execute(conn);
            } catch (error) {
              outcomes.push({ ok: false, error });
              // A statement error leaves the transaction open: undo this write alone. Some errors (a full disk)
              // end the whole transaction; then every write of the batch fails below.
              if (!handle.inTransaction) throw error;
              await sql`rollback to ${savepoint}`.execute(conn);
              await sql`release ${savepoint}`.execute(conn);
            }
          }
          await sql`commit`.execute(conn);
        } catch (error) {
          if (handle.inTransaction) await sql`rollback`.execute(conn).catch(() => {});
          throw error;
        }
        // Committed: now each write has its answer.
        outcomes.forEach((o, i) => (o.ok ? batch[i]!.resolve(o.value) : batch[i]!.reject(o.error)));
      });
    } catch (error) {
      // The batch did not commit: nothing of it is stored, and every write of it fails.
      for (const item of batch) item.reject(error);
    } finally {
      scheduled = false;
      if (queue.length > 0) schedule();
    }
  }

  return <T>(work: (trx: Kysely<Database>) => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      schedule();
    });
}
