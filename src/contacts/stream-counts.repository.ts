import type SQLite from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { preparedQuery, type SlotOf } from '../db/prepared.js';
import type { Tenant } from '../shared/request-context.js';

/** A change to a stream's numbers of ACTIVE and INACTIVE contacts. */
export interface CountDelta {
  active: number;
  inactive: number;
}

export interface StreamCounts {
  active: number;
  inactive: number;
}

/**
 * Rows a stream's counts are spread over. Each write adds to one row picked at random, so concurrent writers on
 * PostgreSQL rarely wait for each other's commit on the same row lock; a read sums at most this many rows.
 */
export const COUNT_SHARDS = 8;

const pickShard = () => Math.floor(Math.random() * COUNT_SHARDS);

const UPSERT_SQL = `insert into stream_counts (stream_id, shard, account_id, active, inactive) values (?, ?, ?, ?, ?)
  on conflict (stream_id, shard) do update set active = stream_counts.active + excluded.active, inactive = stream_counts.inactive + excluded.inactive`;

// Read on every unfiltered page.
const readCounts = preparedQuery((db: Kysely<Database>, slot: SlotOf<{ streamId: string; accountId: string }>) =>
  db
    .selectFrom('stream_counts')
    .select((eb) => [eb.fn.sum<number | string | null>('active').as('active'), eb.fn.sum<number | string | null>('inactive').as('inactive')])
    .where('stream_id', '=', slot('streamId'))
    .where('account_id', '=', slot('accountId')),
);

/**
 * The per-stream counts behind the unfiltered `totalResults`. Every write that adds contacts or changes their status
 * calls `adjust` inside its own transaction, so a count is exact whenever that transaction's contacts are visible.
 */
export function createStreamCountsRepository(db: Kysely<Database>) {
  return {
    async adjust(tenant: Tenant, delta: CountDelta): Promise<void> {
      if (delta.active === 0 && delta.inactive === 0) return;
      await db
        .insertInto('stream_counts')
        .values({ stream_id: tenant.streamId, shard: pickShard(), account_id: tenant.accountId, active: delta.active, inactive: delta.inactive })
        .onConflict((oc) =>
          oc.columns(['stream_id', 'shard']).doUpdateSet({
            active: sql<number>`stream_counts.active + excluded.active`,
            inactive: sql<number>`stream_counts.inactive + excluded.inactive`,
          }),
        )
        .execute();
    },

    async read(tenant: Tenant): Promise<StreamCounts> {
      const [row] = await readCounts(db, { streamId: tenant.streamId, accountId: tenant.accountId });
      return { active: Number(row?.active ?? 0), inactive: Number(row?.inactive ?? 0) };
    },
  };
}

/**
 * The import's SQLite store writes through prepared statements on the connection, inside its own `BEGIN IMMEDIATE`;
 * this adds a batch's new contacts there, in that transaction.
 */
export function sqliteStreamCounter(handle: SQLite.Database): (tenant: Tenant, delta: CountDelta) => void {
  const upsert = handle.prepare(UPSERT_SQL);
  return (tenant, delta) => {
    if (delta.active === 0 && delta.inactive === 0) return;
    upsert.run(tenant.streamId, pickShard(), tenant.accountId, delta.active, delta.inactive);
  };
}

/** The same on the PostgreSQL import's batch client, inside the batch's transaction. */
export async function adjustStreamCountsOn(
  client: { query(text: string, values: unknown[]): Promise<unknown> },
  tenant: Tenant,
  delta: CountDelta,
): Promise<void> {
  if (delta.active === 0 && delta.inactive === 0) return;
  let n = 0;
  await client.query(UPSERT_SQL.replace(/\?/g, () => `$${++n}`), [tenant.streamId, pickShard(), tenant.accountId, delta.active, delta.inactive]);
}
