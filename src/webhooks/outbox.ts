import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { newObjectId } from '../shared/ids.js';
import type { Tenant } from '../shared/request-context.js';
import { createWebhookEndpointRepository, subscribes } from './webhook-endpoint.repository.js';
import { eventBody, type OutboxEvent } from './webhook-events.js';

// Rows of the fan-out inserted per statement, well under SQLite's bound-parameter limit.
const INSERT_BATCH = 500;

/**
 * Records events in the transaction of the change they tell (the outbox): call it with that transaction, so a
 * committed change always has its events and a rolled-back one never does. Each event gets one delivery per enabled
 * endpoint of the stream that subscribes to its type, which the delivery worker sends after the commit. A stream
 * without endpoints costs one indexed read.
 */
export function createOutbox(trx: Kysely<Database>) {
  return {
    async publish(tenant: Tenant, events: OutboxEvent[], now: number): Promise<void> {
      if (events.length === 0) return;
      const endpoints = await createWebhookEndpointRepository(trx).enabled(tenant);
      if (endpoints.length === 0) return;
      const wanted = events.map((e) => ({ event: e, to: endpoints.filter((ep) => subscribes(ep.events, e.type)).map((ep) => ep.id) })).filter((w) => w.to.length > 0);
      for (let i = 0; i < wanted.length; i += INSERT_BATCH) {
        const part = wanted.slice(i, i + INSERT_BATCH);
        const ids = part.map(() => `msg_${newObjectId(now)}`);
        const rows = await trx
          .insertInto('webhook_events')
          .values(
            part.map(({ event }, j) => ({
              id: ids[j]!,
              stream_id: tenant.streamId,
              account_id: tenant.accountId,
              type: event.type,
              subject: event.subject,
              payload: eventBody(event.type, now, event.data),
              created_at: now,
            })),
          )
          .returning(['seq', 'id'])
          .execute();
        // The order of RETURNING's rows is not promised: each is matched by its id.
        const seqOf = new Map(rows.map((r) => [r.id, Number(r.seq)]));
        const deliveries = part.flatMap(({ event, to }, j) =>
          to.map((endpointId) => ({
            endpoint_id: endpointId,
            event_seq: seqOf.get(ids[j]!)!,
            stream_id: tenant.streamId,
            account_id: tenant.accountId,
            subject: event.subject,
            state: 'pending' as const,
            next_attempt_at: now,
            lease_token: null,
            lease_expires_at: null,
            last_status: null,
            last_error: null,
            created_at: now,
            finished_at: null,
          })),
        );
        for (let k = 0; k < deliveries.length; k += INSERT_BATCH) {
          await trx.insertInto('webhook_deliveries').values(deliveries.slice(k, k + INSERT_BATCH)).execute();
        }
      }
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
