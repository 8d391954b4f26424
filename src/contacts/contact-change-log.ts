import type { Kysely } from 'kysely';
import type { ContactRow, Database } from '../db/schema.js';
import { contactChanges } from '../history/contact-diff.js';
import { createHistoryRepository } from '../history/history.repository.js';
import type { Actor, Tenant } from '../shared/request-context.js';
import { createOutbox } from '../webhooks/outbox.js';
import type { OutboxEvent } from '../webhooks/webhook-events.js';
import { toContact } from './contact.mapper.js';

/** One change to one contact, as the write that made it saw it. */
export interface ContactChange {
  action: 'created' | 'updated' | 'deleted' | 'restored' | 'reverted';
  /** The contact before the change; absent for a new one. */
  before?: ContactRow;
  after: ContactRow;
  /** The import whose revert made the change. */
  importId?: string;
}

/**
 * The one path every contact write takes to be told: a history entry per change and the webhook event it makes,
 * both written with the transaction the caller passes, the one of the change itself — so a committed change always
 * has both, and a rolled-back one neither. (Imports write their entries set-wise in their own store, and one event
 * for the whole import: imports/import-history.*.ts; the contacts they create get their entry at their first change,
 * history/imported-creation.ts.)
 */
export function createContactChangeLog(trx: Kysely<Database>) {
  const history = createHistoryRepository(trx);
  const outbox = createOutbox(trx);
  return {
    async record(tenant: Tenant, actor: Pick<Actor, 'userId' | 'appId'>, writes: ContactChange[], now: number): Promise<void> {
      if (writes.length === 0) return;
      const events: OutboxEvent[] = [];
      const rows = writes.map((w) => {
        const changes = contactChanges(w.before, w.after);
        const contact = toContact(w.after);
        if (w.action === 'updated' || (w.action === 'reverted' && w.after.status === 'ACTIVE')) {
          events.push({ type: 'contact.updated', subject: w.after.id, data: { contact, changes } });
        } else if (w.action === 'reverted') {
          events.push({ type: 'contact.deleted', subject: w.after.id, data: { contact } });
        } else {
          events.push({ type: `contact.${w.action}`, subject: w.after.id, data: { contact } });
        }
        return {
          stream_id: tenant.streamId,
          account_id: tenant.accountId,
          contact_id: w.after.id,
          at: now,
          action: w.action,
          user_id: actor.userId,
          app_id: actor.appId,
          import_id: w.importId ?? null,
          changes: JSON.stringify(changes),
        };
      });
      // An imported contact's first change writes its creation's entry first (history/imported-creation.ts).
      await history.writePendingCreations(tenant, writes.flatMap((w) => (w.before ? [w.before] : [])));
      await history.insertMany(tenant, rows);
      await outbox.publish(tenant, events, now);
    },
  };
}

export type ContactChangeLog = ReturnType<typeof createContactChangeLog>;
