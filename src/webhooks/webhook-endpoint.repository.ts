import type { Kysely, Updateable } from 'kysely';
import type { Database, WebhookEndpointRow, WebhookEndpointTable } from '../db/schema.js';
import type { Tenant } from '../shared/request-context.js';

/** A stream's webhook endpoints; every query is confined to the tenant first. */
export function createWebhookEndpointRepository(db: Kysely<Database>) {
  const inStream = (tenant: Tenant) =>
    db.selectFrom('webhook_endpoints').where('stream_id', '=', tenant.streamId).where('account_id', '=', tenant.accountId);

  return {
    async insert(row: WebhookEndpointRow): Promise<void> {
      await db.insertInto('webhook_endpoints').values(row).execute();
    },

    async find(tenant: Tenant, id: string): Promise<WebhookEndpointRow | undefined> {
      return inStream(tenant).selectAll().where('id', '=', id).executeTakeFirst();
    },

    /** Oldest first; `after` is the last endpoint of the previous page. */
    async page(tenant: Tenant, after: { createdAt: number; id: string } | undefined, limit: number): Promise<WebhookEndpointRow[]> {
      let q = inStream(tenant).selectAll();
      if (after) q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '>', eb.tuple(after.createdAt, after.id)));
      return q.orderBy('created_at').orderBy('id').limit(limit).execute();
    },

    /** The enabled endpoints of the stream: those a write's events go to. */
    async enabled(tenant: Tenant): Promise<Pick<WebhookEndpointRow, 'id' | 'events'>[]> {
      return inStream(tenant).select(['id', 'events']).where('disabled', '=', 0).execute();
    },

    async update(tenant: Tenant, id: string, changes: Updateable<WebhookEndpointTable>): Promise<WebhookEndpointRow | undefined> {
      return db
        .updateTable('webhook_endpoints')
        .set(changes)
        .where('stream_id', '=', tenant.streamId)
        .where('account_id', '=', tenant.accountId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    },

    /** Removes the endpoint with its deliveries and their log. */
    async remove(tenant: Tenant, id: string): Promise<boolean> {
      const gone = await db
        .deleteFrom('webhook_endpoints')
        .where('stream_id', '=', tenant.streamId)
        .where('account_id', '=', tenant.accountId)
        .where('id', '=', id)
        .executeTakeFirst();
      if (Number(gone.numDeletedRows) === 0) return false;
      await db.deleteFrom('webhook_attempts').where('endpoint_id', '=', id).execute();
      await db.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
      return true;
    },

    /** An endpoint that answered 410 Gone gets no more deliveries until it is enabled again. */
    async disable(id: string, reason: string, now: number): Promise<void> {
      await db.updateTable('webhook_endpoints').set({ disabled: 1, disabled_reason: reason, updated_at: now }).where('id', '=', id).execute();
    },
  };
}

export type WebhookEndpointRepository = ReturnType<typeof createWebhookEndpointRepository>;

/** `events` as stored: `*` for all, else the types between commas. */
export function storedEvents(events: readonly string[] | undefined): string {
  return events === undefined ? '*' : `,${[...new Set(events)].join(',')},`;
}

export function subscribes(stored: string, type: string): boolean {
  return stored === '*' || stored.includes(`,${type},`);
}
