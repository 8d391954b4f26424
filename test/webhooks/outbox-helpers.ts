import type { Store } from '../../src/db/database.js';
import { createOutbox } from '../../src/webhooks/outbox.js';
import type { OutboxEvent } from '../../src/webhooks/webhook-events.js';
import type { Tenant } from '../helpers/app.js';

/** Events committed to the outbox as a write would, in one transaction of their own. */
export async function publish(store: Store, tenant: Tenant, events: OutboxEvent[]): Promise<void> {
  await store.db.transaction().execute((trx) => createOutbox(trx).publish(tenant, events, Date.now()));
}

export const contactEvent = (subject: string, n: number): OutboxEvent => ({ type: 'contact.updated', subject, data: { contact: { id: subject }, n } });

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
