import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { Database, DeliveryState, WebhookDeliveryRow } from '../db/schema.js';
import type { Tenant } from '../shared/request-context.js';

/** A claimed delivery with what its try needs: the event's body and the endpoint's URL and secrets. */
export interface ClaimedDelivery {
  endpointId: string;
  eventSeq: number;
  eventId: string;
  body: string;
  url: string;
  secret: string;
  previousSecret: string | null;
  previousSecretUntil: number | null;
  roundAttempts: number;
  attempts: number;
}

export interface TryOutcome {
  at: number;
  status: number | null;
  latencyMs: number;
  error: string | null;
  /** The INSTANCE_ID of the process that made the try. */
  instance: string;
  /** delivered, pending again at `nextAttemptAt`, or failed (tries used up, or 410). */
  state: DeliveryState;
  nextAttemptAt: number;
}

export interface DeliveryListing extends WebhookDeliveryRow {
  event_id: string;
  type: string;
}

/** Deliveries of webhook events and their log of tries. */
export function createDeliveryRepository(db: Kysely<Database>, dialect: Dialect) {
  return {
    /**
     * Leases up to `limit` deliveries that are due, of enabled endpoints, each the first one pending of its endpoint
     * and subject (so a subject's events reach an endpoint in order). One statement: the lease conditions are checked
     * again on the row it updates, so two instances never lease the same delivery; PostgreSQL skips rows another
     * claimer has locked instead of waiting for it.
     */
    async claim(token: string, now: number, leaseMs: number, limit: number): Promise<ClaimedDelivery[]> {
      // A read first: an idle worker polls with it alone, and takes no write lock (SQLite) to find nothing due.
      const due = await db
        .selectFrom('webhook_deliveries')
        .select('event_seq')
        .where('state', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .limit(1)
        .executeTakeFirst();
      if (!due) return [];
      const lock = dialect === 'postgres' ? sql`for update of d skip locked` : sql``;
      // The pick is a materialized CTE, run once. Written inline in `in (…)`, PostgreSQL ran it as the inner side of a
      // semi join, again for each row the update visited, each run skipping the rows just leased: the limit held per
      // run, and a worker with room for one try leased every delivery that was due.
      const claimed = await sql<{ endpoint_id: string; event_seq: number | string; round_attempts: number; attempts: number }>`
        with picked as materialized (
          select d.endpoint_id, d.event_seq from webhook_deliveries d
          join webhook_endpoints ep on ep.id = d.endpoint_id and ep.disabled = 0
          where d.state = 'pending' and d.next_attempt_at <= ${now}
            and (d.lease_expires_at is null or d.lease_expires_at < ${now})
            and not exists (
              select 1 from webhook_deliveries p
              where p.endpoint_id = d.endpoint_id and p.subject = d.subject and p.event_seq < d.event_seq and p.state = 'pending'
            )
          order by d.next_attempt_at, d.event_seq
          limit ${limit}
          ${lock}
        )
        update webhook_deliveries set lease_token = ${token}, lease_expires_at = ${now + leaseMs}
        where (endpoint_id, event_seq) in (select endpoint_id, event_seq from picked)
        and state = 'pending' and (lease_expires_at is null or lease_expires_at < ${now})
        returning endpoint_id, event_seq, round_attempts, attempts`.execute(db);
      if (claimed.rows.length === 0) return [];
      const seqs = [...new Set(claimed.rows.map((r) => Number(r.event_seq)))];
      const endpointIds = [...new Set(claimed.rows.map((r) => r.endpoint_id))];
      const events = await db.selectFrom('webhook_events').select(['seq', 'id', 'payload']).where('seq', 'in', seqs).execute();
      const endpoints = await db
        .selectFrom('webhook_endpoints')
        .select(['id', 'url', 'secret', 'previous_secret', 'previous_secret_until'])
        .where('id', 'in', endpointIds)
        .execute();
      const eventOf = new Map(events.map((e) => [Number(e.seq), e]));
      const endpointOf = new Map(endpoints.map((e) => [e.id, e]));
      return claimed.rows.flatMap((r) => {
        const event = eventOf.get(Number(r.event_seq));
        const endpoint = endpointOf.get(r.endpoint_id);
        if (!event || !endpoint) return [];
        return [{
          endpointId: r.endpoint_id,
          eventSeq: Number(r.event_seq),
          eventId: event.id,
          body: event.payload,
          url: endpoint.url,
          secret: endpoint.secret,
          previousSecret: endpoint.previous_secret,
          previousSecretUntil: endpoint.previous_secret_until === null ? null : Number(endpoint.previous_secret_until),
          roundAttempts: Number(r.round_attempts),
          attempts: Number(r.attempts),
        }];
      });
    },

    /** Logs a try and moves the delivery on, if this holder still has its lease; false when it lost it. */
    async recordTry(endpointId: string, eventSeq: number, token: string, attempt: number, outcome: TryOutcome): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const moved = await trx
          .updateTable('webhook_deliveries')
          .set((eb) => ({
            state: outcome.state,
            attempts: eb('attempts', '+', 1),
            round_attempts: eb('round_attempts', '+', 1),
            next_attempt_at: outcome.nextAttemptAt,
            lease_token: null,
            lease_expires_at: null,
            last_status: outcome.status,
            last_error: outcome.error,
            finished_at: outcome.state === 'pending' ? null : outcome.at,
          }))
          .where('endpoint_id', '=', endpointId)
          .where('event_seq', '=', eventSeq)
          .where('lease_token', '=', token)
          .executeTakeFirst();
        if (Number(moved.numUpdatedRows) === 0) return false;
        await trx
          .insertInto('webhook_attempts')
          .values({ endpoint_id: endpointId, event_seq: eventSeq, attempt, at: outcome.at, status: outcome.status, latency_ms: outcome.latencyMs, error: outcome.error, instance: outcome.instance })
          .execute();
        return true;
      });
    },

    /** An endpoint's deliveries, newest first; `before` is the last event of the previous page. */
    async page(tenant: Tenant, endpointId: string, before: number | undefined, limit: number, state?: DeliveryState): Promise<DeliveryListing[]> {
      let q = db
        .selectFrom('webhook_deliveries as d')
        .innerJoin('webhook_events as e', 'e.seq', 'd.event_seq')
        .selectAll('d')
        .select(['e.id as event_id', 'e.type'])
        .where('d.stream_id', '=', tenant.streamId)
        .where('d.account_id', '=', tenant.accountId)
        .where('d.endpoint_id', '=', endpointId);
      if (before !== undefined) q = q.where('d.event_seq', '<', before);
      if (state) q = q.where('d.state', '=', state);
      return q.orderBy('d.event_seq', 'desc').limit(limit).execute() as Promise<DeliveryListing[]>;
    },

    async find(tenant: Tenant, endpointId: string, eventId: string): Promise<DeliveryListing | undefined> {
      return db
        .selectFrom('webhook_deliveries as d')
        .innerJoin('webhook_events as e', 'e.seq', 'd.event_seq')
        .selectAll('d')
        .select(['e.id as event_id', 'e.type'])
        .where('d.stream_id', '=', tenant.streamId)
        .where('d.account_id', '=', tenant.accountId)
        .where('d.endpoint_id', '=', endpointId)
        .where('e.id', '=', eventId)
        .executeTakeFirst() as Promise<DeliveryListing | undefined>;
    },

    async attempts(endpointId: string, eventSeqs: number[]) {
      if (eventSeqs.length === 0) return [];
      return db
        .selectFrom('webhook_attempts')
        .selectAll()
        .where('endpoint_id', '=', endpointId)
        .where('event_seq', 'in', eventSeqs)
        .orderBy('event_seq')
        .orderBy('attempt')
        .execute();
    },

    /**
     * Removes deliveries that ended before `before` with their log, then the events no delivery refers to any more
     * (made before `before`: a newer one may be in a transaction that has not added its deliveries yet).
     */
    async sweep(before: number): Promise<number> {
      const ended = await db
        .selectFrom('webhook_deliveries')
        .select(['endpoint_id', 'event_seq'])
        .where('state', '!=', 'pending')
        .where('finished_at', '<', before)
        .limit(1000)
        .execute();
      for (const d of ended) {
        await db.deleteFrom('webhook_attempts').where('endpoint_id', '=', d.endpoint_id).where('event_seq', '=', d.event_seq).execute();
        await db.deleteFrom('webhook_deliveries').where('endpoint_id', '=', d.endpoint_id).where('event_seq', '=', d.event_seq).where('state', '!=', 'pending').execute();
      }
      await db
        .deleteFrom('webhook_events')
        .where('created_at', '<', before)
        .where((eb) => eb.not(eb.exists(eb.selectFrom('webhook_deliveries as d').select('d.event_seq').whereRef('d.event_seq', '=', 'webhook_events.seq'))))
        .execute();
      return ended.length;
    },

    /**
     * Queues deliveries again from the start of the schedule (same event, same webhook-id): one, or (`eventSeq`
     * undefined) every failed one of the endpoint. A delivery being tried right now is left to its try.
     */
    async replay(tenant: Tenant, endpointId: string, eventSeq: number | undefined, now: number): Promise<number> {
      let q = db
        .updateTable('webhook_deliveries')
        .set({ state: 'pending', round_attempts: 0, next_attempt_at: now, finished_at: null, lease_token: null, lease_expires_at: null })
        .where('stream_id', '=', tenant.streamId)
        .where('account_id', '=', tenant.accountId)
        .where('endpoint_id', '=', endpointId)
        .where((eb) => eb.or([eb('state', '!=', 'pending'), eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<', now)]));
      q = eventSeq === undefined ? q.where('state', '=', 'failed') : q.where('event_seq', '=', eventSeq);
      const r = await q.executeTakeFirst();
      return Number(r.numUpdatedRows);
    },
  };
}

export type DeliveryRepository = ReturnType<typeof createDeliveryRepository>;
