import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { isStoreUnavailable } from '../../src/db/errors.js';
import { createTestStore, skipReason, type TestStore } from '../helpers/stores.js';

// PostgreSQL only: SQLite has no connection to lose. Ending our own backend touches no other test's session.
describe('a PostgreSQL connection that drops while a transaction holds it', { skip: await skipReason('postgres') }, () => {
  let store: TestStore;

  before(async () => {
    store = await createTestStore('postgres');
  });
  after(async () => {
    await store?.destroy();
  });

  async function terminateBackend(pid: number): Promise<void> {
    if (store.url.kind !== 'postgres') throw new Error('not a PostgreSQL store');
    const admin = new pg.Client({ connectionString: store.url.url });
    await admin.connect();
    try {
      await admin.query('select pg_terminate_backend($1)', [pid]);
    } finally {
      await admin.end();
    }
  }

  it('fails that transaction as "store unavailable" instead of killing the process', async () => {
    // Between two statements the client has no query under way, so pg reports the loss as an 'error' event on
    // the client itself; unheard, that event would be an uncaught exception and end the whole server.
    const outcome = await store.store.db
      .transaction()
      .execute(async (trx) => {
        const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
        await terminateBackend(rows[0]!.pid);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await sql`select 1`.execute(trx);
      })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    assert.ok(outcome instanceof Error, 'the transaction should have failed');
    assert.ok(isStoreUnavailable(outcome), `not recognised as unavailable: ${(outcome as Error).message}`);
  });

  it('serves the next query from a fresh connection', async () => {
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(store.store.db);
    assert.equal(rows[0]!.one, 1);
  });
});
